/*
 * The raw C floor of the dump benchmarks (benches/dumps.rs): one netlink
 * socket, dump requests written by hand, every reply walked attribute by
 * attribute and the fields nslink decodes copied into an array of plain
 * structs (grown with realloc, freed after each dump), as a decoder would.
 *
 *   dump KIND ITERS     KIND: link | addr | route | neigh
 *
 * Runs ITERS dumps of KIND and prints "<elapsed ns> <entries of the last
 * dump>" on stdout. The socket is set up like nslink's (extended acks,
 * strict checking, a 4 MiB receive buffer) before the clock starts. Dumps
 * are asked the way nslink asks them: links with RTEXT_FILTER_SKIP_STATS,
 * addresses and neighbours in one AF_UNSPEC dump, routes as an AF_INET dump
 * then an AF_INET6 dump.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif
#ifndef RTA_VIA
#define RTA_VIA 18
#endif

/* What nslink keeps of each kind of entry. */
struct link {
	int index;
	unsigned flags, mtu, master, link, txqlen, group, promisc;
	unsigned char operstate, carrier;
	char name[IFNAMSIZ];
	unsigned char mac[32];
	int mac_len;
	char kind[32];
};

struct addr {
	int index;
	unsigned char family, prefix, scope;
	unsigned flags;
	unsigned char local[16], address[16], broadcast[4];
	int has_local, has_address, has_broadcast;
	char label[IFNAMSIZ];
};

struct nexthop {
	unsigned char gateway[16];
	int index, weight, flags;
};

struct route {
	unsigned char family, dst_len, protocol, scope, type;
	unsigned table, oif, priority;
	unsigned char dst[16], gateway[16], prefsrc[16];
	int nhops;
	struct nexthop *nh;
};

struct neigh {
	int index;
	unsigned char family, flags;
	unsigned short state;
	unsigned char dst[16], lladdr[6];
	int has_lladdr;
};

static void *items;
static size_t count, cap, item_size;

static void *push(void)
{
	if (count == cap) {
		cap = cap ? 2 * cap : 16;
		items = realloc(items, cap * item_size);
		if (!items) {
			perror("realloc");
			exit(1);
		}
	}
	void *p = (char *)items + count++ * item_size;
	memset(p, 0, item_size);
	return p;
}

static void copy_addr(unsigned char *to, const struct rtattr *a)
{
	size_t n = RTA_PAYLOAD(a);
	memcpy(to, RTA_DATA(a), n > 16 ? 16 : n);
}

static unsigned u32_of(const struct rtattr *a)
{
	unsigned v = 0;
	if (RTA_PAYLOAD(a) == 4)
		memcpy(&v, RTA_DATA(a), 4);
	return v;
}

static void parse_link(struct nlmsghdr *h)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct link *l = push();
	l->index = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	int len = IFLA_PAYLOAD(h);
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_IFNAME:
			strncpy(l->name, RTA_DATA(a), IFNAMSIZ - 1);
			break;
		case IFLA_MTU: l->mtu = u32_of(a); break;
		case IFLA_MASTER: l->master = u32_of(a); break;
		case IFLA_LINK: l->link = u32_of(a); break;
		case IFLA_TXQLEN: l->txqlen = u32_of(a); break;
		case IFLA_GROUP: l->group = u32_of(a); break;
		case IFLA_PROMISCUITY: l->promisc = u32_of(a); break;
		case IFLA_OPERSTATE: l->operstate = *(unsigned char *)RTA_DATA(a); break;
		case IFLA_CARRIER: l->carrier = *(unsigned char *)RTA_DATA(a); break;
		case IFLA_ADDRESS:
			l->mac_len = RTA_PAYLOAD(a) > 32 ? 32 : RTA_PAYLOAD(a);
			memcpy(l->mac, RTA_DATA(a), l->mac_len);
			break;
		case IFLA_LINKINFO: {
			int ilen = RTA_PAYLOAD(a);
			for (struct rtattr *i = RTA_DATA(a); RTA_OK(i, ilen); i = RTA_NEXT(i, ilen))
				if (i->rta_type == IFLA_INFO_KIND)
					strncpy(l->kind, RTA_DATA(i), sizeof l->kind - 1);
			break;
		}
		}
	}
}

static void parse_addr(struct nlmsghdr *h)
{
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	struct addr *x = push();
	x->index = ifa->ifa_index;
	x->family = ifa->ifa_family;
	x->prefix = ifa->ifa_prefixlen;
	x->scope = ifa->ifa_scope;
	x->flags = ifa->ifa_flags;
	int len = IFA_PAYLOAD(h);
	for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFA_LOCAL: copy_addr(x->local, a); x->has_local = 1; break;
		case IFA_ADDRESS: copy_addr(x->address, a); x->has_address = 1; break;
		case IFA_BROADCAST: memcpy(x->broadcast, RTA_DATA(a), 4); x->has_broadcast = 1; break;
		case IFA_LABEL: strncpy(x->label, RTA_DATA(a), IFNAMSIZ - 1); break;
		case IFA_FLAGS: x->flags = u32_of(a); break;
		}
	}
}

