#include "kafka.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ts.h"

struct kafka_producer {
    rd_kafka_t *rk;
    pthread_t poller;
    atomic_int stop;
    int produce_timeout_ms;
    size_t max_record; /* message.max.bytes: librdkafka refuses bigger records */
    pthread_mutex_t ready_mu;
    double ready_checked;
    int ready;
};

struct kafka_consumer {
    rd_kafka_t *rk;
    /* The group's committed offsets of the assigned partitions, asked once
     * per assignment and again after COMMITTED_MAX_AGE_S (kafka_consumer_lag):
     * an idle partition keeps its committed offset until it is read from,
     * and then has a position. committed_at: when they were asked. */
    rd_kafka_topic_partition_list_t *committed;
    double committed_at;
    /* auto.offset.reset is latest: a partition without a committed offset
     * is read from its end, not its start */
    int reset_to_end;
    /* The group's generation when the batch in hand began (its first
     * record): its transaction commits the offsets under it, so that the
     * coordinator refuses the commit when the group changed meanwhile (a
     * session lost in an outage, a rebalance during the fill) and another
     * member may own the partitions now (KIP-447). */
    rd_kafka_consumer_group_metadata_t *batch_group;
    /* Per partition held since its assignment: the offset after the last
     * record handed to the stage, or where the stage last sought it.
     * librdkafka 2.0 restarts a partition's fetch from where it last started
     * it (the committed offset when it was assigned) whenever a rebalance
     * resumes the partitions an instance keeps, paused or not (librdkafka
     * #4637, fixed in 2.4.0): with cooperative-sticky, a partition kept
     * through another member's join or leave was read again from there, and
     * its records came out a second time, a valid generation and all. The
     * rebalance callback seeks them back here; the poll drops what is below. */
    rd_kafka_topic_partition_list_t *taken;
};

/* The same partitions can be taken away and given back (a broker restart,
 * a rebalance): their committed offsets are asked again after this long. */
#define COMMITTED_MAX_AGE_S 30

void kafka_wait_init(kafka_wait *w)
{
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->pending = 0;
    w->failed = 0;
    w->first_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    w->untracked = (kafka_delivery){.delivered = 0, .w = w};
}

void kafka_wait_fini(kafka_wait *w)
{
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

/* The broker's answers that a record (or the batch it went in) is too big:
 * a retry gets the same answer. */
static int too_large(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

attune_err kafka_wait_all(kafka_wait *w, char *errstr, size_t errstr_size)
{
    pthread_mutex_lock(&w->mu);
    while (w->pending > 0)
        pthread_cond_wait(&w->cv, &w->mu);
    int failed = w->failed;
    rd_kafka_resp_err_t err = w->first_err;
    pthread_mutex_unlock(&w->mu);
    if (failed)
        return attune_errf(too_large(err) ? ATTUNE_ERR_TOO_LARGE : ATTUNE_ERR_KAFKA, errstr,
                           errstr_size, "%d record(s) not delivered: %s", failed,
                           rd_kafka_err2str(err));
    return ATTUNE_OK;
}

/* Counts the broker's answer for the record of slot d. */
static void wait_done(kafka_delivery *d, rd_kafka_resp_err_t err)
{
    kafka_wait *w = d->w;
    pthread_mutex_lock(&w->mu);
    d->delivered = !err;
    if (err) {
        /* A record the broker refuses as too large fails on every retry:
         * that error wins over a transient one, so the caller does not ask
         * for a retry. */
        if (!w->failed || too_large(err))
            w->first_err = err;
        w->failed++;
    }
    if (--w->pending == 0)
        pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* A record producev refused has no answer to wait for. */
static void wait_forget(kafka_wait *w)
{
    pthread_mutex_lock(&w->mu);
    if (--w->pending == 0)
        pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err)
        log_warn("delivery to %s failed: %s", rd_kafka_topic_name(m->rkt),
                 rd_kafka_err2str(m->err));
    if (m->_private) /* the record's kafka_delivery slot */
        wait_done(m->_private, m->err);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[256];
        rd_kafka_fatal_error(rk, buf, sizeof buf);
        log_error("kafka fatal error: %s", buf);
        return;
    }
    /* Transport errors repeat while a broker is down; debug keeps logs calm. */
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        log_debug("kafka: %s", reason);
    else
        log_warn("kafka: %s", reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 3)
        log_error("librdkafka %s: %s", fac, buf);
    else if (level <= 4)
        log_warn("librdkafka %s: %s", fac, buf);
    else
        log_debug("librdkafka %s: %s", fac, buf);
}

static attune_err conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr,
                           size_t errstr_size)
{
    char why[256];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) != RD_KAFKA_CONF_OK)
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size, "kafka property %s: %s", name,
                           why);
    return ATTUNE_OK;
}

