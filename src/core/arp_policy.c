/*
 * arp_policy: the table of [ARP] settings, their values and defaults.
 */
#include "arp_policy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const value_names[AV__COUNT] = {
    [AV_DROP] = "Drop",
    [AV_DROPLOG] = "DropLog",
    [AV_ACCEPT] = "Accept",
    [AV_ACCEPTLOG] = "AcceptLog",
    [AV_IGNORE] = "Ignore",
    [AV_LOG] = "Log",
    [AV_DROPANNOUNCE] = "DropAnnounce",
    [AV_VERIFY] = "Verify",
};

#define DDAA (AVM(AV_DROP) | AVM(AV_DROPLOG) | AVM(AV_ACCEPT) | AVM(AV_ACCEPTLOG))
#define DDAL (AVM(AV_DROP) | AVM(AV_DROPLOG) | AVM(AV_ACCEPT) | AVM(AV_LOG))
#define ENUM(n, f, allowed, d, h)                                                                  \
	{                                                                                          \
		n, offsetof(struct arp_policy, f), 1, allowed, d, 0, 0, h                          \
	}
#define NUM(n, f, d, lo, hi, h)                                                                    \
	{                                                                                          \
		n, offsetof(struct arp_policy, f), 0, 0, d, lo, hi, h                              \
	}

const struct arp_setting_desc arp_settings[] = {
    ENUM("UnsolicitedARPReplies", unsolicited_replies, DDAA | AVM(AV_VERIFY), AV_VERIFY,
	 "ARP replies for which no query is outstanding, and gratuitous ARP"),
    ENUM("ARPRequests", requests, AVM(AV_DROP) | AVM(AV_ACCEPT), AV_DROP,
	 "may a request create or update the sender's entry"),
    ENUM("ARPChanges", changes, DDAA | AVM(AV_VERIFY), AV_ACCEPTLOG,
	 "may ARP change the MAC of an existing dynamic entry"),
    ENUM("StaticARPChanges", static_changes, AVM(AV_DROP) | AVM(AV_DROPLOG), AV_DROPLOG,
	 "ARP that contradicts a Static, Publish or XPublish entry"),
    ENUM("ARPMatchEnetSender", match_enet_sender,
	 AVM(AV_DROP) | AVM(AV_DROPLOG) | AVM(AV_IGNORE) | AVM(AV_LOG), AV_DROPLOG,
	 "Ethernet source MAC differs from the ARP sender MAC"),
    ENUM("ARPMulticast", multicast, DDAL, AV_DROPLOG, "multicast sender MAC in ARP data"),
    ENUM("ARPBroadcast", broadcast, DDAL, AV_DROPLOG, "broadcast sender MAC in ARP data"),
    ENUM("ARPQueryNoSender", query_no_sender, DDAA, AV_DROPLOG,
	 "requests with sender IP 0.0.0.0 (probes)"),
    ENUM("ARPSenderIP", sender_ip, AVM(AV_DROP) | AVM(AV_DROPLOG) | AVM(AV_ACCEPT), AV_DROPLOG,
	 "sender IP outside the interface's networks"),
    ENUM("ARPIPCollision", ip_collision, AVM(AV_DROP) | AVM(AV_DROPANNOUNCE), AV_DROP,
	 "someone else claims one of our addresses"),
    NUM("ARPRateLimit", rate_limit, 0, 0, 100000000,
	"ARP frames per second per interface, 0 = off"),
    NUM("Expire", expire_s, 900, 1, 86400 * 7, "lifetime of dynamic entries, seconds"),
    NUM("ExpireUnknown", expire_unknown_s, 3, 1, 3600,
	"how long an unanswered query is remembered, seconds"),
    NUM("CacheSize", cache_size, 4096, 16, 16777216, "entries per interface"),
    NUM("HashSize", hash_size, 512, 16, 16777216, "starting hash slots per interface"),
    NUM("HashSizeVLAN", hash_size_vlan, 64, 16, 16777216, "starting hash slots per VLAN interface"),
    NUM("VerifyTimeout", verify_timeout_ms, 50, 1, 10000,
	"the longest a Verify check waits for the old MAC to answer, ms"),
    NUM("VerifyRate", verify_rate, 100, 2, 100000,
	"Verify check requests per second per interface"),
    NUM("VerifyHoldoff", verify_holdoff_ms, 1000, 0, 3600000,
	"after a check the holder won or nobody answered, no new check of the address for this long, ms"),
    {NULL, 0, 0, 0, 0, 0, 0, NULL},
};

const char *arp_value_name(enum arp_value v)
{
	return (unsigned)v < AV__COUNT ? value_names[v] : "?";
}

static void store(const struct arp_setting_desc *d, struct arp_policy *p, uint32_t v)
{
	char *base = (char *)p + d->offset;
	if (d->is_enum)
		*(uint8_t *)base = (uint8_t)v;
	else
		memcpy(base, &v, sizeof(v));
}

void arp_policy_defaults(struct arp_policy *p)
{
	memset(p, 0, sizeof(*p));
	for (const struct arp_setting_desc *d = arp_settings; d->name; d++)
		store(d, p, d->def);
}

const struct arp_setting_desc *arp_setting_find(const char *name)
{
	for (const struct arp_setting_desc *d = arp_settings; d->name; d++)
		if (strcasecmp(d->name, name) == 0)
			return d;
	return NULL;
}

static void allowed_list(uint32_t mask, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (int v = 0; v < AV__COUNT; v++) {
		if (!(mask & AVM(v)))
			continue;
		int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", value_names[v]);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}

int arp_setting_set(const struct arp_setting_desc *d, struct arp_policy *p, const char *value,
		    char *err, size_t errlen)
{
	if (d->is_enum) {
		for (int v = 0; v < AV__COUNT; v++) {
			if ((d->allowed & AVM(v)) && strcasecmp(value, value_names[v]) == 0) {
				store(d, p, (uint32_t)v);
				return 0;
			}
		}
		char list[128];
		allowed_list(d->allowed, list, sizeof(list));
		snprintf(err, errlen, "expected one of %s, got \"%s\"", list, value);
		return -1;
	}
	const char *s = value;
	char *end = NULL;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || errno || *end != '\0' || n < d->min || n > d->max) {
		snprintf(err, errlen, "expected a whole number from %u to %u, got \"%s\"", d->min,
			 d->max, value);
		return -1;
	}
	store(d, p, (uint32_t)n);
	return 0;
}
