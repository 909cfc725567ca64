/*
 * prom: views (os/view.h) as the Prometheus text exposition format 0.0.4.
 *
 * An `arpha` command's view already holds every counter and state it
 * shows; prom turns its fields into samples instead of repeating them.
 * A field's rule (the first whose path matches the field's) says what it
 * is: a counter (the family's name gets "_total"), a gauge, a state (a
 * string: a gauge of 1 with the string as a label), or nothing. The list
 * items and table rows around a field give its labels: the fields a
 * prom_list names. A number no rule names is still exported, as untyped,
 * under arpha_<cmd>_<path>, so nothing the command shows is lost; a test
 * holds the rules complete.
 *
 * Families come out sorted by name, each with one # HELP and one # TYPE
 * line before its samples; names have only [a-zA-Z0-9_], label values are
 * escaped (\\, \", \n).
 */
#ifndef ARPHA_OS_PROM_H
#define ARPHA_OS_PROM_H

#include <stddef.h>

#include "os/util.h"
#include "os/view.h"

enum prom_type { PROM_UNTYPED, PROM_COUNTER, PROM_GAUGE, PROM_STATE, PROM_SKIP };

struct prom_rule {
	/* a field's path in the view ("counters.rx_datagrams"); ending in '*': every path that
	 * starts so */
	const char *path;
	enum prom_type type;
	/*
	 * The family's name, without "_total". A '*' rule without label: a
	 * prefix, the rest of the path appended ('.' as '_').
	 */
	const char *name;
	/* a '*' rule: the rest of the path is this label's value; PROM_STATE: the label of the
	 * string */
	const char *label;
	unsigned scale; /* the value divided by this, a power of ten (1000: ms in seconds); 0: 1 */
	const char *help;
};

/*
 * The items of the list at path (a table's rows too): labels, as
 * "field=label,field" (a field without '=' gives the label of its own
 * name). An item without the field gets the label empty. A field that
 * labels its item is no sample of its own.
 */
struct prom_list {
	const char *path;
	const char *labels;
};

/* What one command's view becomes: cmd names untyped families (arpha_<cmd>_...). */
struct prom_source {
	const char *cmd;
	const struct prom_rule *rules; /* ended by a NULL path */
	const struct prom_list *lists; /* ended by a NULL path; NULL: none */
};

struct prom;

/* A new exposition (NULL: out of memory); prom_free(NULL) does nothing. */
struct prom *prom_new(void);
void prom_free(struct prom *p);

/* Add the samples of v under src's rules (v NULL: nothing). */
void prom_add(struct prom *p, const struct prom_source *src, const struct view *v);

/* Append the exposition to out: every family, sorted by name (out->oom: out of memory). */
void prom_render(struct prom *p, struct sbuf *out);

#endif
