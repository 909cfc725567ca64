/* The test tools' one shared step: room for many sockets. */
#ifndef ARPHA_TESTS_TOOLS_NOFILE_H
#define ARPHA_TESTS_TOOLS_NOFILE_H

#include <err.h>
#include <sys/resource.h>

/* The soft open-files limit to want, or to the hard limit if that is all we get. */
static inline void raise_nofile(rlim_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rlim_t hard = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = hard > want ? hard : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return;
	rl.rlim_cur = rl.rlim_max = hard;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		warn("raising the open files limit to %llu", (unsigned long long)hard);
}

#endif
