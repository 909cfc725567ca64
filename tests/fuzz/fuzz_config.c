/*
 * libFuzzer target: config_parse on arbitrary bytes. It must return 0 or
 * -1 with a NUL-terminated "FILE:..." message, and leave nothing behind
 * after config_free.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct config c;
	char err[256];
	err[0] = '\0';
	int r = config_parse((const char *)d, n, "fuzz.conf", &c, err, sizeof(err));
	if (r == 0) {
		/* what parsed is consistent */
		if (c.n_ifaces == 0)
			abort();
		for (size_t i = 0; i < c.n_entries; i++)
			if (!config_iface(&c, c.entries[i].iface))
				abort();
		for (size_t i = 0; i < c.n_proxies; i++)
			for (size_t j = 0; j < c.proxies[i].n_ifaces; j++)
				if (!config_iface(&c, c.proxies[i].ifaces[j]))
					abort();
	} else if (r != -1 || strncmp(err, "fuzz.conf:", 10) != 0 || c.ifaces || c.entries ||
		   c.proxies) {
		abort();
	}
	config_free(&c);
	return 0;
}
