/*
 * sdnotify: what arphad tells systemd (Type=notify, WatchdogSec=), through
 * libsystemd's sd_notify. Started by anything else (no NOTIFY_SOCKET in
 * the environment) every call does nothing, so the calls need no guard.
 */
#ifndef ARPHA_OS_SDNOTIFY_H
#define ARPHA_OS_SDNOTIFY_H

#include <stdint.h>

/* READY=1 with a STATUS= line (status may be NULL). */
void sdnotify_ready(const char *status);

/* A STATUS= line alone (what `systemctl status` shows). */
void sdnotify_status(const char *status);

/*
 * A STATUS= line while the start waits (for a device), with
 * EXTEND_TIMEOUT_USEC: systemd's start timeout (TimeoutStartSec=) is
 * extended to at least extend_ms from now.
 */
void sdnotify_waiting(const char *status, uint64_t extend_ms);

/* STOPPING=1 with a STATUS= line: the graceful stop has begun. */
void sdnotify_stopping(const char *status);

/*
 * The watchdog interval systemd asks for (WatchdogSec=, from WATCHDOG_USEC
 * and WATCHDOG_PID) in ms, rounded down and at least 1; 0 when there is none
 * or it is meant for another process (arphad forked without -d).
 */
uint64_t sdnotify_watchdog_ms(void);

/* WATCHDOG=1: the loop is alive. */
void sdnotify_watchdog(void);

#endif
