/* Raw C contender for nslink's netns benchmark: create and delete a named
 * network namespace N times, with the system calls `ip netns add` and
 * `ip netns del` make, on one thread, no library.
 *
 * Usage: netns_named N DIR NAME
 * Per iteration: mkdir DIR (EEXIST is fine) and make it a shared mount
 * point (bind it onto itself first if it is not a mount point), create
 * DIR/NAME with O_EXCL, unshare(CLONE_NEWNET), bind-mount
 * /proc/thread-self/ns/net onto DIR/NAME, setns back to where the thread
 * was; then umount2(MNT_DETACH) and unlink. Prints the elapsed nanoseconds
 * on stdout (the process start is not counted). Needs CAP_SYS_ADMIN.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* DIR exists and is a shared mount point. */
static int prepare(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0)
		return -1;
	return mount("", dir, "none", MS_SHARED | MS_REC, NULL);
}

static int add(const char *dir, const char *path, int home)
{
	if (prepare(dir) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	close(fd);
	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	int r = mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL);
	if (setns(home, CLONE_NEWNET) < 0)
		return -1;
	return r;
}

static int del(const char *path)
{
	if (umount2(path, MNT_DETACH) < 0)
		return -1;
	return unlink(path);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s N DIR NAME\n", argv[0]);
		return 2;
	}
	long n = strtol(argv[1], NULL, 10);
	const char *dir = argv[2];
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, argv[3]);
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		perror("open home");
		return 1;
	}
	long long start = now_ns();
	for (long i = 0; i < n; i++) {
		if (add(dir, path, home) < 0 || del(path) < 0) {
			perror(path);
			return 1;
		}
	}
	printf("%lld\n", now_ns() - start);
	return 0;
}