/* The settings both sides share: bootstrap, client id, logging, and the
 * ATTUNE_KAFKA_* pass-through meant for this side, applied last so an
 * operator can override. */
static attune_err conf_common(const config *cfg, rd_kafka_conf_t *conf, const char *role,
                              const char *const *defaults, char *errstr, size_t errstr_size)
{
    char client_id[128];
    snprintf(client_id, sizeof client_id, "attune-%s-%s", cfg->service, role);
    attune_err err = conf_set(conf, "bootstrap.servers", cfg->kafka_bootstrap, errstr, errstr_size);
    if (!err)
        err = conf_set(conf, "client.id", client_id, errstr, errstr_size);
    for (size_t i = 0; !err && defaults[i]; i += 2)
        err = conf_set(conf, defaults[i], defaults[i + 1], errstr, errstr_size);
    for (size_t i = 0; !err && i < cfg->kafka_prop_count; i++) {
        const char *name = config_kafka_prop(cfg, i, role);
        if (!name)
            continue;
        log_info("kafka %s property %s=%s", role, name,
                 config_is_secret(name) ? "(secret)" : cfg->kafka_prop_values[i]);
        err = conf_set(conf, name, cfg->kafka_prop_values[i], errstr, errstr_size);
    }
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    return err;
}

static void *poll_loop(void *arg)
{
    kafka_producer *p = arg;
    while (!atomic_load(&p->stop))
        rd_kafka_poll(p->rk, 100);
    return NULL;
}

