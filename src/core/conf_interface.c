/*
 * conf_interface: [Interface NAME], a network device arphad manages. Other
 * sections name it by NAME; Device= is the device, by default NAME.
 */
#include "conf.h"

#include <stdio.h>
#include <string.h>

static const struct conf_key interface_keys[] = {
    {.name = "Device",
     .parse = conf_ifname,
     CONF_FIELD(struct conf_iface, device),
     .arg = "a network device name of " CONF_NAME_RULE,
     .flags = CONF_LINE,
     .line_off = offsetof(struct conf_iface, device_line)},
    {.name = NULL},
};

static void *interface_begin(struct conf_parser *p, const char *name)
{
	if (!conf_valid_ifname(name)) {
		conf_fail(p, p->line,
			  "[Interface %s]: \"%s\" is not an interface name; expected %s", name,
			  name, CONF_NAME_RULE);
		return NULL;
	}
	const struct conf_iface *old = config_iface(&p->c, name);
	if (old) {
		conf_fail(p, p->line,
			  "duplicate section [Interface %s]; the first is at line %d; give each "
			  "interface one section",
			  name, old->line);
		return NULL;
	}
	struct conf_iface *f = conf_push(p, (void **)&p->c.ifaces, &p->c.n_ifaces, &p->cap_ifaces,
					 sizeof(*p->c.ifaces));
	if (!f)
		return NULL;
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->device, sizeof(f->device), "%s", name);
	f->line = p->line;
	f->device_line = p->line;
	return f;
}

static int interface_end(struct conf_parser *p, void *obj)
{
	const struct conf_iface *f = obj;
	if (strcmp(f->device, "lo") == 0)
		return conf_fail(p, f->device_line,
				 "[Interface %s] Device=lo: the loopback device carries no ARP; "
				 "expected an Ethernet device such as eth0",
				 f->name);
	return 0;
}

const struct conf_section conf_interface_section = {
    .name = "Interface",
    .usage = "Interface NAME",
    .named = true,
    .repeatable = true,
    .required = "arphad would manage nothing",
    .keys = interface_keys,
    .begin = interface_begin,
    .end = interface_end,
};

void conf_interface_check(struct conf_parser *p)
{
	const struct config *c = &p->c;
	for (size_t i = 1; i < c->n_ifaces; i++) {
		const struct conf_iface *f = &c->ifaces[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->ifaces[j].device, f->device) == 0) {
				conf_fail(
				    p, f->device_line,
				    "[Interface %s] uses device %s, as [Interface %s] at line "
				    "%d does; one section per device",
				    f->name, f->device, c->ifaces[j].name, c->ifaces[j].line);
				break;
			}
	}
}

const struct conf_iface *config_iface(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (strcmp(c->ifaces[i].name, name) == 0)
			return &c->ifaces[i];
	return NULL;
}
