/* progress: what attune-deliver remembers about the records of the batch in
 * hand between two consumptions of it. A batch whose waits run too long
 * (or that is cut by a shutdown) returns an error: the stage seeks back and
 * polls the same records again, and this table says which of them are
 * already delivered or dead-lettered (not sent again), and how many attempts
 * the others used and when the next may go. It is emptied when a batch
 * completes, since its offsets are then stored. Keyed by (partition,
 * offset): deliver reads one topic. The table owns its entries; it is used
 * by one thread at a time (workers touch only their own entries, and the
 * table does not move while they run). */
#ifndef ATTUNE_DELIVER_PROGRESS_H
#define ATTUNE_DELIVER_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct {
    int32_t partition;
    int64_t offset;
    int used;
    int done;      /* delivered, or its dead letter acknowledged */
    long attempts; /* attempts used of the budget */
    int charged;   /* its last failure was its own (a 500...), not the endpoint's */
    /* Judged for the dead-letter topic, not yet acknowledged there: a later
     * pass dead-letters it again rather than posting it after a later
     * decision of the same key. */
    int rejected;
    char reason[256];
    long status;    /* the last HTTP status (0: none) */
    double next_at; /* monotonic seconds; no attempt before this */
} progress_entry;

typedef struct {
    progress_entry *slots;
    size_t cap; /* a power of two */
    size_t count;
} progress;

/* Room for max_entries records (the batch size): the table holds twice
 * that, so a re-consumed batch plus what arrived meanwhile fit. */
attune_err progress_init(progress *p, size_t max_entries) ATTUNE_MUST_CHECK;
void progress_fini(progress *p);
void progress_clear(progress *p);
/* Makes room for n more entries (n <= max_entries): when the table is too
 * full it is emptied (forgetting progress only costs a repeated delivery,
 * which the Idempotency-Key covers). Call it before the gets of a batch. */
void progress_reserve(progress *p, size_t n);
/* The entry of (partition, offset), created (zeroed) when absent; never
 * NULL once init succeeded. The pointer stays valid until the next reserve
 * or clear (gets never move entries). */
progress_entry *progress_get(progress *p, int32_t partition, int64_t offset);

#endif
