#include "dedup.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

typedef struct node {
    struct node *next; /* bucket chain */
    int64_t added_ms;
    uint64_t hash;
    char id[];
} node;

struct dedup {
    pthread_mutex_t mu;
    node **buckets;
    size_t nbuckets; /* power of two */
    node **ring;     /* insertion order, oldest at head */
    size_t cap, head, count;
    int64_t window_ms;
};

dedup *dedup_new(size_t max_ids, long window_s)
{
    if (max_ids == 0)
        return NULL;
    dedup *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->nbuckets = 16;
    while (d->nbuckets < max_ids)
        d->nbuckets *= 2;
    d->buckets = calloc(d->nbuckets, sizeof *d->buckets);
    d->ring = calloc(max_ids, sizeof *d->ring);
    if (!d->buckets || !d->ring) {
        free(d->buckets);
        free(d->ring);
        free(d);
        return NULL;
    }
    d->cap = max_ids;
    d->window_ms = (int64_t)window_s * 1000;
    pthread_mutex_init(&d->mu, NULL);
    return d;
}

static void unlink_node(dedup *d, node *n)
{
    node **pp = &d->buckets[n->hash & (d->nbuckets - 1)];
    while (*pp && *pp != n)
        pp = &(*pp)->next;
    if (*pp)
        *pp = n->next;
}

static void evict_oldest(dedup *d)
{
    node *n = d->ring[d->head];
    d->ring[d->head] = NULL;
    if (++d->head == d->cap)
        d->head = 0;
    d->count--;
    unlink_node(d, n);
    free(n);
}

static void expire(dedup *d, int64_t now_ms)
{
    while (d->count && now_ms - d->ring[d->head]->added_ms > d->window_ms)
        evict_oldest(d);
}

static node *find(const dedup *d, const char *id, uint64_t h)
{
    for (node *n = d->buckets[h & (d->nbuckets - 1)]; n; n = n->next)
        if (n->hash == h && strcmp(n->id, id) == 0)
            return n;
    return NULL;
}

int dedup_seen(dedup *d, const char *id, int64_t now_ms)
{
    pthread_mutex_lock(&d->mu);
    expire(d, now_ms);
    int seen = find(d, id, hash_fnv1a(id)) != NULL;
    pthread_mutex_unlock(&d->mu);
    return seen;
}

int dedup_add(dedup *d, const char *id, int64_t now_ms)
{
    uint64_t h = hash_fnv1a(id);
    size_t len = strlen(id);
    int rc = 0;
    pthread_mutex_lock(&d->mu);
    expire(d, now_ms);
    if (!find(d, id, h)) {
        node *n = malloc(sizeof *n + len + 1);
        if (!n) {
            rc = -1;
        } else {
            memcpy(n->id, id, len + 1);
            n->hash = h;
            n->added_ms = now_ms;
            if (d->count == d->cap)
                evict_oldest(d);
            n->next = d->buckets[h & (d->nbuckets - 1)];
            d->buckets[h & (d->nbuckets - 1)] = n;
            size_t slot = d->head + d->count;
            d->ring[slot >= d->cap ? slot - d->cap : slot] = n;
            d->count++;
        }
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

size_t dedup_size(dedup *d)
{
    pthread_mutex_lock(&d->mu);
    size_t n = d->count;
    pthread_mutex_unlock(&d->mu);
    return n;
}

void dedup_free(dedup *d)
{
    if (!d)
        return;
    while (d->count)
        evict_oldest(d);
    pthread_mutex_destroy(&d->mu);
    free(d->buckets);
    free(d->ring);
    free(d);
}