static attune_err producer_create(const config *cfg, const char *transactional_id,
                                  kafka_producer **out, char *errstr, size_t errstr_size)
{
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%ld", cfg->produce_timeout_ms);
    const char *defaults[] = {"enable.idempotence", "true", "acks", "all", "linger.ms", "5",
                              "message.timeout.ms", timeout, "compression.type", "lz4",
                              transactional_id ? "transactional.id" : NULL, transactional_id,
                              "transaction.timeout.ms", "10000",
                              /* Right after a commit the coordinator may still
                               * answer CONCURRENT_TRANSACTIONS; the default
                               * 100 ms backoff would add that to every batch. */
                              "retry.backoff.ms", "10", NULL};
    *out = NULL;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    attune_err err = conf_common(cfg, conf, "producer", defaults, errstr, errstr_size);
    if (err) {
        rd_kafka_conf_destroy(conf);
        return err;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    kafka_producer *p = calloc(1, sizeof *p);
    if (!p) {
        rd_kafka_conf_destroy(conf);
        return ATTUNE_ERR_NOMEM;
    }
    char why[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        free(p);
        return attune_errf(ATTUNE_ERR_KAFKA, errstr, errstr_size, "kafka producer: %s", why);
    }
    conf = NULL; /* now owned by rk */
    p->produce_timeout_ms = (int)cfg->produce_timeout_ms;
    char max[32];
    size_t max_size = sizeof max;
    p->max_record = 1000000; /* librdkafka's default */
    if (rd_kafka_conf_get(rd_kafka_conf(p->rk), "message.max.bytes", max, &max_size) ==
        RD_KAFKA_CONF_OK)
        p->max_record = (size_t)strtoull(max, NULL, 10);
    pthread_mutex_init(&p->ready_mu, NULL);
    if (pthread_create(&p->poller, NULL, poll_loop, p) != 0) {
        rd_kafka_destroy(p->rk);
        free(p);
        return attune_errf(ATTUNE_ERR_NOMEM, errstr, errstr_size, "cannot start poll thread");
    }
    *out = p;
    return ATTUNE_OK;
}

attune_err kafka_producer_new(const config *cfg, kafka_producer **out, char *errstr,
                              size_t errstr_size)
{
    return producer_create(cfg, NULL, out, errstr, errstr_size);
}

/* Turns an rd_kafka_error_t into attune's codes and frees it. */
static attune_err txn_error(rd_kafka_error_t *e, const char *what, char *errstr, size_t errstr_size)
{
    if (!e)
        return ATTUNE_OK;
    attune_err err = rd_kafka_error_is_fatal(e) ? ATTUNE_ERR_STOPPED : ATTUNE_ERR_KAFKA;
    attune_errf(err, errstr, errstr_size, "%s: %s", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return err;
}

attune_err kafka_producer_new_transactional(const config *cfg, kafka_producer **out, char *errstr,
                                            size_t errstr_size)
{
    kafka_producer *p = NULL;
    *out = NULL;
    attune_err err = producer_create(cfg, cfg->transactional_id, &p, errstr, errstr_size);
    if (err || !p)
        return err ? err : ATTUNE_ERR_NOMEM;
    /* Fences an older instance with the same id and aborts what it left
     * open. Retried while the cluster is still coming up. */
    for (int attempt = 0;; attempt++) {
        rd_kafka_error_t *e = rd_kafka_init_transactions(p->rk, 10000);
        if (!e) {
            *out = p;
            return ATTUNE_OK;
        }
        int retriable = rd_kafka_error_is_retriable(e);
        err = txn_error(e, "init transactions", errstr, errstr_size);
        if (!retriable || attempt >= 2)
            break; /* about 30 s without a cluster: let the supervisor restart us */
        log_warn("%s; retrying", errstr);
    }
    kafka_producer_free(p);
    return err;
}

attune_err kafka_txn_begin(kafka_producer *p, char *errstr, size_t errstr_size)
{
    return txn_error(rd_kafka_begin_transaction(p->rk), "begin transaction", errstr, errstr_size);
}

attune_err kafka_txn_abort(kafka_producer *p, char *errstr, size_t errstr_size)
{
    for (;;) {
        rd_kafka_error_t *e = rd_kafka_abort_transaction(p->rk, p->produce_timeout_ms + 5000);
        if (!e)
            return ATTUNE_OK;
        if (!rd_kafka_error_is_retriable(e)) {
            /* A transaction in an unknown state cannot be built upon. */
            txn_error(e, "abort transaction", errstr, errstr_size);
            return ATTUNE_ERR_STOPPED;
        }
        log_warn("abort transaction: %s; retrying", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

int kafka_producer_failed(kafka_producer *p)
{
    return rd_kafka_fatal_error(p->rk, NULL, 0) != RD_KAFKA_RESP_ERR_NO_ERROR;
}

void kafka_producer_free(kafka_producer *p)
{
    if (!p)
        return;
    rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, p->produce_timeout_ms + 1000);
    if (err)
        log_error("kafka flush: %s; %d record(s) left undelivered", rd_kafka_err2str(err),
                  rd_kafka_outq_len(p->rk));
    atomic_store(&p->stop, 1);
    pthread_join(p->poller, NULL);
    rd_kafka_destroy(p->rk);
    pthread_mutex_destroy(&p->ready_mu);
    free(p);
}

/* About the size librdkafka weighs against message.max.bytes: key, value
 * and headers with their lengths. Close, not exact: a record that passes here
 * and is refused by producev gets the same ATTUNE_ERR_TOO_LARGE. */
static size_t record_size(size_t key_len, size_t value_len, const kafka_header *headers,
                          size_t header_count)
{
    size_t n = key_len + value_len + 10;
    for (size_t i = 0; i < header_count; i++)
        n += strlen(headers[i].name) + strlen(headers[i].value) + 10;
    return n;
}

size_t kafka_producer_max_record(const kafka_producer *p)
{
    return p->max_record;
}

int kafka_record_fits(const kafka_producer *p, size_t key_len, size_t value_len,
                      const kafka_header *headers, size_t header_count)
{
    return record_size(key_len, value_len, headers, header_count) <= p->max_record;
}

attune_err kafka_produce(kafka_producer *p, const char *topic, const char *key, size_t key_len,
                         const void *value, size_t value_len, const kafka_header *headers,
                         size_t header_count, kafka_wait *w, kafka_delivery *d)
{
    if (d) {
        if (!w)
            return ATTUNE_ERR_INVALID; /* nothing would say when d is filled in */
        *d = (kafka_delivery){.delivered = 0, .w = w};
    }
    /* Refused here rather than by producev, so that the caller can tell a
     * record that will never fit from a broker that is away. */
    if (!kafka_record_fits(p, key_len, value_len, headers, header_count))
        return ATTUNE_ERR_TOO_LARGE;
    kafka_delivery *slot = d ? d : w ? &w->untracked : NULL;
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(header_count ? header_count : 1);
    for (size_t i = 0; i < header_count; i++)
        rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value, -1);
    if (w) {
        pthread_mutex_lock(&w->mu);
        w->pending++;
        pthread_mutex_unlock(&w->mu);
    }
    double deadline = ts_mono() + p->produce_timeout_ms / 1000.0;
    rd_kafka_resp_err_t err;
    for (;;) {
        err = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
                                RD_KAFKA_V_VALUE((void *)value, value_len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
                                RD_KAFKA_V_OPAQUE(slot), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || ts_mono() > deadline)
            break;
        /* The poll thread serves delivery reports; give it time to drain. */
        usleep(5000);
    }
    if (err) {
        rd_kafka_headers_destroy(hdrs); /* not taken by a failed producev */
        if (w)
            wait_forget(w);
        return too_large(err) ? ATTUNE_ERR_TOO_LARGE : ATTUNE_ERR_KAFKA;
    }
    return ATTUNE_OK;
}

int kafka_producer_ready(kafka_producer *p)
{
    pthread_mutex_lock(&p->ready_mu);
    double now = ts_mono();
    if (now - p->ready_checked > 1.0) {
        const struct rd_kafka_metadata *md = NULL;
        p->ready = rd_kafka_metadata(p->rk, 0, NULL, &md, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                   md && md->broker_cnt > 0;
        if (md)
            rd_kafka_metadata_destroy(md);
        p->ready_checked = now;
    }
    int ready = p->ready;
    pthread_mutex_unlock(&p->ready_mu);
    return ready;
}

attune_err kafka_deadletter(kafka_producer *p, const char *dlq_topic, const char *service,
                            const rd_kafka_message_t *msg, const char *reason,
                            const kafka_header *extra, size_t extra_count, kafka_wait *w)
{
    char partition[16], offset[32], when[40];
    snprintf(partition, sizeof partition, "%d", (int)msg->partition);
    snprintf(offset, sizeof offset, "%lld", (long long)msg->offset);
    ts_format_rfc3339(ts_now_ms(), when, sizeof when);
    kafka_header h[7 + KAFKA_DLQ_MAX_EXTRA] = {
        {"attune-dlq-service", service},
        {"attune-dlq-reason", reason},
        {"attune-dlq-topic", msg->rkt ? rd_kafka_topic_name(msg->rkt) : ""},
        {"attune-dlq-partition", partition},
        {"attune-dlq-offset", offset},
        {"attune-dlq-time", when},
    };
    size_t n = 6;
    for (size_t i = 0; extra && i < extra_count && i < KAFKA_DLQ_MAX_EXTRA; i++)
        h[n++] = extra[i];
    /* A record too big to copy whole (it came in under the broker's larger
     * limit) is kept as its first bytes, key first, with its sizes said in
     * a header: it must not stop the stage that cannot copy it. */
    const char *key = msg->key;
    size_t key_len = msg->key_len, len = msg->len;
    char truncated[96];
    if (record_size(key_len, len, h, n) > p->max_record) {
        snprintf(truncated, sizeof truncated, "key %zu bytes, value %zu bytes", key_len, len);
        h[n++] = (kafka_header){"attune-dlq-truncated", truncated};
        const size_t fixed = record_size(0, 0, h, n) + 1024;
        const size_t room = p->max_record > fixed ? p->max_record - fixed : 0;
        key_len = key_len < room / 2 ? key_len : room / 2;
        len = len < room - key_len ? len : room - key_len;
    }
    return kafka_produce(p, dlq_topic, key, key_len, msg->payload, len, h, n, w, NULL);
}

/* Records that the stage now stands at offset at in topic [partition]. */
static void set_taken(kafka_consumer *c, const char *topic, int32_t partition, int64_t at)
{
    rd_kafka_topic_partition_t *t = rd_kafka_topic_partition_list_find(c->taken, topic, partition);
    if (!t)
        t = rd_kafka_topic_partition_list_add(c->taken, topic, partition);
    t->offset = at;
}

/* After the stage sought the partitions of l: it stands where it sought
 * them, and a partition whose seek failed is forgotten (not known). */
static void sought(kafka_consumer *c, const rd_kafka_topic_partition_list_t *l, int failed)
{
    for (int i = 0; i < l->cnt; i++) {
        if (failed || l->elems[i].err)
            rd_kafka_topic_partition_list_del(c->taken, l->elems[i].topic, l->elems[i].partition);
        else
            set_taken(c, l->elems[i].topic, l->elems[i].partition, l->elems[i].offset);
    }
}

/* Seeks the partitions of l, when there are any, and records where the
 * stage stands (see sought; forget: forgets them instead). A failure is
 * logged after what (a warning with warn, else an error) and returned as
 * ATTUNE_ERR_KAFKA. */
static attune_err seek_to(kafka_consumer *c, rd_kafka_topic_partition_list_t *l, int forget,
                          int warn, const char *what)
{
    if (l->cnt == 0)
        return ATTUNE_OK;
    /* (the seek writes each partition's error into l, which sought reads) */
    rd_kafka_error_t *e = rd_kafka_seek_partitions(c->rk, l, 5000);
    sought(c, l, forget || e != NULL);
    if (!e)
        return ATTUNE_OK;
    if (warn)
        log_warn("%s: %s", what, rd_kafka_error_string(e));
    else
        log_error("%s: %s", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return ATTUNE_ERR_KAFKA;
}

/* Seeks the assigned partitions the stage has read from back to where it
 * stands (see taken): a stale fetch start is not read again. */
static void seek_taken(kafka_consumer *c)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(c->rk, &l) || !l)
        return;
    rd_kafka_topic_partition_list_t *to = rd_kafka_topic_partition_list_new(l->cnt);
    for (int i = 0; i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *t =
            rd_kafka_topic_partition_list_find(c->taken, l->elems[i].topic, l->elems[i].partition);
        if (t && t->offset >= 0)
            rd_kafka_topic_partition_list_add(to, t->topic, t->partition)->offset = t->offset;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (to->cnt > 0)
        log_debug("rebalance: %d partition(s) kept go on from where the stage stands", to->cnt);
    (void)seek_to(c, to, 0, 1, "seek to the positions kept through a rebalance");
    rd_kafka_topic_partition_list_destroy(to);
}

/* librdkafka's own handling (incremental with cooperative-sticky, whole
 * otherwise), then: a partition taken away is forgotten (given back, it
 * starts at the group's committed offset), one kept goes on from where the
 * stage stands. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    kafka_consumer *c = opaque;
    const int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t rerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (coop)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rerr = rd_kafka_assign(rk, parts);
    } else {
        for (int i = 0; parts && i < parts->cnt; i++)
            rd_kafka_topic_partition_list_del(c->taken, parts->elems[i].topic,
                                              parts->elems[i].partition);
        if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
            log_warn("rebalance: %s", rd_kafka_err2str(err));
        if (coop && parts) {
            e = rd_kafka_incremental_unassign(rk, parts);
        } else {
            rerr = rd_kafka_assign(rk, NULL);
            rd_kafka_topic_partition_list_destroy(c->taken);
            c->taken = rd_kafka_topic_partition_list_new(0);
        }
    }
    if (e) {
        log_error("rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else if (rerr) {
        log_error("rebalance: %s", rd_kafka_err2str(rerr));
    }
    seek_taken(c);
}

attune_err kafka_consumer_new(const config *cfg, const char *const *topics, size_t topic_count,
                              int transactional, kafka_consumer **out, char *errstr,
                              size_t errstr_size)
{
    const char *defaults[] = {"group.id", cfg->group_id, "enable.auto.commit",
                              transactional ? "false" : "true", "enable.auto.offset.store", "false",
                              "auto.offset.reset", "earliest", "partition.assignment.strategy",
                              "cooperative-sticky", "isolation.level", "read_committed",
                              "enable.partition.eof", "false",
                              /* A killed instance's partitions wait for its
                               * session to time out: 10 s, not the default
                               * 45 s, of no decisions (a stopped one leaves
                               * the group: kafka_consumer_free). */
                              "session.timeout.ms", "10000", "heartbeat.interval.ms", "3000",
                              /* A transaction's records become readable when
                               * its commit marker lands, which does not wake
                               * a waiting fetch: keep the wait short. */
                              "fetch.wait.max.ms", "10", NULL};
    *out = NULL;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    attune_err err = conf_common(cfg, conf, "consumer", defaults, errstr, errstr_size);
    if (err) {
        rd_kafka_conf_destroy(conf);
        return err;
    }
    kafka_consumer *c = calloc(1, sizeof *c);
    if (!c) {
        rd_kafka_conf_destroy(conf);
        return ATTUNE_ERR_NOMEM;
    }
    c->taken = rd_kafka_topic_partition_list_new(0);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, c);
    char why[512], reset[32];
    size_t reset_len = sizeof reset;
    if (rd_kafka_conf_get(conf, "auto.offset.reset", reset, &reset_len) == RD_KAFKA_CONF_OK)
        c->reset_to_end = strcmp(reset, "latest") == 0 || strcmp(reset, "largest") == 0 ||
                          strcmp(reset, "end") == 0;
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        rd_kafka_topic_partition_list_destroy(c->taken);
        free(c);
        return attune_errf(ATTUNE_ERR_KAFKA, errstr, errstr_size, "kafka consumer: %s", why);
    }
    conf = NULL; /* now owned by rk */
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new((int)topic_count);
    for (size_t i = 0; i < topic_count; i++)
        rd_kafka_topic_partition_list_add(subs, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rerr = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (rerr) {
        rd_kafka_destroy(c->rk);
        rd_kafka_topic_partition_list_destroy(c->taken);
        free(c);
        return attune_errf(ATTUNE_ERR_KAFKA, errstr, errstr_size, "subscribe: %s",
                           rd_kafka_err2str(rerr));
    }
    *out = c;
    return ATTUNE_OK;
}

void kafka_consumer_free(kafka_consumer *c, int broker_up)
{
    if (!c)
        return;
    /* (first: a list copied from the assignment holds references to the
     * partitions, and rd_kafka_destroy waits for every one) */
    if (c->committed)
        rd_kafka_topic_partition_list_destroy(c->committed);
    if (c->batch_group)
        rd_kafka_consumer_group_metadata_destroy(c->batch_group);
    if (broker_up) {
        /* Unsubscribing first and serving the revocation is what makes
         * librdkafka 2.0's cooperative consumer send its LeaveGroup (on
         * close alone the group waits out the session): a record still
         * arriving is dropped unstored, read again by the next owner. */
        if (rd_kafka_unsubscribe(c->rk) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            double until = ts_mono() + 3;
            while (ts_mono() < until) {
                rd_kafka_topic_partition_list_t *l = NULL;
                int held =
                    rd_kafka_assignment(c->rk, &l) == RD_KAFKA_RESP_ERR_NO_ERROR && l && l->cnt > 0;
                if (l)
                    rd_kafka_topic_partition_list_destroy(l);
                if (!held)
                    break;
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 100);
                if (m)
                    rd_kafka_message_destroy(m);
            }
        }
        rd_kafka_resp_err_t err = rd_kafka_consumer_close(c->rk);
        if (err)
            log_warn("consumer close: %s", rd_kafka_err2str(err));
        rd_kafka_destroy(c->rk);
    } else {
        log_warn("no broker reachable: leaving without a final commit");
        rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    /* (last: the close serves the revocation through on_rebalance) */
    rd_kafka_topic_partition_list_destroy(c->taken);
    free(c);
}

size_t kafka_consumer_poll_batch(kafka_consumer *c, rd_kafka_message_t **msgs, size_t max,
                                 int idle_ms, int fill_ms)
{
    size_t n = 0;
    double deadline = ts_mono() + idle_ms / 1000.0;
    while (n < max) {
        int left = (int)((deadline - ts_mono()) * 1000);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, left > 0 ? left : 0);
        if (!m) {
            if (left <= 0)
                break;
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                log_warn("consume: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        /* A fetch restarted behind the stage (see taken) hands over again
         * records it already took: they are dropped, and the partition is
         * sought on to where the stage stands, once: the position is then
         * forgotten, so that a log that no longer reaches it (a topic made
         * anew) cannot keep the stage seeking and dropping for ever. */
        const char *topic = rd_kafka_topic_name(m->rkt);
        const rd_kafka_topic_partition_t *t =
            rd_kafka_topic_partition_list_find(c->taken, topic, m->partition);
        if (t && m->offset < t->offset) {
            log_warn("%s[%d]: record at %lld handed over again, the stage stands at %lld: "
                     "skipped",
                     topic, (int)m->partition, (long long)m->offset, (long long)t->offset);
            rd_kafka_topic_partition_list_t *to = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(to, topic, m->partition)->offset = t->offset;
            (void)seek_to(c, to, 1, 1, "seek on");
            rd_kafka_topic_partition_list_destroy(to);
            rd_kafka_message_destroy(m);
            continue;
        }
        set_taken(c, topic, m->partition, m->offset + 1);
        /* The first record starts the fill window: small bursts go out
         * together without holding a lone record for long. */
        if (n == 0) {
            deadline = ts_mono() + fill_ms / 1000.0;
            if (c->batch_group)
                rd_kafka_consumer_group_metadata_destroy(c->batch_group);
            c->batch_group = rd_kafka_consumer_group_metadata(c->rk);
        }
        msgs[n++] = m;
    }
    return n;
}

/* One entry per partition holding the lowest (first) or highest (last)
 * offset among the records. */
static rd_kafka_topic_partition_list_t *per_partition(rd_kafka_message_t *const *msgs, size_t n,
                                                      int lowest)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++) {
        const char *topic = rd_kafka_topic_name(msgs[i]->rkt);
        int64_t off = lowest ? msgs[i]->offset : msgs[i]->offset + 1;
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(l, topic, msgs[i]->partition);
        if (!tp)
            rd_kafka_topic_partition_list_add(l, topic, msgs[i]->partition)->offset = off;
        else if (lowest ? off < tp->offset : off > tp->offset)
            tp->offset = off;
    }
    return l;
}

