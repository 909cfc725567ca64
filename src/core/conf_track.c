/*
 * conf_track: [Track NAME], a health check that VIPs follow (their Track=,
 * in conf_vip.c), as keepalived's vrrp_script and track_file: a command
 * run every Interval= (healthy when it exits 0 within Timeout=), or a file
 * read every Interval= (healthy while it holds 0). Fall= failures in a row
 * make it failing, Rise= successes in a row healthy again.
 */
#include "conf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>


enum { T_SCRIPT, T_FILE, T_INTERVAL, T_TIMEOUT, T_FALL, T_RISE, T__COUNT };

#define TRACK_NAME_RULE "1 to 31 characters from A-Z a-z 0-9 _ . -"

bool conf_valid_track_name(const char *s, size_t n)
{
	if (n == 0 || n >= CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

#define TRACK_FIELD(field) CONF_FIELD(struct conf_track, field)

static const struct conf_key track_keys[T__COUNT + 1] = {
    [T_SCRIPT] = {.name = "Script",
		  .parse = conf_command,
		  TRACK_FIELD(script),
		  .flags = CONF_LINE,
		  .line_off = offsetof(struct conf_track, script_line)},
    [T_FILE] = {.name = "File", .parse = conf_path, TRACK_FIELD(file)},
    [T_INTERVAL] = {.name = "Interval",
		    .parse = conf_duration,
		    TRACK_FIELD(interval_ms),
		    .min = 100,
		    .max = 3600000,
		    .arg = "500ms, 2s or 1m"},
    [T_TIMEOUT] = {.name = "Timeout",
		   .parse = conf_duration,
		   TRACK_FIELD(timeout_ms),
		   .min = 10,
		   .max = 3600000,
		   .arg = "500ms, 2s or 1m",
		   .flags = CONF_LINE,
		   .line_off = offsetof(struct conf_track, timeout_line)},
    [T_FALL] = {.name = "Fall", .parse = conf_uint, TRACK_FIELD(fall), .min = 1, .max = 255},
    [T_RISE] = {.name = "Rise", .parse = conf_uint, TRACK_FIELD(rise), .min = 1, .max = 255},
};

static void *track_begin(struct conf_parser *p, const char *name)
{
	if (!conf_valid_track_name(name, strlen(name))) {
		conf_fail(p, p->line, "[Track %s]: \"%s\" is not a check name; expected %s", name,
			  name, TRACK_NAME_RULE);
		return NULL;
	}
	for (size_t i = 0; i < p->c.n_tracks; i++)
		if (strcmp(p->c.tracks[i].name, name) == 0) {
			conf_fail(
			    p, p->line,
			    "duplicate section [Track %s]; the first is at line %d; give each "
			    "check one section",
			    name, p->c.tracks[i].line);
			return NULL;
		}
	struct conf_track *t = conf_push(p, (void **)&p->c.tracks, &p->c.n_tracks, &p->cap_tracks,
					 sizeof(*p->c.tracks));
	if (!t)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->interval_ms = 2000;
	t->fall = 1;
	t->rise = 1;
	t->line = p->line;
	return t;
}

static int track_end(struct conf_parser *p, void *obj)
{
	struct conf_track *t = obj;
	if (!p->seen[T_SCRIPT] == !p->seen[T_FILE])
		return conf_fail(
		    p, p->sect_line,
		    "[Track %s] needs one of Script= (a command: healthy when it exits "
		    "0) and File= (a file: healthy while it holds 0)%s",
		    t->name, p->seen[T_SCRIPT] ? ", not both" : "");
	if (p->seen[T_TIMEOUT] && !p->seen[T_SCRIPT])
		return conf_fail(p, p->seen[T_TIMEOUT],
				 "[Track %s] Timeout=: only a Script= runs for a time; a File= is "
				 "read at once",
				 t->name);
	if (!p->seen[T_TIMEOUT])
		t->timeout_ms = t->interval_ms;
	else if (t->timeout_ms > t->interval_ms)
		return conf_fail(
		    p, t->timeout_line,
		    "[Track %s] Timeout=%ums is longer than Interval=%ums; expected at "
		    "most the interval (one run at a time)",
		    t->name, t->timeout_ms, t->interval_ms);
	return 0;
}

const struct conf_section conf_track_section = {
    .name = "Track",
    .usage = "Track NAME",
    .named = true,
    .repeatable = true,
    .keys = track_keys,
    .begin = track_begin,
    .end = track_end,
};

void conf_track_check(struct conf_parser *p)
{
	const struct config *c = &p->c;
	for (size_t i = 0; i < c->n_vips; i++) {
		const struct conf_vip *x = &c->vips[i];
		if (conf_was_bad(p, x->line))
			continue;
		for (size_t k = 0; k < x->n_checks; k++) {
			size_t t;
			for (t = 0; t < c->n_tracks && strcmp(c->tracks[t].name, x->checks[k]); t++)
				;
			if (t == c->n_tracks)
				conf_fail(p, x->checks_line,
					  "[VIP %s] Track=%s: there is no [Track %s]", x->name,
					  x->checks[k], x->checks[k]);
		}
		/* a check counts once in a group: with one weight */
		for (size_t j = 0; x->n_checks && j < i; j++) {
			const struct conf_vip *y = &c->vips[j];
			if (conf_was_bad(p, y->line) || strcmp(x->group, y->group) != 0)
				continue;
			for (size_t a = 0; a < x->n_checks; a++)
				for (size_t b = 0; b < y->n_checks; b++)
					if (!strcmp(x->checks[a], y->checks[b]) &&
					    x->check_weight[a] != y->check_weight[b])
						conf_fail(
						    p, x->checks_line,
						    "[VIP %s] Track=%s:%u: [VIP %s] of the same "
						    "group (line %d) weighs it %u; a check "
						    "counts once in a group, so give it one "
						    "weight",
						    x->name, x->checks[a], x->check_weight[a],
						    y->name, y->checks_line, y->check_weight[b]);
		}
	}
	/* a VIP with an error may have named it in the Track= that was wrong */
	for (size_t i = 0; i < c->n_vips; i++)
		if (conf_was_bad(p, c->vips[i].line))
			return;
	for (size_t t = 0; t < c->n_tracks; t++) {
		if (conf_was_bad(p, c->tracks[t].line))
			continue;
		bool used = false;
		for (size_t i = 0; i < c->n_vips && !used; i++)
			for (size_t k = 0; k < c->vips[i].n_checks && !used; k++)
				used = !strcmp(c->vips[i].checks[k], c->tracks[t].name);
		if (!used)
			conf_fail(p, c->tracks[t].line,
				  "[Track %s] is followed by no VIP; list it in a VIP's Track= (or "
				  "remove it)",
				  c->tracks[t].name);
	}
}