static void parse_multipath(struct route *r, struct rtattr *a)
{
	int len = RTA_PAYLOAD(a);
	for (struct rtnexthop *nh = RTA_DATA(a); RTNH_OK(nh, len);
	     len -= RTNH_ALIGN(nh->rtnh_len), nh = RTNH_NEXT(nh)) {
		r->nh = realloc(r->nh, (r->nhops + 1) * sizeof *r->nh);
		struct nexthop *n = &r->nh[r->nhops++];
		memset(n, 0, sizeof *n);
		n->index = nh->rtnh_ifindex;
		n->weight = nh->rtnh_hops + 1;
		n->flags = nh->rtnh_flags;
		int alen = nh->rtnh_len - sizeof *nh;
		for (struct rtattr *g = RTNH_DATA(nh); RTA_OK(g, alen); g = RTA_NEXT(g, alen))
			if (g->rta_type == RTA_GATEWAY)
				copy_addr(n->gateway, g);
	}
}

static void parse_route(struct nlmsghdr *h)
{
	struct rtmsg *rtm = NLMSG_DATA(h);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return;
	struct route *r = push();
	r->family = rtm->rtm_family;
	r->dst_len = rtm->rtm_dst_len;
	r->protocol = rtm->rtm_protocol;
	r->scope = rtm->rtm_scope;
	r->type = rtm->rtm_type;
	r->table = rtm->rtm_table;
	int len = RTM_PAYLOAD(h);
	for (struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case RTA_DST: copy_addr(r->dst, a); break;
		case RTA_GATEWAY: copy_addr(r->gateway, a); break;
		case RTA_VIA: copy_addr(r->gateway, a); break;
		case RTA_PREFSRC: copy_addr(r->prefsrc, a); break;
		case RTA_OIF: r->oif = u32_of(a); break;
		case RTA_TABLE: r->table = u32_of(a); break;
		case RTA_PRIORITY: r->priority = u32_of(a); break;
		case RTA_MULTIPATH: parse_multipath(r, a); break;
		}
	}
}

static void parse_neigh(struct nlmsghdr *h)
{
	struct ndmsg *nd = NLMSG_DATA(h);
	if (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6)
		return;
	struct neigh *n = push();
	n->index = nd->ndm_ifindex;
	n->family = nd->ndm_family;
	n->state = nd->ndm_state;
	n->flags = nd->ndm_flags;
	int len = RTM_PAYLOAD(h);
	for (struct rtattr *a = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof *nd)); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case NDA_DST: copy_addr(n->dst, a); break;
		case NDA_LLADDR:
			if (RTA_PAYLOAD(a) == 6) {
				memcpy(n->lladdr, RTA_DATA(a), 6);
				n->has_lladdr = 1;
			}
			break;
		}
	}
}

static char buf[64 * 1024];
static unsigned seq;

/* One dump request of `type` with a zeroed `hdrlen`-byte header whose
 * first byte is the family, plus IFLA_EXT_MASK for links; then every reply
 * to the end. */
static void dump(int fd, int type, int family, size_t hdrlen, void (*parse)(struct nlmsghdr *))
{
	struct {
		struct nlmsghdr h;
		unsigned char body[64];
	} req;
	memset(&req, 0, sizeof req);
	req.h.nlmsg_len = NLMSG_LENGTH(hdrlen);
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = ++seq;
	req.body[0] = family;
	if (type == RTM_GETLINK) {
		struct rtattr *a = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.h.nlmsg_len));
		a->rta_type = IFLA_EXT_MASK;
		a->rta_len = RTA_LENGTH(4);
		unsigned mask = RTEXT_FILTER_SKIP_STATS;
		memcpy(RTA_DATA(a), &mask, 4);
		req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
	}
	if (send(fd, &req, req.h.nlmsg_len, 0) < 0) {
		perror("send");
		exit(1);
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recv");
			exit(1);
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				fprintf(stderr, "dump: error %d\n", e->error);
				exit(1);
			}
			parse(h);
		}
	}
}

static void free_items(int kind_route)
{
	if (kind_route)
		for (size_t i = 0; i < count; i++)
			free(((struct route *)items)[i].nh);
	free(items);
	items = NULL;
	count = cap = 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: dump link|addr|route|neigh ITERS\n");
		return 2;
	}
	const char *kind = argv[1];
	long iters = atol(argv[2]);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("bind");
		return 1;
	}
	int one = 1, rcv = 4 << 20;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
	setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);

	int is_route = !strcmp(kind, "route");
	struct timespec t0, t1;
	size_t last = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < iters; i++) {
		if (!strcmp(kind, "link")) {
			item_size = sizeof(struct link);
			dump(fd, RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), parse_link);
		} else if (!strcmp(kind, "addr")) {
			item_size = sizeof(struct addr);
			dump(fd, RTM_GETADDR, AF_UNSPEC, sizeof(struct ifaddrmsg), parse_addr);
		} else if (is_route) {
			item_size = sizeof(struct route);
			dump(fd, RTM_GETROUTE, AF_INET, sizeof(struct rtmsg), parse_route);
			dump(fd, RTM_GETROUTE, AF_INET6, sizeof(struct rtmsg), parse_route);
		} else if (!strcmp(kind, "neigh")) {
			item_size = sizeof(struct neigh);
			dump(fd, RTM_GETNEIGH, AF_UNSPEC, sizeof(struct ndmsg), parse_neigh);
		} else {
			fprintf(stderr, "dump: unknown kind %s\n", kind);
			return 2;
		}
		last = count;
		free_items(is_route);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("%lld %zu\n", ns, last);
	return 0;
}
