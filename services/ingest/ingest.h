/* ingest: the HTTP API that turns integrators' posts into interaction events
 * on Kafka, and outcomes into outcome events. Owns the producer, the idempotency window and the API
 * keys. */
#ifndef ATTUNE_INGEST_H
#define ATTUNE_INGEST_H

#include "config.h"
#include "dedup.h"
#include "httpd.h"
#include "kafka.h"
#include "redis.h"

typedef struct {
    const config *cfg;
    kafka_producer *producer;
    dedup *seen;         /* this replica's idempotency window */
    redis_client *redis; /* the window shared by all replicas */
    pthread_mutex_t redis_mu;
    char **keys; /* API keys, owned */
    size_t key_count;
} ingest;

attune_err ingest_init(ingest *in, const config *cfg, char *errstr,
                       size_t errstr_size) ATTUNE_MUST_CHECK;
void ingest_fini(ingest *in);
int ingest_ready(void *ud);
/* POST /v1/events: interactions to ATTUNE_TOPIC_INTERACTIONS */
void ingest_post_events(void *ud, const http_request *req, http_response *resp);
/* POST /v1/outcomes: outcomes of decisions to ATTUNE_TOPIC_OUTCOMES */
void ingest_post_outcomes(void *ud, const http_request *req, http_response *resp);

#endif