attune_err kafka_consumer_store(kafka_consumer *c, rd_kafka_message_t *const *msgs, size_t n)
{
    if (n == 0)
        return ATTUNE_OK;
    rd_kafka_topic_partition_list_t *l = per_partition(msgs, n, 0);
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, l);
    /* A partition revoked meanwhile reports an error: its new owner consumes
     * those records again, which at-least-once allows. */
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].err)
            log_info("offset not stored for %s[%d]: %s", l->elems[i].topic,
                     (int)l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
    rd_kafka_topic_partition_list_destroy(l);
    return err && err != RD_KAFKA_RESP_ERR__STATE ? ATTUNE_ERR_KAFKA : ATTUNE_OK;
}

attune_err kafka_consumer_rewind(kafka_consumer *c, rd_kafka_message_t *const *msgs, size_t n)
{
    if (n == 0)
        return ATTUNE_OK;
    rd_kafka_topic_partition_list_t *l = per_partition(msgs, n, 1);
    attune_err err = seek_to(c, l, 0, 0, "seek back failed");
    rd_kafka_topic_partition_list_destroy(l);
    return err;
}

attune_err kafka_consumer_seek_committed(kafka_consumer *c, rd_kafka_message_t *const *msgs,
                                         size_t n)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(c->rk, &l) || !l)
        return ATTUNE_ERR_KAFKA;
    attune_err err = ATTUNE_OK;
    rd_kafka_resp_err_t rerr = l->cnt > 0 ? rd_kafka_committed(c->rk, l, 10000) : 0;
    if (rerr) {
        log_error("committed offsets: %s", rd_kafka_err2str(rerr));
        err = ATTUNE_ERR_KAFKA;
    } else if (l->cnt > 0) {
        /* A partition with nothing committed (yet, or not readable yet
         * after a coordinator moved) keeps its place, or goes back to the
         * batch's first record of it: never to the log's start, which would
         * do the whole partition again. */
        rd_kafka_topic_partition_list_t *first = per_partition(msgs, n, 1);
        rd_kafka_topic_partition_list_t *to = rd_kafka_topic_partition_list_new(l->cnt);
        for (int i = 0; i < l->cnt; i++) {
            int64_t at = l->elems[i].offset;
            if (at < 0) {
                const rd_kafka_topic_partition_t *b = rd_kafka_topic_partition_list_find(
                    first, l->elems[i].topic, l->elems[i].partition);
                at = b ? b->offset : -1;
            }
            if (at >= 0)
                rd_kafka_topic_partition_list_add(to, l->elems[i].topic, l->elems[i].partition)
                    ->offset = at;
        }
        err = seek_to(c, to, 0, 0, "seek to the committed offsets");
        rd_kafka_topic_partition_list_destroy(to);
        rd_kafka_topic_partition_list_destroy(first);
    }
    rd_kafka_topic_partition_list_destroy(l);
    return err;
}

