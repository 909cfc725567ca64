/*
 * array: growing an array by doubling, the one way the cores do it.
 */
#ifndef ARPHA_CORE_ARRAY_H
#define ARPHA_CORE_ARRAY_H

#include <stddef.h>
#include <stdlib.h>

/*
 * Make room in *v (of *cap elements of size elem) for at least need
 * elements, doubling from first. 0, or -1 (ENOMEM from realloc; *v and
 * *cap unchanged).
 */
static inline int array_grow(void **v, size_t *cap, size_t need, size_t elem, size_t first)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : first;
	while (nc < need)
		nc *= 2;
	void *nv = realloc(*v, nc * elem);
	if (!nv)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}

#endif
