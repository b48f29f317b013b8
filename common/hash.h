/* hash: FNV-1a over strings, the one non-cryptographic hash of the project
 * (hash tables, stable variant choice). Not for anything an attacker may
 * want to collide on purpose. */
#ifndef ATTUNE_HASH_H
#define ATTUNE_HASH_H

#include <stdint.h>

#define HASH_FNV1A_INIT 1469598103934665603ULL

/* Continues h (HASH_FNV1A_INIT to start) over the bytes of s. */
static inline uint64_t hash_fnv1a_more(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static inline uint64_t hash_fnv1a(const char *s)
{
    return hash_fnv1a_more(HASH_FNV1A_INIT, s);
}

#endif