attune_err kafka_txn_commit(kafka_producer *p, kafka_consumer *c, rd_kafka_message_t *const *msgs,
                            size_t n, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *offsets = per_partition(msgs, n, 0);
    rd_kafka_consumer_group_metadata_t *now =
        c->batch_group ? NULL : rd_kafka_consumer_group_metadata(c->rk);
    const rd_kafka_consumer_group_metadata_t *cgmd = c->batch_group ? c->batch_group : now;
    rd_kafka_error_t *e = NULL;
    /* A retriable error is resumed by calling the same step again: once the
     * offsets are in, only the commit is retried (sending them again after
     * the commit began would be refused). */
    int offsets_sent = 0;
    for (int attempt = 0; attempt < 10; attempt++) {
        if (!offsets_sent) {
            e = rd_kafka_send_offsets_to_transaction(p->rk, offsets, cgmd, 30000);
            offsets_sent = e == NULL;
        }
        if (offsets_sent) {
            e = rd_kafka_commit_transaction(p->rk, p->produce_timeout_ms + 5000);
            if (!e)
                break;
        }
        if (!rd_kafka_error_is_retriable(e))
            break;
        log_warn("commit transaction: %s; retrying", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        e = NULL;
    }
    if (now)
        rd_kafka_consumer_group_metadata_destroy(now);
    rd_kafka_topic_partition_list_destroy(offsets);
    if (!e)
        return ATTUNE_OK;
    int abortable = rd_kafka_error_txn_requires_abort(e);
    attune_err err = txn_error(e, "commit transaction", errstr, errstr_size);
    if (err == ATTUNE_ERR_KAFKA && abortable) {
        char why[256];
        if (kafka_txn_abort(p, why, sizeof why) == ATTUNE_ERR_STOPPED) {
            log_error("%s", why);
            return ATTUNE_ERR_STOPPED;
        }
    }
    return err;
}

/* Whether two partition lists name the same partitions in the same order. */
static int same_partitions(const rd_kafka_topic_partition_list_t *a,
                           const rd_kafka_topic_partition_list_t *b)
{
    if (!a || !b || a->cnt != b->cnt)
        return 0;
    for (int i = 0; i < a->cnt; i++)
        if (a->elems[i].partition != b->elems[i].partition ||
            strcmp(a->elems[i].topic, b->elems[i].topic) != 0)
            return 0;
    return 1;
}

long long kafka_consumer_lag(kafka_consumer *c)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(c->rk, &l) || !l)
        return -1;
    /* No partition (joining the group, or a rebalance under way): the
     * backlog is not known here, and 0 would say there is none. */
    long long lag = -1;
    if (l->cnt > 0 && rd_kafka_position(c->rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* A partition nothing was read from since it was assigned has no
         * position: reading starts at the group's committed offset, not at
         * the log's start, which would count records handled long ago. The
         * coordinator is asked once per assignment and every 30 s while
         * partitions stay unread (for at most 1 s). */
        int unread = 0;
        for (int i = 0; i < l->cnt; i++)
            unread |= l->elems[i].offset < 0;
        if (unread && (!same_partitions(c->committed, l) ||
                       ts_mono() - c->committed_at > COMMITTED_MAX_AGE_S)) {
            /* (asked into a new list: a failed refresh keeps the last
             * good answer, and is asked again at the next sample) */
            rd_kafka_topic_partition_list_t *fresh = rd_kafka_topic_partition_list_copy(l);
            if (rd_kafka_committed(c->rk, fresh, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (c->committed)
                    rd_kafka_topic_partition_list_destroy(c->committed);
                c->committed = fresh;
                c->committed_at = ts_mono();
            } else {
                rd_kafka_topic_partition_list_destroy(fresh);
            }
        }
        const rd_kafka_topic_partition_list_t *committed =
            same_partitions(c->committed, l) ? c->committed : NULL;
        lag = 0;
        for (int i = 0; i < l->cnt; i++) {
            int64_t lo, hi;
            if (rd_kafka_get_watermark_offsets(c->rk, l->elems[i].topic, l->elems[i].partition, &lo,
                                               &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
                hi < 0)
                continue;
            int64_t pos = l->elems[i].offset;
            if (pos < 0) /* nothing committed: where auto.offset.reset starts */
                pos = committed && committed->elems[i].offset >= 0 ? committed->elems[i].offset
                      : c->reset_to_end                            ? hi
                                                                   : lo;
            if (hi > pos)
                lag += hi - pos;
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    return lag;
}

rd_kafka_t *kafka_consumer_handle(kafka_consumer *c)
{
    return c->rk;
}

int kafka_header_get(const rd_kafka_message_t *msg, const char *name, char *out, size_t out_size)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *val;
    size_t len;
    if (rd_kafka_message_headers(msg, &hdrs) || !hdrs ||
        rd_kafka_header_get_last(hdrs, name, &val, &len))
        return -1;
    if (len >= out_size)
        len = out_size - 1;
    memcpy(out, val, len);
    out[len] = '\0';
    return 0;
}
