/*
 * devtype: what kind of device a neighbour is (computer, phone, printer,
 * ...), its OS family and its brand, from what it tells us about itself:
 * the DHCP parameter request list (option 55, in the order sent), the
 * vendor class (DHCP option 60, or DHCPv6 option 16 as text), the host name
 * and the vendor of its MAC (the OUI organization name of core/oui, and
 * the MAC itself for prefixes no registry names). Offline: the knowledge
 * is a table of rules (data/devtypes.txt). Pure: the caller reads the file
 * and hands its text in.
 *
 * The table, one rule a line; blank lines and lines starting with # are
 * skipped, and " #" outside quotes starts a comment at the end of a line:
 *
 *   match KEY VALUE [KEY VALUE ...] => RESULT=VALUE [RESULT=VALUE ...]
 *
 * Match keys (every key of a rule must hold; each at most once a rule):
 *   prl=1,3,6        the request list is exactly these codes (1-254), in order
 *   prl^=1,3,6       the request list starts with these codes
 *   vendor=MSFT 5.0  the vendor class is exactly this (case matters)
 *   vendor^=dhcpcd-  the vendor class starts with this (case matters)
 *   vendor~=dhcpcd-*:Linux-*  the vendor class matches this glob (as host~=)
 *   host~=iPhone*    the host name matches this glob: * any run, ? one
 *                    character, case-insensitive
 *   oui~=Apple       the OUI organization name contains this, case-insensitive
 *   mac^=52:54:00    the MAC starts with these 1 to 6 bytes (hex)
 * Results:
 *   type=            one of the words of devtype_type_name (default unknown)
 *   os=, brand=      free text, up to DEVTYPE_NAME_MAX - 1 bytes
 *   conf=            0 to 100, required
 * A rule gives at least one of type (not unknown), os or brand. A value runs
 * to the next word that starts a key (lowercase letters, maybe ^ or ~, then
 * =), "=>" or " #", blanks at its ends trimmed; "double quotes" take a value
 * as it is (no escapes inside). Each bad line is an error; a text with
 * errors adds no rule.
 *
 * How rules combine. Every matching rule is a candidate for each of the
 * three fields it gives. For each field on its own the candidate with the
 * highest conf wins; at equal conf, the one with the stronger evidence,
 * its keys' weights summed (prl= 8, vendor= 6, prl^= 4, vendor^= 4,
 * vendor~= 3, host~= 3, mac^= 2, oui~= 1). Candidates still equal that
 * disagree leave the part they share: os and brand keep their common
 * leading words ("Android 9" and "Android 10" give "Android"), type becomes
 * unknown. So a rule on the OUI alone may name the brand under a request
 * list's OS, and the table states by its confidences which evidence counts
 * more (the shipped table keeps rules on the MAC alone at 60 or below,
 * but for the prefixes of hypervisors' virtual NICs). Nothing is invented: with no matching rule
 * the type is unknown, os and brand are empty and the confidence is 0. The result's confidence is
 * the highest conf among the rules whose values were kept.
 *
 * Lookups cost one hash probe for prl= rules, one for vendor= rules
 * (without prl=) and a scan of the rules that have neither.
 */
#ifndef ARPHA_CORE_DEVTYPE_H
#define ARPHA_CORE_DEVTYPE_H

#include <stddef.h>
#include <stdint.h>

#define DEVTYPE_NAME_MAX   64  /* os and brand with their NUL */
#define DEVTYPE_VALUE_MAX  255 /* longest match value, in bytes */
#define DEVTYPE_PRL_MAX	   255 /* longest request list */
#define DEVTYPE_MAX_ERRORS 20  /* errors written into err; the rest counted */

enum devtype_type {
	DEVTYPE_UNKNOWN,
	DEVTYPE_COMPUTER, /* desktop or laptop */
	DEVTYPE_SERVER,
	DEVTYPE_PHONE,
	DEVTYPE_TABLET,
	DEVTYPE_PRINTER,  /* printers, scanners, multifunction */
	DEVTYPE_NETWORK,  /* routers, switches, access points, firewalls */
	DEVTYPE_IOT,	  /* embedded sensors, plugs, lights, assistants */
	DEVTYPE_CAMERA,	  /* IP cameras, doorbells, recorders */
	DEVTYPE_VM,	  /* a virtual machine's NIC */
	DEVTYPE_CONSOLE,  /* game consoles */
	DEVTYPE_TV,	  /* smart TVs, media players, streaming sticks */
	DEVTYPE_VOIP,	  /* IP phones */
	DEVTYPE_WEARABLE, /* watches */
	DEVTYPE__COUNT
};

struct devtype_db;

struct devtype_input {
	const uint8_t *prl; /* option 55 codes in the order sent; NULL = none */
	size_t prl_len;
	const char *vendor;  /* vendor class as text; NULL = none */
	const char *host;    /* host name (option 12); NULL = none */
	const char *oui_org; /* OUI organization name (core/oui); NULL = none */
	const uint8_t *mac;  /* 6 bytes; NULL = none */
};

struct devtype_result {
	enum devtype_type type;
	char os[DEVTYPE_NAME_MAX];    /* "" when unknown */
	char brand[DEVTYPE_NAME_MAX]; /* "" when unknown */
	uint8_t confidence;	      /* 0-100; 0 with no match */
	/* Why: the table's line of the rule behind each part, 0 for none. */
	unsigned line; /* the rule of the highest conf that was kept */
	unsigned type_line, os_line, brand_line;
};

/* NULL on ENOMEM. */
struct devtype_db *devtype_db_new(void);
void devtype_db_free(struct devtype_db *db);

/*
 * Add the rules of one table's text (len bytes, need not end in NUL);
 * name is the file name that messages carry. All or nothing: on any bad
 * line no rule of this text is added. Returns the number of rules added,
 * or -1 with errno EINVAL and err holding "NAME:LINE: what, and what was
 * expected" for each bad line (one a line, up to DEVTYPE_MAX_ERRORS, then
 * how many more), or -1 with errno ENOMEM. err may be NULL when errlen
 * is 0.
 */
long devtype_db_add_text(struct devtype_db *db, const char *name, const char *text, size_t len,
			 char *err, size_t errlen);

/* Number of rules held. */
size_t devtype_db_count(const struct devtype_db *db);

/*
 * Identify the device of in, by the rules above, into *out. Returns 0 when
 * *out names something (a type, an os or a brand), -1 when it does not: no
 * rule matched, or the matching rules disagreed with nothing in common
 * (then *out says unknown, confidence 0, lines 0).
 */
int devtype_match(const struct devtype_db *db, const struct devtype_input *in,
		  struct devtype_result *out);

/* "computer", "phone", ...; "unknown" for a value out of range. */
const char *devtype_type_name(enum devtype_type t);

/* The type of a word of devtype_type_name, -1 if none. */
int devtype_type_parse(const char *s, size_t n);

#endif
