/* customer: the Redis key layout of a customer's context (docs/redis.md),
 * how its keys are read into an event's context, and the operations on a
 * whole customer: load a profile, remember a contact, erase everything. */
#ifndef ATTUNE_CUSTOMER_H
#define ATTUNE_CUSTOMER_H

#include <cJSON.h>
#include <stddef.h>

#include "err.h"
#include "redis.h"

#define CUSTOMER_KEY_PREFIX "attune:customer:"
#define CUSTOMER_KEY_MAX 256

/* What a customer's context copies from Redis into every event of theirs:
 * far above what attune writes, well below what a Kafka record holds, so
 * that a key filled by hand or by mistake cannot make those events too big.
 * A field over its limit is left out; the rest of the context stays. */
#define CUSTOMER_CONTEXT_VALUE_MAX 4096         /* one profile or preference value */
#define CUSTOMER_CONTEXT_HASH_MAX (16 * 1024)   /* a profile or preferences hash */
#define CUSTOMER_CONTEXT_RECENT_MAX (32 * 1024) /* the recent list, newest first */

typedef enum {
    CUSTOMER_PROFILE,   /* hash: tier, value, segment, payer, language, ... */
    CUSTOMER_PREFS,     /* hash: channel, contact_time, language, pace, ... */
    CUSTOMER_RECENT,    /* list, newest first, capped: compact interaction records */
    CUSTOMER_CONTACTS,  /* sorted set: interaction_id scored by first-seen ms */
    CUSTOMER_SENTIMENT, /* list, newest first, capped: sentiment scores */
    CUSTOMER_OUTCOMES,  /* list, newest first, capped: outcome records */
    CUSTOMER_CSAT,      /* hash: count, sum, ewma, last (CSAT 1 to 5) */
    CUSTOMER_KEY_COUNT
} customer_key;

/* Seconds a key lives after its last write; 0 means no expiry. */
extern const long customer_key_ttl[CUSTOMER_KEY_COUNT];

/* Writes "attune:customer:<id>:<suffix>" into out; -1 if it does not fit. */
int customer_key_name(char *out, size_t out_size, const char *customer_id, customer_key k);

/* Queues, without reading replies, the reads of what attune-decide
 * remembers of a customer: HGETALL of the preferences, then LRANGE of the
 * newest recent_max records of the recent list (two replies, in that
 * order; recent_max 0 reads an empty list). */
attune_err customer_queue_memory(redis_client *rc, const char *customer_id,
                                 long recent_max) ATTUNE_MUST_CHECK;

/* The readers of those replies into a context, within the limits above.
 * The profile's value becomes a number and its flags booleans, the rest
 * stay strings; the hash readers return the fields left out. The recent
 * list is kept newest first until its budget is spent (a long history
 * shortens it; a cap, not a fault), and entries that are not JSON are
 * skipped. */
size_t customer_read_profile(cJSON *profile, const redisReply *r);
size_t customer_read_hash(cJSON *obj, const redisReply *r);
void customer_read_recent(cJSON *recent, const redisReply *r);

/* Deletes every key of the customer (the right to erasure). *deleted gets the
 * number of keys removed. */
attune_err customer_erase(redis_client *rc, const char *customer_id, long long *deleted,
                          char *errstr, size_t errstr_size) ATTUNE_MUST_CHECK;

/* Replaces the customer's profile and/or preferences hash with the scalar
 * members of the given objects (either may be NULL). Nested and null
 * members have no place in a flat hash: they are skipped, and
 * *skipped (if not NULL) counts them. */
attune_err customer_store(redis_client *rc, const char *customer_id, const cJSON *profile,
                          const cJSON *prefs, int *skipped, char *errstr,
                          size_t errstr_size) ATTUNE_MUST_CHECK;

/* How a handled event goes on the recent list, which holds contacts, not
 * lines (a chat of ten lines does not push the customer's earlier contacts
 * out): a later event of a contact on the list replaces its record where it
 * is (an event with text) or leaves it (ended, an IVR step); an event of a
 * contact not on the list is pushed. The list is searched in Redis, so
 * events decided in one batch, and contacts that interleave, are kept
 * right. */
typedef enum { CUSTOMER_RECORD_REPLACE, CUSTOMER_RECORD_KEEP } customer_record_mode;

/* Queues, without reading replies (pipelining), the writes that remember
 * one handled interaction for the next contact: record_json (a compact
 * record of interaction_id, no free text) on the recent list as mode says,
 * the sentiment score on the trend list (both newest first, capped at keep,
 * with their TTLs), and the scalar members of learned_prefs (may be NULL)
 * merged into the preferences hash (an empty string deletes its field).
 * *replies is increased by the number of replies the caller must read
 * (redis_reply) before the next round trip. */
attune_err customer_remember(redis_client *rc, const char *customer_id, const char *interaction_id,
                             const char *record_json, customer_record_mode mode, double sentiment,
                             const cJSON *learned_prefs, long keep, int *replies) ATTUNE_MUST_CHECK;

#endif
