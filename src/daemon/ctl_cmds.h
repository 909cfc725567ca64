/*
 * ctl_cmds: the commands arphad serves on its control socket, as data,
 * and the one check of a command against them. arpha (the CLI) builds its
 * usage text from the table and checks a command before it asks; arphad
 * checks it again and dispatches by its words: its own commands in ctl.c,
 * the services' by the word of their svc_cmd (svc.h).
 *
 * Pure data and lookups on it (libc only): linked into arpha, which links
 * nothing else of the daemon.
 */
#ifndef ARPHA_DAEMON_CTL_CMDS_H
#define ARPHA_DAEMON_CTL_CMDS_H

#include <stddef.h>

#define CTL_MAX_ARGS 4

/* An argument after the words. */
struct ctl_arg {
	const char *name;     /* in the usage: "IFACE", "PERIOD_MS" */
	unsigned long lo, hi; /* a whole number in lo..hi; hi 0: any word */
};

struct ctl_cmd {
	const char *words;	     /* "stats", "arp show": one or two */
	unsigned min_args, max_args; /* after the words; those past min_args are optional */
	struct ctl_arg args[CTL_MAX_ARGS];
	/* a missing argument in words ("an interface"), then the usage; NULL: by its name */
	const char *need;
	const char *help; /* its line in `arpha -h`; NULL: a testing aid, not listed */
};

/* The commands, in the order of the usage text; the last has words NULL. */
extern const struct ctl_cmd ctl_cmds[];

/* A command checked: which, and its arguments. */
struct ctl_req {
	const struct ctl_cmd *cmd;
	char *const *args; /* after the words */
	int nargs;
	unsigned long num[CTL_MAX_ARGS]; /* the value of each numeric argument */
};

enum ctl_check {
	CTL_OK,
	CTL_UNKNOWN, /* no command starts with argv[0] */
	CTL_USAGE,   /* one does, but the verb or the arguments are wrong */
};

/*
 * Check argv against the table. CTL_OK: *out is the command. Otherwise
 * msg says what is wrong, for a person ("too many arguments to stats (it
 * takes none)").
 */
enum ctl_check ctl_check(int argc, char *const *argv, struct ctl_req *out, char *msg, size_t len);

/* The command as the usage shows it ("arp show [IFACE]") into buf; buf. */
const char *ctl_usage(const struct ctl_cmd *c, char *buf, size_t len);

/* Every listed command's usage, joined by ", ", into buf; buf. */
const char *ctl_usage_list(char *buf, size_t len);

/* The command whose words are words, or NULL. */
const struct ctl_cmd *ctl_find(const char *words);

#endif
