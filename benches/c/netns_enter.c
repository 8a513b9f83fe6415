/* Raw C contender for nslink's netns benchmark: enter a network namespace
 * and come back, N times, with nothing but setns(2).
 *
 * Usage: netns_enter N
 * Makes its own target namespace first (unshare(2), untimed), then times N
 * pairs of setns(target) + setns(home) and prints the elapsed nanoseconds
 * on stdout, so that the process start is not counted. Needs CAP_SYS_ADMIN.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s N\n", argv[0]);
		return 2;
	}
	long n = strtol(argv[1], NULL, 10);
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0 || unshare(CLONE_NEWNET) < 0) {
		perror("home/unshare");
		return 1;
	}
	int target = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (target < 0 || setns(home, CLONE_NEWNET) < 0) {
		perror("target/setns home");
		return 1;
	}
	long long start = now_ns();
	for (long i = 0; i < n; i++) {
		if (setns(target, CLONE_NEWNET) < 0 || setns(home, CLONE_NEWNET) < 0) {
			perror("setns");
			return 1;
		}
	}
	printf("%lld\n", now_ns() - start);
	return 0;
}
