#include "util/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define BLOCK_SIZE ((size_t)64 << 10)

struct berth_arena_block {
	berth_arena_block *next;
	alignas(max_align_t) unsigned char data[];
};

/* Strings take alignment 1, so a short one costs only its bytes. */
static void *
arena_alloc(berth_arena *a, size_t n, size_t al)
{
	size_t need;
	berth_arena_block *b;

	a->used = (a->used + al - 1) & ~(al - 1);
	if (a->used > a->size)
		a->used = a->size;
	need = n;

	if (a->head == NULL || a->size - a->used < need) {
		size_t size = need > BLOCK_SIZE / 4 ? need : BLOCK_SIZE;

		b = xmalloc(sizeof(*b) + size);
		if (size == BLOCK_SIZE || a->head == NULL) {
			b->next = a->head;
			a->head = b;
			a->used = 0;
			a->size = size;
		} else {
			/* a big one goes behind head, which keeps its room */
			b->next = a->head->next;
			a->head->next = b;
			memset(b->data, 0, n);
			return b->data;
		}
	}
	b = a->head;
	void *p = b->data + a->used;

	a->used += need;
	memset(p, 0, n);
	return p;
}

void *
berth_arena_alloc(berth_arena *a, size_t n)
{
	return arena_alloc(a, n, alignof(max_align_t));
}

char *
berth_arena_strndup(berth_arena *a, const char *s, size_t n)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = arena_alloc(a, n + 1, 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
berth_arena_strdup(berth_arena *a, const char *s)
{
	return s ? berth_arena_strndup(a, s, strlen(s)) : NULL;
}

void
berth_arena_release(berth_arena *a)
{
	berth_arena_block *b = a->head;

	while (b) {
		berth_arena_block *next = b->next;

		free(b);
		b = next;
	}
	a->head = NULL;
	a->used = a->size = 0;
}
