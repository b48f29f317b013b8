/* kafka: attune's producer and consumer on librdkafka, with its delivery
 * rules: an idempotent producer with acks=all; a consumer whose offsets are
 * stored (and so committed) only after everything a record produced is
 * acknowledged. The wrappers own their rd_kafka_t handles. */
#ifndef ATTUNE_KAFKA_H
#define ATTUNE_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stddef.h>

#include "config.h"
#include "err.h"

typedef struct kafka_wait kafka_wait;

/* One record's own outcome, for a caller that must know which records of a
 * failed group the broker holds all the same (ingest remembers those, so
 * that the client's retry does not store them twice). Caller-owned like the
 * kafka_wait that counts the record; read it after kafka_wait_all. */
typedef struct {
    int delivered; /* 1 once the broker acknowledged the record (acks=all;
                    * in a transaction: written, not yet committed) */
    kafka_wait *w; /* the group counting the record; set by kafka_produce */
} kafka_delivery;

/* Tracks a group of produced records until the broker has answered for each.
 * Caller-owned storage; it must outlive every record produced with it, which
 * kafka_wait_all guarantees by waiting for all of them. */
struct kafka_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending;
    int failed;
    rd_kafka_resp_err_t first_err;
    kafka_delivery untracked; /* the slot of records produced without one */
};

void kafka_wait_init(kafka_wait *w);
void kafka_wait_fini(kafka_wait *w);
/* Blocks until every record produced with w is acknowledged or failed
 * (message.timeout.ms bounds this). ATTUNE_OK when all were acknowledged;
 * ATTUNE_ERR_TOO_LARGE when the broker refused one as too large (its
 * max.message.bytes), ATTUNE_ERR_KAFKA otherwise; the error in errstr.
 * Either way the records' kafka_delivery slots say which were stored. */
attune_err kafka_wait_all(kafka_wait *w, char *errstr, size_t errstr_size) ATTUNE_MUST_CHECK;

typedef struct {
    const char *name;
    const char *value;
} kafka_header;

typedef struct kafka_producer kafka_producer;
typedef struct kafka_consumer kafka_consumer;

/* A producer with its own poll thread, so delivery reports flow whatever the
 * caller does. client_id names it in broker logs. Its message.max.bytes is
 * librdkafka's (1000000 unless ATTUNE_KAFKA_MESSAGE_MAX_BYTES says), below
 * the broker's default topic limit, so the broker takes what it sends. */
attune_err kafka_producer_new(const config *cfg, kafka_producer **out, char *errstr,
                              size_t errstr_size) ATTUNE_MUST_CHECK;
/* 1 once the producer has had a fatal error (an idempotent producer's
 * broken sequence, a fenced transactional one): it can send nothing more. */
int kafka_producer_failed(kafka_producer *p);
/* Flushes (bounded by the produce timeout), stops the poll thread, frees. */
void kafka_producer_free(kafka_producer *p);
/* Queues one record; the value and headers are copied. w counts it. When the
 * local queue is full this waits for room (bounded by the produce timeout).
 * ATTUNE_ERR_TOO_LARGE: the record is over the producer's message.max.bytes
 * and never will be sent (nothing was queued); ATTUNE_ERR_KAFKA for any
 * other refusal. d, optional and only with a w, is the record's own slot:
 * its delivered is 0 until the broker acknowledges the record. */
attune_err kafka_produce(kafka_producer *p, const char *topic, const char *key, size_t key_len,
                         const void *value, size_t value_len, const kafka_header *headers,
                         size_t header_count, kafka_wait *w, kafka_delivery *d) ATTUNE_MUST_CHECK;
/* The producer's message.max.bytes: the largest record it sends. */
size_t kafka_producer_max_record(const kafka_producer *p);
/* 1 when a record of these sizes and headers is one kafka_produce takes (no
 * ATTUNE_ERR_TOO_LARGE), so that a group of records can be weighed before
 * any is queued. */
int kafka_record_fits(const kafka_producer *p, size_t key_len, size_t value_len,
                      const kafka_header *headers, size_t header_count);
/* 1 when a broker answered a metadata request within the last seconds. */
int kafka_producer_ready(kafka_producer *p);

/* Exactly-once between Kafka stages: a transactional producer
 * (cfg->transactional_id) whose transactions carry both a batch's outputs
 * and its consumer offsets. A newer instance with the same id fences this
 * one; an instance that died holds its partitions' readers (read_committed)
 * for at most transaction.timeout.ms (10 s by default here). */
