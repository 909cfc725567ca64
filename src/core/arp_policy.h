/*
 * arp_policy: the ARP settings, their value sets and defaults. One table
 * describes every enumerated setting, so the config parser, the engine and
 * the documentation agree on names, allowed values and defaults.
 */
#ifndef ARPHA_CORE_ARP_POLICY_H
#define ARPHA_CORE_ARP_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* Values of the enumerated settings. Each setting allows a subset. */
enum arp_value {
	AV_DROP = 0,
	AV_DROPLOG,
	AV_ACCEPT,
	AV_ACCEPTLOG,
	AV_IGNORE,       /* ARPMatchEnetSender: let it through silently */
	AV_LOG,          /* let it through and log */
	AV_DROPANNOUNCE, /* ARPIPCollision: drop and reclaim with gratuitous ARP */
	AV_VERIFY,       /* neither trust nor ignore: ask the old and the new MAC */
	AV__COUNT
};

#define AVM(v) (1u << (v))

/* What a value means: whether the frame stops here, and whether we log. */
static inline int arp_value_drops(uint8_t v)
{
	return v == AV_DROP || v == AV_DROPLOG || v == AV_DROPANNOUNCE || v == AV_VERIFY;
}
static inline int arp_value_logs(uint8_t v)
{
	return v == AV_DROPLOG || v == AV_ACCEPTLOG || v == AV_LOG;
}

/* "Drop", "DropLog", "Accept", "AcceptLog", "Ignore", "Log", "DropAnnounce", "Verify". */
const char *arp_value_name(enum arp_value v);

struct arp_policy {
	/* enumerated settings (enum arp_value) */
	uint8_t unsolicited_replies; /* UnsolicitedARPReplies */
	uint8_t requests;            /* ARPRequests */
	uint8_t changes;             /* ARPChanges */
	uint8_t static_changes;      /* StaticARPChanges */
	uint8_t match_enet_sender;   /* ARPMatchEnetSender */
	uint8_t multicast;           /* ARPMulticast */
	uint8_t broadcast;           /* ARPBroadcast */
	uint8_t query_no_sender;     /* ARPQueryNoSender */
	uint8_t sender_ip;           /* ARPSenderIP */
	uint8_t ip_collision;        /* ARPIPCollision */
	/* numeric settings */
	uint32_t rate_limit;       /* ARPRateLimit: frames/s per interface, 0 = off */
	uint32_t expire_s;         /* Expire: dynamic entry lifetime, seconds */
	uint32_t expire_unknown_s; /* ExpireUnknown: unanswered query, seconds */
	uint32_t cache_size;       /* CacheSize: entries per interface */
	uint32_t hash_size;        /* HashSize: starting hash slots */
	uint32_t hash_size_vlan;   /* HashSizeVLAN: starting hash slots, VLAN interfaces */
	uint32_t verify_timeout_ms; /* VerifyTimeout: how long a check waits for answers */
	uint32_t verify_rate;	    /* VerifyRate: check requests per second per interface */
	uint32_t verify_holdoff_ms; /* VerifyHoldoff: no new check of an address after a refusal */
};

struct arp_setting_desc {
	const char *name; /* as written in the config: "UnsolicitedARPReplies" */
	size_t offset;    /* offsetof(struct arp_policy, field) */
	int is_enum;      /* 1: uint8_t enum arp_value; 0: uint32_t number */
	uint32_t allowed; /* enum: AVM() mask of allowed values */
	uint32_t def;     /* default value */
	uint32_t min, max; /* numbers: inclusive range */
	const char *help;  /* one line for documentation */
};

/* Every [ARP] setting, terminated by an entry with name == NULL. */
extern const struct arp_setting_desc arp_settings[];

/* Fill p with every default. */
void arp_policy_defaults(struct arp_policy *p);

/* The descriptor named name (case-insensitive), or NULL. */
const struct arp_setting_desc *arp_setting_find(const char *name);

/*
 * Parse value for setting d into p. Enum values are case-insensitive.
 * Returns 0, or -1 with a message in err ("expected one of Drop, DropLog,
 * Accept, AcceptLog, got \"yes\"" / "expected a whole number from 1 to
 * 4194304, got \"x\"").
 */
int arp_setting_set(const struct arp_setting_desc *d, struct arp_policy *p, const char *value,
		    char *err, size_t errlen);

#endif
