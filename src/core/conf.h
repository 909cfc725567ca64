/*
 * conf: the machinery behind config_parse (core/config.h), shared by the
 * section files. Private to src/core/conf*.c and their unit test; callers
 * use core/config.h.
 *
 * A kind of section is one struct conf_section in a file of its own,
 * conf_<section>.c: its name, three hooks and a key table. A key is one
 * row: its name, a parser, the field it sets (offsetof and sizeof in the
 * section's object) and the parser's bounds or words. Most keys use the
 * typed parsers below; a section writes its own parser only for what no
 * other section has (Announce=, TrackInterface=, ...).
 *
 * The reader (conf.c) opens a section at its header, hands each Key=Value
 * to the key's parser, ends the section at the next header (its end hook
 * checks what the section needs) and, after the last line, runs the checks
 * of the whole file. Every error goes through conf_fail: it is recorded,
 * the section it is in is marked bad, and the parse goes on.
 */
#ifndef ARPHA_CORE_CONF_H
#define ARPHA_CORE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"

#define CONF_MSG_MAX   512 /* one message, escaped, with its NUL */
#define CONF_KEYS_MAX  64  /* keys of one section */
#define CONF_KINDS_MAX 16  /* kinds of section */

/* The rule of interface and device names, as messages state it. */
#define CONF_NAME_RULE "1 to 15 characters from A-Z a-z 0-9 _ . : -"

struct conf_error {
	int line; /* 0: the whole file */
	char msg[CONF_MSG_MAX];
};

/* The parse, as the sections see it: what is built, where, and the errors. */
struct conf_parser {
	struct config c;	 /* the result */
	int line;		 /* the line being read */
	int sect_line;		 /* the line of the current section's header */
	bool sect_bad;		 /* the current section has an error */
	int seen[CONF_KEYS_MAX]; /* the first line of each key of the section; 0: not given */
	int key_line;		 /* the first line of the key being parsed (list keys: < line) */
	size_t cap_ifaces, cap_entries, cap_proxies, cap_vips, cap_hosts,
	    cap_tracks; /* room in c's arrays */
	int *bad; /* the header lines of the sections that had an error, in file order */
	size_t n_bad, cap_bad;
	/* the [VIP] names read so far, an open hash of index + 1 into c.vips (0: free) */
	uint32_t *vip_names;
	size_t cap_vip_names;
	struct conf_error errs[CONF_MAX_ERRORS]; /* in the order found */
	size_t n_errs, more_errs;		 /* more_errs: found past CONF_MAX_ERRORS */
};

struct conf_key;

/*
 * Parse the value v (not empty, no control character) of key k into obj,
 * the object of k's section. 0, or -1 with the error recorded (conf_fail).
 */
typedef int conf_parse_fn(struct conf_parser *p, const struct conf_key *k, void *obj,
			  const char *v);

enum {
	CONF_LIST = 1u << 0, /* may be given on several lines, each adding to the list */
	CONF_LINE = 1u << 1, /* the key's first line goes to the int at line_off */
	CONF_OFF = 1u << 2,  /* conf_duration: 0 (off) is allowed below min */
};

struct conf_key {
	const char *name; /* as written in the file: "HeartbeatInterval" */
	conf_parse_fn *parse;
	size_t off, size;  /* the field in the section's object (CONF_FIELD) */
	size_t count_off;  /* conf_addr_list: offsetof the size_t that counts the items */
	uint32_t min, max; /* conf_uint, conf_duration: the bounds, inclusive */
	const void *arg;   /* the parser's words or text, see each parser */
	unsigned flags;	   /* CONF_* */
	size_t line_off;   /* CONF_LINE: offsetof that int; set when the parser took the value */
};

#define CONF_FIELD(type, field) .off = offsetof(type, field), .size = sizeof(((type *)0)->field)

struct conf_section {
	const char *name;	     /* as in the header: "Interface" */
	const char *usage;	     /* for messages: "Interface NAME" */
	bool named;		     /* [Kind NAME] */
	bool repeatable;	     /* may occur more than once */
	const char *required;	     /* the file needs one; why (for the message); NULL: optional */
	const struct conf_key *keys; /* ends with a NULL name; at most CONF_KEYS_MAX - 1 */
	/* the defaults of what the section sets, given or not (may be NULL) */
	void (*defaults)(struct config *c);
	/* a header [Kind NAME] was read (name "" when not named): the object the
	   keys set, or NULL with the error recorded (the section is skipped) */
	void *(*begin)(struct conf_parser *p, const char *name);
	/* the section ended with no error: check what it needs; 0 or -1 (may be NULL) */
	int (*end)(struct conf_parser *p, void *obj);
};

/* Every kind of section, in the order messages list them; NULL ends it. */
extern const struct conf_section *const conf_sections[];

extern const struct conf_section conf_daemon_section;	 /* conf_daemon.c */
extern const struct conf_section conf_arp_section;	 /* conf_arp.c */
extern const struct conf_section conf_interface_section; /* conf_interface.c */
extern const struct conf_section conf_arpentry_section;	 /* conf_arpentry.c */
extern const struct conf_section conf_proxyarp_section;	 /* conf_proxyarp.c */
extern const struct conf_section conf_cluster_section;	 /* conf_cluster.c */
extern const struct conf_section conf_vip_section;	 /* conf_vip.c */
extern const struct conf_section conf_flush_section;	 /* conf_flush.c */
extern const struct conf_section conf_connsync_section;	 /* conf_connsync.c */
extern const struct conf_section conf_balance_section;	 /* conf_balance.c */
extern const struct conf_section conf_neighbors_section; /* conf_neighbors.c */
extern const struct conf_section conf_host_section;	 /* conf_host.c */
extern const struct conf_section conf_track_section;	 /* conf_track.c */

