#include "progress.h"

#include <stdlib.h>
#include <string.h>

attune_err progress_init(progress *p, size_t max_entries)
{
    size_t cap = 16;
    while (cap < 4 * max_entries)
        cap *= 2;
    p->slots = calloc(cap, sizeof *p->slots);
    p->cap = p->slots ? cap : 0;
    p->count = 0;
    return p->slots ? ATTUNE_OK : ATTUNE_ERR_NOMEM;
}

void progress_fini(progress *p)
{
    free(p->slots);
    p->slots = NULL;
    p->cap = p->count = 0;
}

void progress_clear(progress *p)
{
    if (p->count)
        memset(p->slots, 0, p->cap * sizeof *p->slots);
    p->count = 0;
}

static size_t hash(int32_t partition, int64_t offset)
{
    uint64_t h = (uint64_t)offset * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uint32_t)partition;
    return (size_t)(h ^ (h >> 29));
}

void progress_reserve(progress *p, size_t n)
{
    /* Kept at most half full so probes stay short. */
    if (p->count + n > p->cap / 2)
        progress_clear(p);
}

progress_entry *progress_get(progress *p, int32_t partition, int64_t offset)
{
    /* Without a reserve, stay safe rather than fill the table. */
    if (p->count + 1 > p->cap / 2)
        progress_clear(p);
    size_t mask = p->cap - 1;
    for (size_t i = hash(partition, offset) & mask;; i = (i + 1) & mask) {
        progress_entry *e = &p->slots[i];
        if (!e->used) {
            e->used = 1;
            e->partition = partition;
            e->offset = offset;
            p->count++;
            return e;
        }
        if (e->partition == partition && e->offset == offset)
            return e;
    }
}
