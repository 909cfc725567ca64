/*
 * libFuzzer target: config_parse on arbitrary bytes. It must return 0, or
 * -1 with every error on a line of its own that starts with "FILE" and
 * holds only printable ASCII (raw bytes of the input are escaped), and
 * leave nothing behind after config_free.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static char err[CONF_ERR_LEN];

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct config c;
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
	} else if (r != -1 || c.ifaces || c.entries || c.proxies) {
		abort();
	} else {
		/* each line "fuzz.conf:LINE: ..." or "fuzz.conf: ...", printable */
		size_t lines = 0;
		for (const char *l = err; l; l = strchr(l, '\n')) {
			if (*l == '\n')
				l++;
			if (strncmp(l, "fuzz.conf:", 10) != 0)
				abort();
			lines++;
		}
		if (lines == 0 || lines > CONF_MAX_ERRORS + 1)
			abort();
		for (const char *q = err; *q; q++)
			if (*q != '\n' && (*q < 0x20 || *q > 0x7e))
				abort();
	}
	config_free(&c);
	return 0;
}
