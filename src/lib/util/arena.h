/*
 * An arena: many small allocations freed together (a loaded advisory
 * database holds hundreds of thousands of strings and records). Memory
 * comes in blocks of 64 KiB (larger requests get a block of their own);
 * nothing is freed before berth_arena_release.
 */
#ifndef BERTH_LIB_UTIL_ARENA_H
#define BERTH_LIB_UTIL_ARENA_H

#include <stddef.h>

typedef struct berth_arena_block berth_arena_block;

typedef struct berth_arena {
	berth_arena_block *head;
	size_t used, size; /* of head */
} berth_arena;

#define BERTH_ARENA_INIT                                                       \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

/* n bytes aligned for any type, zeroed; aborts when out of memory. */
void *berth_arena_alloc(berth_arena *a, size_t n);

/* A copy of s (or of its first n bytes) in the arena; NULL stays NULL. */
char *berth_arena_strdup(berth_arena *a, const char *s);
char *berth_arena_strndup(berth_arena *a, const char *s, size_t n);

/* Frees every block; the arena can be used again. */
void berth_arena_release(berth_arena *a);

#endif
