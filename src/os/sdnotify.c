#include "os/sdnotify.h"

#include <stdbool.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

static void notify(bool ready, bool stopping, const char *status)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "%s%s%s%s", ready ? "READY=1\n" : "",
		 stopping ? "STOPPING=1\n" : "", status ? "STATUS=" : "", status ? status : "");
	/* errors are not ours to handle: without systemd nobody listens */
	(void)sd_notify(0, msg);
}

void sdnotify_ready(const char *status)
{
	notify(true, false, status);
}

void sdnotify_status(const char *status)
{
	if (status)
		notify(false, false, status);
}

void sdnotify_waiting(const char *status, uint64_t extend_ms)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "STATUS=%s\nEXTEND_TIMEOUT_USEC=%llu", status ? status : "",
		 (unsigned long long)extend_ms * 1000ull);
	(void)sd_notify(0, msg);
}

void sdnotify_stopping(const char *status)
{
	notify(false, true, status);
}

uint64_t sdnotify_watchdog_ms(void)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	return usec >= 1000 ? usec / 1000 : 1;
}

void sdnotify_watchdog(void)
{
	(void)sd_notify(0, "WATCHDOG=1");
}
