/*
 * conf_arp: [ARP], the ARP policy of every managed interface. The values,
 * bounds and defaults are core/arp_policy's table, which the engine and
 * the documentation share; each key here is one of its rows, in its order
 * (tests/unit/test_conf.c holds the two in step).
 */
#include "conf.h"

#include "arp_policy.h"

/* One [ARP] setting, parsed by its arp_settings[] row (k->arg). */
static int arp_value(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	const struct arp_setting_desc *d = k->arg;
	char msg[CONF_MSG_MAX - 64];
	if (arp_setting_set(d, obj, v, msg, sizeof(msg)) < 0)
		return conf_fail(p, p->line, "%s: %s", d->name, msg);
	return 0;
}

/* the i-th row of arp_settings[], which sets field */
#define ARP_KEY(i, key, field)                                                                     \
	{                                                                                          \
		.name = key, .parse = arp_value, CONF_FIELD(struct arp_policy, field),             \
		.arg = &arp_settings[i]                                                            \
	}

static const struct conf_key arp_keys[] = {
    ARP_KEY(0, "UnsolicitedARPReplies", unsolicited_replies),
    ARP_KEY(1, "ARPRequests", requests),
    ARP_KEY(2, "ARPChanges", changes),
    ARP_KEY(3, "StaticARPChanges", static_changes),
    ARP_KEY(4, "ARPMatchEnetSender", match_enet_sender),
    ARP_KEY(5, "ARPMulticast", multicast),
    ARP_KEY(6, "ARPBroadcast", broadcast),
    ARP_KEY(7, "ARPQueryNoSender", query_no_sender),
    ARP_KEY(8, "ARPSenderIP", sender_ip),
    ARP_KEY(9, "ARPIPCollision", ip_collision),
    ARP_KEY(10, "ARPRateLimit", rate_limit),
    ARP_KEY(11, "Expire", expire_s),
    ARP_KEY(12, "ExpireUnknown", expire_unknown_s),
    ARP_KEY(13, "CacheSize", cache_size),
    ARP_KEY(14, "HashSize", hash_size),
    ARP_KEY(15, "HashSizeVLAN", hash_size_vlan),
    ARP_KEY(16, "VerifyTimeout", verify_timeout_ms),
    ARP_KEY(17, "VerifyRate", verify_rate),
    ARP_KEY(18, "VerifyHoldoff", verify_holdoff_ms),
    {.name = NULL},
};

static void arp_defaults(struct config *c)
{
	arp_policy_defaults(&c->arp);
}

static void *arp_begin(struct conf_parser *p, const char *name)
{
	return &p->c.arp;
}

const struct conf_section conf_arp_section = {
    .name = "ARP",
    .usage = "ARP",
    .keys = arp_keys,
    .defaults = arp_defaults,
    .begin = arp_begin,
};
