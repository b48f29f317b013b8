/* enrich: adds the customer's context from Redis to each interaction event
 * (profile, preferences, recent interactions, contact counts), with one
 * pipelined round trip per batch. Owns its Redis client. */
#ifndef ATTUNE_ENRICH_H
#define ATTUNE_ENRICH_H

#include <cJSON.h>

#include "config.h"
#include "redis.h"
#include "stage.h"

typedef struct {
    const config *cfg;
    redis_client *redis;
} enrich;

attune_err enrich_init(enrich *e, const config *cfg, char *errstr,
                       size_t errstr_size) ATTUNE_MUST_CHECK;
void enrich_fini(enrich *e);
/* The stage batch function (stage_batch_fn). */
attune_err enrich_batch(void *ud, stage_io *io, rd_kafka_message_t *const *msgs, size_t n);

/* The context of a customer Redis could not be asked about. */
cJSON *enrich_context_unavailable(void);

#endif
