/*
 * libFuzzer target for core/dhcpsnoop: parse arbitrary bytes. Any reason
 * must have a name; a parsed message must keep the promises of the header
 * (strings NUL terminated and printable, counts within their arrays, the
 * fingerprint within DHCP_PRL_STRLEN), and a byte of trailing padding must
 * change nothing, since every length comes from the headers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dhcpsnoop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_string(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n >= cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			abort();
}

static int same(const struct dhcp_info *a, const struct dhcp_info *b)
{
	return a->family == b->family && a->vlan == b->vlan && a->msg_type == b->msg_type &&
	       a->xid == b->xid && a->has == b->has && a->warn == b->warn &&
	       strcmp(a->hostname, b->hostname) == 0 && strcmp(a->fqdn, b->fqdn) == 0 &&
	       strcmp(a->vendor, b->vendor) == 0 && a->prl_len == b->prl_len &&
	       memcmp(a->prl, b->prl, a->prl_len * sizeof(a->prl[0])) == 0 &&
	       a->clid_len == b->clid_len && memcmp(a->clid, b->clid, a->clid_len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhcp_info a, b;
	char fp[DHCP_PRL_STRLEN];

	enum dhcp_reason r = dhcpsnoop_parse(data, size, &a);
	if ((unsigned)r >= DR__COUNT || dhcp_reason_name(r) == NULL)
		abort();
	if (r != DR_OK)
		return 0;
	if ((a.family != 4 && a.family != 6) || a.vlan > 0x0fff)
		abort();
	check_string(a.hostname, sizeof(a.hostname));
	check_string(a.fqdn, sizeof(a.fqdn));
	check_string(a.vendor, sizeof(a.vendor));
	if (a.prl_len > DHCP_PRL_MAX || a.clid_len > DHCP_CLID_MAX)
		abort();
	size_t n = dhcp_prl_fmt(a.prl, a.prl_len, fp, sizeof(fp));
	if (n >= sizeof(fp) || strlen(fp) != n)
		abort();

	uint8_t *padded = malloc(size + 1);
	if (!padded)
		return 0;
	memcpy(padded, data, size);
	padded[size] = 0xa5;
	if (dhcpsnoop_parse(padded, size + 1, &b) != DR_OK || !same(&a, &b))
		abort();
	free(padded);
	return 0;
}
