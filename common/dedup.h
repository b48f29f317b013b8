/* dedup: a bounded, time-windowed set of ids (idempotency). An id added is
 * "seen" for window_s seconds or until max_ids newer ids push it out,
 * whichever comes first. Thread-safe. The set owns copies of the ids. */
#ifndef ATTUNE_DEDUP_H
#define ATTUNE_DEDUP_H

#include <stddef.h>
#include <stdint.h>

typedef struct dedup dedup;

/* NULL on allocation failure or when max_ids is 0. */
dedup *dedup_new(size_t max_ids, long window_s);
void dedup_free(dedup *d);
/* 1 when id was added within the window, 0 otherwise. now_ms is the clock. */
int dedup_seen(dedup *d, const char *id, int64_t now_ms);
/* Remembers id (no-op if present). 0, or -1 on allocation failure. */
int dedup_add(dedup *d, const char *id, int64_t now_ms);
size_t dedup_size(dedup *d);

#endif
