/* stage: the consume -> transform -> produce loop that every Kafka-to-Kafka
 * service runs (enrich, classify, decide...). It polls a batch, hands it to
 * the service's batch function, waits until every output (and dead letter)
 * is acknowledged, and only then stores the input offsets. If any output
 * fails, the batch is consumed again: at least once, never lost. */
#ifndef ATTUNE_STAGE_H
#define ATTUNE_STAGE_H

#include <cJSON.h>

#include "config.h"
#include "httpd.h"
#include "kafka.h"
#include "problem.h"

typedef struct {
    const config *cfg;
    kafka_producer *producer;
    kafka_wait *wait;
    size_t too_large; /* inputs stage_emit dead-lettered for their output's size */
} stage_io;

/* Handles msgs[0..n): for each record, stage_emit its outputs or
 * stage_reject it. Returning an error makes the whole batch be retried. */
typedef attune_err (*stage_batch_fn)(void *ud, stage_io *io, rd_kafka_message_t *const *msgs,
                                     size_t n);

/* Produces event (serialized; not taken) to topic with key, as a structured
 * CloudEvent with content-type and traceparent headers. An event too big
 * for any record (message.max.bytes) dead-letters its input, from, with the
 * reason instead: retrying could never succeed. */
attune_err stage_emit(stage_io *io, const rd_kafka_message_t *from, const char *topic,
                      const char *key, const cJSON *event) ATTUNE_MUST_CHECK;
/* Checks the data of an event a stage reads; pf names the field under
 * "/data". */
typedef attune_err (*stage_data_check)(const config *cfg, const cJSON *data, problem_field *pf);

/* Parses record m as a structured CloudEvent of want_type whose data passes
 * check. On success *root is the event (the caller's, cJSON_Delete). On
 * failure *root is NULL and reason says what is wrong, with the JSON
 * pointer: what stage_reject wants. */
attune_err stage_read_event(const config *cfg, const rd_kafka_message_t *m, const char *want_type,
                            stage_data_check check, cJSON **root, char *reason,
                            size_t reason_size) ATTUNE_MUST_CHECK;

/* Dead-letters msg with reason. */
attune_err stage_reject(stage_io *io, const rd_kafka_message_t *msg,
                        const char *reason) ATTUNE_MUST_CHECK;
/* The same with headers of the service's own (kafka_deadletter). */
attune_err stage_reject_with(stage_io *io, const rd_kafka_message_t *msg, const char *reason,
                             const kafka_header *extra, size_t extra_count) ATTUNE_MUST_CHECK;

/* Called between batches, on the batch function's thread (e.g. to reload a
 * policy without locking). */
typedef void (*stage_idle_fn)(void *ud);

typedef struct {
    const char *in_topic;
    stage_batch_fn batch;
    stage_idle_fn idle; /* may be NULL */
    void *ud;
    const httpd_route *routes; /* extra HTTP routes, may be NULL */
    size_t route_count;
} stage_spec;

/* Runs until SIGTERM/SIGINT: HTTP server (health, readiness, metrics, plus
 * routes), consumer on in_topic, producer. Returns the process exit code. */
int stage_run(const config *cfg, const stage_spec *spec);

#endif