/*
 * The checks of the whole file, after the last line, in this order (see
 * conf.c). Most leave out the sections that had an error (conf_was_bad).
 */
void conf_interface_check(struct conf_parser *p); /* one section per device */
void conf_arpentry_check(struct conf_parser *p);  /* entries: interface, VIPs, CacheSize */
void conf_proxyarp_check(struct conf_parser *p);  /* interfaces, repeated networks */
void conf_connsync_check(struct conf_parser *p);  /* a cluster, networks to sync */
void conf_vip_check(struct conf_parser *p);	  /* cluster, interface, other VIPs */
void conf_flush_check(struct conf_parser *p);	  /* its key, and that a VIP uses it */
void conf_balance_check(struct conf_parser *p);	  /* an active-active VIP uses it; NodeID */
void conf_track_check(struct conf_parser *p);	  /* VIPs' Track= name [Track]s; each is used */

/* ---- errors and arrays (conf.c) ---- */

/*
 * Record an error at line (0: the whole file) and mark the current section
 * bad. Bytes that are not printable ASCII are written \xNN. Past
 * CONF_MAX_ERRORS the error is only counted. Returns -1.
 */
__attribute__((format(printf, 3, 4))) int conf_fail(struct conf_parser *p, int line,
						    const char *fmt, ...);

/* Did the section whose header is at line have an error? */
bool conf_was_bad(const struct conf_parser *p, int line);

/*
 * Append a zeroed element of size bytes to *v (*n elements, room for
 * *cap): a pointer to it, or NULL with "out of memory" recorded.
 */
void *conf_push(struct conf_parser *p, void **v, size_t *n, size_t *cap, size_t size);

/* ---- value checks (conf_value.c) ---- */

/* A [Track] name, n bytes: 1 to 31 of A-Z a-z 0-9 _ . - (no ':', which gives Track= its weight). */
bool conf_valid_track_name(const char *s, size_t n);

/* An interface or device name: CONF_NAME_RULE, and not "." or "..". */
bool conf_valid_ifname(const char *s);

/* Why ip cannot be a unicast host address ("a loopback address"), or NULL. */
const char *conf_ip_refusal(uint32_t ip);

/*
 * "the network address" or "the broadcast address" when a holds the first
 * or the last address of its prefix (up to /30: a /31 or /32 has neither),
 * else NULL.
 */
const char *conf_edge_address(const struct ip4_prefix *a);

/* Index of v among the NULL-terminated words (case-insensitive), or -1. */
int conf_word_index(const char *const *words, const char *v);

/* Records "Key: expected one of A, B, got "v"". Returns -1. */
int conf_bad_word(struct conf_parser *p, const char *key, const char *const *words, const char *v);

/* A list of words separated by blanks, or by one comma with blanks around it. */
struct conf_words {
	const char *s;
	bool comma; /* a comma was read: a word must follow */
};

/*
 * The next word of the list: 1 with its start in *w and its length in *n;
 * 0 at the end; -1 for an empty element (",a", "a,,b", "a,").
 */
int conf_next_word(struct conf_words *c, const char **w, size_t *n);

/* Records that the list v of key has an empty element. Returns -1. */
int conf_empty_item(struct conf_parser *p, const char *key, const char *v);

/* The field of k in obj. */
void *conf_field(void *obj, const struct conf_key *k);

/* ---- typed parsers (conf_value.c); each message starts with the key's name ---- */

/* A whole number from min to max into an unsigned field of 1, 2 or 4 bytes (or an int). */
conf_parse_fn conf_uint;

/*
 * A duration (config_duration) from min to max ms into a uint32_t; with
 * CONF_OFF 0 too. arg: examples for the message, which states the bounds
 * ("expected [0 (off) or ]a duration from 10ms to 60s, such as <arg>").
 */
conf_parse_fn conf_duration;

/* yes or no into a bool. */
conf_parse_fn conf_bool;

/* One of the words of arg (struct conf_enum_arg) into a field of 1, 2 or 4 bytes. */
struct conf_enum_arg {
	const char *const *words; /* NULL-terminated, matched case-insensitively */
	const uint32_t *values;	  /* the value of each word; NULL: its index */
};
conf_parse_fn conf_enum;

/*
 * Some of the words of arg (struct conf_flags_arg), each once, as bits
 * (word i is bit i) into a field of 1, 2 or 4 bytes. The key's first line
 * replaces the default; later lines (CONF_LIST) add to it. The words taken
 * before a refused one stay set, and a later line goes on from them.
 */
struct conf_flags_arg {
	const char *const *words; /* NULL-terminated, matched case-insensitively */
	const char *what;	  /* for messages: "\"x\" is not a method" */
};
conf_parse_fn conf_flags;

/* An interface or device name into a char array. arg: what is expected, for messages. */
conf_parse_fn conf_ifname;

/* An absolute path that fits the char array. */
conf_parse_fn conf_path;
/* A command (core/argv words) starting with an absolute path, at most k->size - 1 bytes. */
#define CONF_COMMAND_MAX 256
conf_parse_fn conf_command;

/* A unicast MAC (not group, not zero) into a struct mac. */
conf_parse_fn conf_mac;

/*
 * Unicast IPv4 addresses, each once, appended to a uint32_t array counted
 * by the size_t at count_off. arg: what is expected, for messages.
 */
conf_parse_fn conf_addr_list;

#endif
