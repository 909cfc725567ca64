/*
 * svc: what a service of arphad is. A service (the VIPs, connection sync,
 * the responsible ranges, the neighbour cache) is one row of
 * operations in the daemon's table (daemon.c). The daemon drives the
 * table and knows no service by name; a service sees the daemon only
 * through host.h and never includes another service.
 *
 * Every operation runs inside a loop callback with the time of that
 * callback (host_now). None is re-entered: what a service publishes is
 * queued and delivered after the current handler returns, in table order.
 * The one exception is prepare_takeover, the barrier, which runs
 * synchronously (see host_prepare_takeover).
 */
#ifndef ARPHA_DAEMON_SVC_H
#define ARPHA_DAEMON_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

struct host;
struct config;
struct nl;
struct dev_ev;
struct takeover_scope;
struct view;

/*
 * One `arpha` command of a service: `arpha WORD` with no arguments. The
 * word is a command of the table arpha checks with (daemon/ctl_cmds.c:
 * add it there too, with its line of help); arphad does not start when
 * one is missing.
 */
struct svc_cmd {
	const char *word; /* "vip", "conns" */
	/*
	 * The answer, built into v (os/view.h); self NULL: the service does
	 * not run (its section is not configured).
	 */
	void (*show)(void *self, struct view *v);
	/*
	 * Instead of show, for a command with arguments (the words after the
	 * command's, their number checked against daemon/ctl_cmds.c's table):
	 * 0, or -1 with a message in err for the user. self NULL as for show.
	 */
	int (*run)(void *self, char *const *args, int nargs, struct view *v, char *err,
		   size_t errlen);
};

struct svc_ops {
	const char *name; /* "connsync", "failover" */
	/* the reliable-broadcast messages whose first byte is chan are its (0: none) */
	uint8_t chan;
	/* the heartbeat state slot it reads and writes (0: none) */
	uint8_t state_chan;
	/*
	 * Start, when cfg asks for the service: its state, or NULL with
	 * *err empty when cfg does not ask for it, or NULL with a message.
	 */
	void *(*start)(struct host *h, const struct config *cfg, char *err, size_t errlen);
	void (*free)(void *self); /* gives back what it holds in the kernel */
	/* An event (struct dev_ev in host.h): node changes, messages, links. */
	void (*event)(void *self, const struct dev_ev *ev);
	/* Time passed: do what is due (deadline reached or not). */
	void (*tick)(void *self);
	/* The earliest time it needs a tick (UINT64_MAX: none). */
	uint64_t (*next_deadline)(const void *self);
	/* The barrier: what must be ours before sc becomes ours (0, -1). */
	int (*prepare_takeover)(void *self, const struct takeover_scope *sc);
	/*
	 * Graceful stop: first called when arphad is told to stop, then after
	 * every tick while it returned true (still handing over). NULL: none.
	 */
	bool (*stop)(void *self);
	/*
	 * Its first decision is made (failover: every VIP group has left
	 * init, as master, backup or fault). arphad tells systemd it is ready
	 * (READY=1) once every running service says so. NULL: at once.
	 */
	bool (*settled)(const void *self);
	/*
	 * A reload (SIGHUP) to cfg, a new configuration free of errors
	 * (check, below, passed too). dry: only say whether it can be
	 * applied: 0, or -1 with a message (a change that needs a restart),
	 * nothing changed. Otherwise apply it in place, with no loss of what
	 * still holds: cfg is the daemon's configuration from now on (what
	 * the service kept of the old one must now point into cfg, even when
	 * a part fails); 0, or -1 with a message of what could not be
	 * applied. NULL: any change to the service's sections needs a
	 * restart (the daemon refuses the reload).
	 */
	int (*reload)(void *self, const struct config *cfg, bool dry, char *err, size_t errlen);
	const struct svc_cmd *cmds; /* its `arpha` commands, ended by a NULL word */
	/*
	 * Without a running daemon (NULL: none). check, for `arphad -n` and
	 * the start: what the parser cannot see (a line "PATH:LINE: ..." per
	 * problem on out), the number of problems. release, for `arphad -r`:
	 * remove what a killed arphad left in the kernel, the number removed.
	 */
	int (*check)(const struct config *cfg, const char *path, FILE *out);
	int (*release)(const struct config *cfg, struct nl *nl);
};

/* The services (one file each); arphad.c puts them in its table. */
extern const struct svc_ops svc_connsync, svc_failover, svc_ranges, svc_nbcache;

#endif