attune_err kafka_producer_new_transactional(const config *cfg, kafka_producer **out, char *errstr,
                                            size_t errstr_size) ATTUNE_MUST_CHECK;
attune_err kafka_txn_begin(kafka_producer *p, char *errstr, size_t errstr_size) ATTUNE_MUST_CHECK;
/* Puts the offsets after msgs (the consumer's group) into the transaction
 * and commits it. ATTUNE_ERR_KAFKA: the transaction was aborted, consume the
 * records again. ATTUNE_ERR_STOPPED: fatal (fenced); the process must exit. */
attune_err kafka_txn_commit(kafka_producer *p, kafka_consumer *c, rd_kafka_message_t *const *msgs,
                            size_t n, char *errstr, size_t errstr_size) ATTUNE_MUST_CHECK;
/* Aborts the open transaction. ATTUNE_ERR_STOPPED when that fails: the
 * producer's state is unknown and the process must exit. */
attune_err kafka_txn_abort(kafka_producer *p, char *errstr, size_t errstr_size) ATTUNE_MUST_CHECK;

/* Sends msg to the dead-letter topic unchanged (key, value) with headers
 * saying who rejected it, why, and where it came from, plus the service's
 * own (extra, may be NULL; at most KAFKA_DLQ_MAX_EXTRA). A record bigger
 * than the producer sends is cut to fit, and header attune-dlq-truncated
 * gives its sizes. */
#define KAFKA_DLQ_MAX_EXTRA 4
attune_err kafka_deadletter(kafka_producer *p, const char *dlq_topic, const char *service,
                            const rd_kafka_message_t *msg, const char *reason,
                            const kafka_header *extra, size_t extra_count,
                            kafka_wait *w) ATTUNE_MUST_CHECK;

/* Subscribes to topics in cfg->group_id with cooperative-sticky assignment,
 * earliest reset, read_committed. Offsets are committed by a transaction
 * (transactional) or automatically once stored (kafka_consumer_store). A
 * partition kept through a rebalance goes on from where the stage stands. */
attune_err kafka_consumer_new(const config *cfg, const char *const *topics, size_t topic_count,
                              int transactional, kafka_consumer **out, char *errstr,
                              size_t errstr_size) ATTUNE_MUST_CHECK;
/* Closes (committing stored offsets, leaving the group) and frees. With
 * broker_up 0 the close is skipped, since it would wait for a cluster that is
 * gone: the group notices by its session timeout, and the records since the
 * last commit are consumed again (at least once). */
void kafka_consumer_free(kafka_consumer *c, int broker_up);
/* Fills msgs with up to max records, waiting at most idle_ms for the first
 * and then at most fill_ms more for others. Returns the count; each record
 * belongs to the caller (rd_kafka_message_destroy). */
size_t kafka_consumer_poll_batch(kafka_consumer *c, rd_kafka_message_t **msgs, size_t max,
                                 int idle_ms, int fill_ms);
/* Marks the records as done: their offsets get committed. */
attune_err kafka_consumer_store(kafka_consumer *c, rd_kafka_message_t *const *msgs,
                                size_t n) ATTUNE_MUST_CHECK;
/* Seeks back to the first of these records in each partition, so they are
 * consumed again. */
attune_err kafka_consumer_rewind(kafka_consumer *c, rd_kafka_message_t *const *msgs,
                                 size_t n) ATTUNE_MUST_CHECK;
/* Seeks every assigned partition to the group's committed offset; one with
 * nothing committed goes back to the first of msgs[n] on it, or stays. After
 * a failed transactional batch the batch in hand is not always where to
 * start again: a commit whose answer was lost may have gone through, and
 * the group may have changed and another member committed more. */
attune_err kafka_consumer_seek_committed(kafka_consumer *c, rd_kafka_message_t *const *msgs,
                                         size_t n) ATTUNE_MUST_CHECK;
/* Sum of (high watermark - position) over the assigned partitions, from
 * librdkafka's cached figures (a partition not read from since it was
 * assigned counts from the group's committed offset, asked of the
 * coordinator once per assignment and every 30 s after, for at most 1 s;
 * without one, from where auto.offset.reset starts); -1 when unknown, and
 * while no partition is assigned. */
long long kafka_consumer_lag(kafka_consumer *c);
rd_kafka_t *kafka_consumer_handle(kafka_consumer *c);

/* Reads a header of msg into out (NUL-terminated); 0 when found. */
int kafka_header_get(const rd_kafka_message_t *msg, const char *name, char *out, size_t out_size);

#endif
