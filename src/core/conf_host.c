/*
 * conf_host: [Host NAME], repeatable: the name the neighbour cache shows
 * for the device of one MAC (its cfg_name), as the seed's Ethernet Address
 * objects name the devices a firewall knows.
 */
#include "conf.h"

#include <stdio.h>
#include <string.h>

enum { H_MAC, H__COUNT };

#define HOST_NAME_RULE                                                                             \
	"a name of 1 to 63 bytes of text without spaces or control characters, such as "           \
	"[Host printer-2]"

/*
 * Why name cannot name a host ("holds a space"), or NULL. Other bytes are
 * taken as they are (UTF-8), as the neighbour cache takes its text.
 */
static const char *host_name_refusal(const char *name)
{
	if (strlen(name) >= CONF_HOST_NAME_MAX)
		return "is longer than 63 bytes";
	for (const unsigned char *q = (const unsigned char *)name; *q; q++) {
		if (*q == ' ')
			return "holds a space";
		if (*q < 0x20 || *q == 0x7f)
			return "holds a control character";
	}
	return NULL;
}

static const struct conf_key host_keys[H__COUNT + 1] = {
    [H_MAC] = {.name = "MAC",
	       .parse = conf_mac,
	       CONF_FIELD(struct conf_host, mac),
	       .flags = CONF_LINE,
	       .line_off = offsetof(struct conf_host, mac_line)},
};

static void *host_begin(struct conf_parser *p, const char *name)
{
	const char *why = host_name_refusal(name);
	if (why) {
		conf_fail(p, p->line, "[Host %s]: the name %s; expected %s", name, why,
			  HOST_NAME_RULE);
		return NULL;
	}
	for (size_t i = 0; i < p->c.n_hosts; i++)
		if (strcmp(p->c.hosts[i].name, name) == 0) {
			conf_fail(p, p->line,
				  "duplicate section [Host %s]; the first is at line %d; give each "
				  "host one section",
				  name, p->c.hosts[i].line);
			return NULL;
		}
	struct conf_host *h =
	    conf_push(p, (void **)&p->c.hosts, &p->c.n_hosts, &p->cap_hosts, sizeof(*p->c.hosts));
	if (!h)
		return NULL;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->line = p->line;
	return h;
}

static int host_end(struct conf_parser *p, void *obj)
{
	const struct conf_host *h = obj;
	if (!p->seen[H_MAC])
		return conf_fail(p, p->sect_line,
				 "[Host %s] has no MAC=; expected the device's MAC address, such "
				 "as MAC=02:86:f6:c5:a2:14",
				 h->name);
	for (size_t i = 0; i + 1 < p->c.n_hosts; i++) {
		const struct conf_host *o = &p->c.hosts[i];
		if (mac_eq(&o->mac, &h->mac) && !conf_was_bad(p, o->line)) {
			char mac[MAC_STRLEN];
			return conf_fail(p, h->mac_line,
					 "[Host %s] MAC=%s is the MAC of [Host %s] at line %d; a "
					 "device has one name, so give each MAC one [Host] section",
					 h->name, mac_fmt(&h->mac, mac), o->name, o->mac_line);
		}
	}
	return 0;
}

const struct conf_section conf_host_section = {
    .name = "Host",
    .usage = "Host NAME",
    .named = true,
    .repeatable = true,
    .keys = host_keys,
    .begin = host_begin,
    .end = host_end,
};
