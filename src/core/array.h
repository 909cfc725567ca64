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

/*
 * The one step of every action list of the cores: append an element to *v
 * (*n used of *cap, growing by doubling from first) with its first clear
 * bytes zeroed, and return it; NULL when memory ran out, counted in
 * *dropped (the list is unchanged).
 */
static inline void *array_append(void **v, size_t *n, size_t *cap, size_t elem, size_t first,
				 size_t clear, size_t *dropped)
{
	if (array_grow(v, cap, *n + 1, elem, first) < 0) {
		(*dropped)++;
		return NULL;
	}
	char *e = (char *)*v + (*n)++ * elem;
	for (size_t i = 0; i < clear; i++)
		e[i] = 0;
	return e;
}

#endif
