/*
 * Raw C contender for the veth benchmarks (benches/links.rs, benches/groups.rs):
 * rtnetlink by hand, no library. Runs in the namespace it is started in.
 *
 *   veth pairs N        create N veth pairs cvNNN/cvpNNN, one RTM_NEWLINK each
 *                       (acknowledged, nothing read back), then delete them
 *                       one by one (RTM_DELLINK by name); prints
 *                       "CREATE_NS DELETE_NS"
 *   veth group N G      create N pairs with the first end in group G
 *                       (untimed; N = 0 for pairs made beforehand), then
 *                       delete the group with one RTM_DELLINK carrying
 *                       IFLA_GROUP; prints the delete's ns
 *
 * Only the timed parts are measured (CLOCK_MONOTONIC); any refusal is fatal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fd;
static uint32_t seq;
static char req[1024];
static char ans[65536];

static void die(const char *what, int err)
{
	fprintf(stderr, "veth.c: %s: %s\n", what, strerror(err));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Appends an attribute to the message at h; returns it. */
static struct rtattr *put(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

/* Closes a nested attribute opened by put(h, type, NULL, 0). */
static void end(struct nlmsghdr *h, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)nest);
}

static struct nlmsghdr *start(int type, int flags)
{
	struct nlmsghdr *h = (struct nlmsghdr *)req;
	memset(req, 0, sizeof(req));
	h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	h->nlmsg_type = (unsigned short)type;
	h->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
	h->nlmsg_seq = ++seq;
	return h;
}

/* Sends the request and waits for its ack; returns the kernel's errno. */
static int talk(struct nlmsghdr *h)
{
	if (send(fd, h, h->nlmsg_len, 0) < 0)
		die("send", errno);
	for (;;) {
		ssize_t n = recv(fd, ans, sizeof(ans), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv", errno);
		}
		for (struct nlmsghdr *r = (struct nlmsghdr *)ans; NLMSG_OK(r, (size_t)n);
		     r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_seq != h->nlmsg_seq || r->nlmsg_type != NLMSG_ERROR)
				continue;
			return -((struct nlmsgerr *)NLMSG_DATA(r))->error;
		}
	}
}

static void create(int i, int group)
{
	char name[IFNAMSIZ], peer[IFNAMSIZ];
	snprintf(name, sizeof(name), "cv%03d", i);
	snprintf(peer, sizeof(peer), "cvp%03d", i);
	struct nlmsghdr *h = start(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	put(h, IFLA_IFNAME, name, strlen(name) + 1);
	if (group >= 0) {
		uint32_t g = (uint32_t)group;
		put(h, IFLA_GROUP, &g, sizeof(g));
	}
	struct rtattr *info = put(h, IFLA_LINKINFO, NULL, 0);
	put(h, IFLA_INFO_KIND, "veth", 4);
	struct rtattr *data = put(h, IFLA_INFO_DATA, NULL, 0);
	/* VETH_INFO_PEER: a struct ifinfomsg, then the peer's attributes. */
	struct rtattr *p = put(h, VETH_INFO_PEER, NULL, 0);
	h->nlmsg_len += NLMSG_ALIGN(sizeof(struct ifinfomsg));
	put(h, IFLA_IFNAME, peer, strlen(peer) + 1);
	end(h, p);
	end(h, data);
	end(h, info);
	int err = talk(h);
	if (err)
		die(name, err);
}

static void delete_by_name(int i)
{
	char name[IFNAMSIZ];
	snprintf(name, sizeof(name), "cv%03d", i);
	struct nlmsghdr *h = start(RTM_DELLINK, 0);
	put(h, IFLA_IFNAME, name, strlen(name) + 1);
	int err = talk(h);
	if (err)
		die(name, err);
}

static void delete_group(uint32_t group)
{
	struct nlmsghdr *h = start(RTM_DELLINK, 0);
	put(h, IFLA_GROUP, &group, sizeof(group));
	int err = talk(h);
	if (err)
		die("group delete", err);
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "pairs") && strcmp(argv[1], "group")) ||
	    (!strcmp(argv[1], "group") && argc < 4)) {
		fprintf(stderr, "usage: veth pairs N | veth group N GROUP\n");
		return 2;
	}
	int n = atoi(argv[2]);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		die("socket", errno);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind", errno);
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));

	if (!strcmp(argv[1], "pairs")) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < n; i++)
			create(i, -1);
		uint64_t t1 = now_ns();
		for (int i = 0; i < n; i++)
			delete_by_name(i);
		uint64_t t2 = now_ns();
		printf("%llu %llu\n", (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1));
	} else {
		int group = atoi(argv[3]);
		for (int i = 0; i < n; i++)
			create(i, group);
		uint64_t t0 = now_ns();
		delete_group((uint32_t)group);
		uint64_t t1 = now_ns();
		printf("%llu\n", (unsigned long long)(t1 - t0));
	}
	return 0;
}
