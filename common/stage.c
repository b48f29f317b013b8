#include "stage.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "service.h"
#include "ts.h"

/* The producer the readiness probe (HTTP thread) looks at; mu guards the
 * pointer, which the stage replaces after a fatal producer error. */
typedef struct {
    pthread_mutex_t mu;
    kafka_producer *producer;
} stage_ready_ctx;

static int stage_ready(void *ud)
{
    stage_ready_ctx *r = ud;
    pthread_mutex_lock(&r->mu);
    int ok = r->producer && kafka_producer_ready(r->producer);
    pthread_mutex_unlock(&r->mu);
    return ok;
}

static kafka_producer *swap_producer(stage_ready_ctx *r, kafka_producer *p)
{
    pthread_mutex_lock(&r->mu);
    kafka_producer *old = r->producer;
    r->producer = p;
    pthread_mutex_unlock(&r->mu);
    return old;
}

static attune_err new_producer(const config *cfg, kafka_producer **out, char *errstr,
                               size_t errstr_size)
{
    return cfg->exactly_once ? kafka_producer_new_transactional(cfg, out, errstr, errstr_size)
                             : kafka_producer_new(cfg, out, errstr, errstr_size);
}

attune_err stage_emit(stage_io *io, const rd_kafka_message_t *from, const char *topic,
                      const char *key, const cJSON *event)
{
    char *text = json_print(event);
    if (!text)
        return ATTUNE_ERR_NOMEM;
    const char *tp = json_str(event, "traceparent");
    const kafka_header h[] = {{"content-type", EVENT_CONTENT_TYPE}, {"traceparent", tp ? tp : ""}};
    const size_t len = strlen(text);
    attune_err err = kafka_produce(io->producer, topic, key, key ? strlen(key) : 0, text, len, h,
                                   tp ? 2 : 1, io->wait, NULL);
    free(text);
    if (err == ATTUNE_ERR_TOO_LARGE) {
        /* Retrying would stop every partition of this instance for good:
         * the input goes to the dead-letter topic with the reason. */
        char reason[256];
        snprintf(reason, sizeof reason,
                 "output for %s is %zu bytes, over the record limit of %zu bytes "
                 "(message.max.bytes)",
                 topic, len, kafka_producer_max_record(io->producer));
        io->too_large++;
        return stage_reject(io, from, reason);
    }
    if (!err) {
        char labels[300];
        snprintf(labels, sizeof labels, "topic=\"%s\"", topic);
        metric_inc(metrics_counter("attune_records_produced_total", "records produced", labels));
    }
    return err;
}

attune_err stage_read_event(const config *cfg, const rd_kafka_message_t *m, const char *want_type,
                            stage_data_check check, cJSON **root, char *reason, size_t reason_size)
{
    problem_field pf;
    attune_err err = json_parse(m->payload ? m->payload : "", m->len, (int)cfg->max_json_depth,
                                root, reason, reason_size);
    if (err)
        return err;
    err = event_validate(*root, want_type, "", &pf);
    if (!err && check)
        err = check(cfg, cJSON_GetObjectItemCaseSensitive(*root, "data"), &pf);
    if (err) {
        snprintf(reason, reason_size, "invalid event at %s: %s", pf.pointer[0] ? pf.pointer : "/",
                 pf.detail);
        cJSON_Delete(*root);
        *root = NULL;
    }
    return err;
}

attune_err stage_reject(stage_io *io, const rd_kafka_message_t *msg, const char *reason)
{
    return stage_reject_with(io, msg, reason, NULL, 0);
}

/* The stage's counters, registered at start so that they read 0 before the
 * first increment (an alert on their rate needs the series). */
static metric *deadletter_counter(void)
{
    return metrics_counter("attune_deadletter_total", "records sent to the dead-letter topic",
                           NULL);
}

static metric *rebuilds_counter(void)
{
    return metrics_counter("attune_producer_rebuilds_total",
                           "producers built anew after a fatal error", NULL);
}

attune_err stage_reject_with(stage_io *io, const rd_kafka_message_t *msg, const char *reason,
                             const kafka_header *extra, size_t extra_count)
{
    log_warn("dead-lettering %s[%d]@%lld: %s", rd_kafka_topic_name(msg->rkt), (int)msg->partition,
             (long long)msg->offset, reason);
    attune_err err = kafka_deadletter(io->producer, io->cfg->topic_deadletter, io->cfg->service,
                                      msg, reason, extra, extra_count, io->wait);
    if (!err) /* (queued: a batch that is retried counts it again) */
        metric_inc(deadletter_counter());
    return err;
}

/* Runs fn over one batch and makes its outputs durable together with the
 * input offsets: in one transaction (exactly once), or by storing the offsets
 * only after every output is acknowledged (at least once). */
static attune_err handle_batch(const config *cfg, kafka_producer *p, kafka_consumer *c,
                               stage_batch_fn fn, void *ud, rd_kafka_message_t *const *msgs,
                               size_t n, char *errstr, size_t errstr_size)
{
    int txn = cfg->exactly_once != 0;
    attune_err err = txn ? kafka_txn_begin(p, errstr, errstr_size) : ATTUNE_OK;
    if (err)
        return err;
    kafka_wait w;
    kafka_wait_init(&w);
    stage_io io = {cfg, p, &w, 0};
    err = fn(ud, &io, msgs, n);
    if (err)
        attune_errf(err, errstr, errstr_size, "batch handler: %s", attune_err_str(err));
    if (txn && !err) {
        err = kafka_txn_commit(p, c, msgs, n, errstr, errstr_size);
    } else if (txn && kafka_txn_abort(p, NULL, 0) == ATTUNE_ERR_STOPPED) {
        err = ATTUNE_ERR_STOPPED;
    }
    /* Always wait: records already queued point at w. */
    char why[256];
    attune_err werr = kafka_wait_all(&w, why, sizeof why);
    kafka_wait_fini(&w);
    /* (a record the broker refused as too large also fails the commit of
     * its transaction: that cause is the one to act on) */
    if (werr && (!err || (werr == ATTUNE_ERR_TOO_LARGE && err != ATTUNE_ERR_STOPPED))) {
        err = werr;
        snprintf(errstr, errstr_size, "%s", why);
    }
    if (!err && !txn)
        err = kafka_consumer_store(c, msgs, n);
    /* (an idempotent producer's fatal error fails every delivery with a
     * plain error: retrying would go on for ever) */
    if (err && err != ATTUNE_ERR_STOPPED && kafka_producer_failed(p)) {
        attune_errf(ATTUNE_ERR_STOPPED, errstr, errstr_size, "the producer failed fatally");
        err = ATTUNE_ERR_STOPPED;
    }
    return err;
}

static attune_err reject_all(void *reason, stage_io *io, rd_kafka_message_t *const *msgs, size_t n)
{
    attune_err err = ATTUNE_OK;
    for (size_t i = 0; i < n && !err; i++)
        err = stage_reject(io, msgs[i], reason);
    return err;
}

/* After the broker refused an output of the batch as too large (a topic's
 * max.message.bytes below the producer's message.max.bytes, which stage_emit
 * cannot see), the records are handled again one at a time and the one whose
 * output is refused is dead-lettered: retrying the batch would fail forever.
 * Returns how many records are done; *err: why the next one is not. */
static size_t one_by_one(const config *cfg, kafka_producer *p, kafka_consumer *c,
                         const stage_spec *spec, rd_kafka_message_t *const *msgs, size_t n,
                         attune_err *err, char *errstr, size_t errstr_size)
{
    static char reason[] = "an output was refused by the broker as too large "
                           "(the topic's max.message.bytes is below the producer's "
                           "message.max.bytes)";
    size_t i = 0;
    for (*err = ATTUNE_OK; i < n && !*err; i++) {
        *err = handle_batch(cfg, p, c, spec->batch, spec->ud, &msgs[i], 1, errstr, errstr_size);
        if (*err == ATTUNE_ERR_TOO_LARGE)
            *err = handle_batch(cfg, p, c, reject_all, reason, &msgs[i], 1, errstr, errstr_size);
    }
    return *err ? i - 1 : i;
}

static void sleep_while_running(int ms)
{
    for (int i = 0; i < ms / 50 && service_running; i++)
        usleep(50 * 1000);
}

/* More rebuilds than this within the window and the stage gives up: being
 * fenced again and again means another instance runs with the same
 * transactional.id. */
#define REBUILD_MAX 5
#define REBUILD_WINDOW_S 600

/* The times of the last REBUILD_MAX rebuilds, oldest first. */
typedef struct {
    double at[REBUILD_MAX];
    int n;
} rebuild_log;

enum { REBUILD_GIVE_UP, REBUILD_DONE, REBUILD_STOPPING };

/* After a fatal producer error the stage builds a new producer in this
 * process rather than exit: a broker that was unreachable for longer than
 * transaction.timeout.ms aborted the open transaction and fences its
 * producer, and nothing may be waiting to restart the stage (the local
 * stack has no supervisor). The new producer's init_transactions fences the
 * old id; the caller reads again from the committed offsets. Retried with
 * a growing pause while the cluster is still away. */
static int rebuild_producer(const config *cfg, stage_ready_ctx *ready, rebuild_log *log)
{
    const double now = ts_mono();
    if (log->n == REBUILD_MAX && now - log->at[0] < REBUILD_WINDOW_S) {
        log_error("producer failed fatally %d times in %d s (another instance with the same "
                  "transactional.id?); exiting",
                  REBUILD_MAX + 1, REBUILD_WINDOW_S);
        return REBUILD_GIVE_UP;
    }
    if (log->n == REBUILD_MAX) {
        memmove(log->at, log->at + 1, (REBUILD_MAX - 1) * sizeof log->at[0]);
        log->n--;
    }
    log->at[log->n++] = now;
    kafka_producer_free(swap_producer(ready, NULL));
    for (int pause = 1000; service_running; pause = pause < 16000 ? pause * 2 : pause) {
        char errstr[512];
        kafka_producer *p = NULL;
        if (new_producer(cfg, &p, errstr, sizeof errstr) == ATTUNE_OK) {
            swap_producer(ready, p);
            log_info("new producer ready; reading again from the committed offsets");
            metric_inc(rebuilds_counter());
            return REBUILD_DONE;
        }
        log_error("%s; trying again in %d s", errstr, pause / 1000);
        sleep_while_running(pause);
    }
    return REBUILD_STOPPING;
}

/* After a failed batch: a transactional stage reads again from what the
 * group committed (the batch's own offsets could be behind it: the group
 * may have changed meanwhile and another member committed more), falling
 * back to the batch when the coordinator cannot be asked; an at-least-once
 * stage goes back to the batch, whose offsets it never stored. */
static void read_again(const config *cfg, kafka_consumer *c, rd_kafka_message_t *const *msgs,
                       size_t n)
{
    if (cfg->exactly_once && kafka_consumer_seek_committed(c, msgs, n) == ATTUNE_OK)
        return;
    if (kafka_consumer_rewind(c, msgs, n) != ATTUNE_OK)
        log_error("could not seek back; records will be re-read after restart");
}

int stage_run(const config *cfg, const stage_spec *spec)
{
    const char *in_topic = spec->in_topic;
    char errstr[512];
    stage_ready_ctx ready = {PTHREAD_MUTEX_INITIALIZER, NULL};
    rebuild_log rebuilds = {{0}, 0};
    httpd *http = NULL;
    kafka_consumer *consumer = NULL;
    rd_kafka_message_t **msgs = NULL;
    int code = 1;

    service_install_signals();
    deadletter_counter();
    rebuilds_counter();
    if (httpd_start(cfg, spec->routes, spec->route_count, stage_ready, &ready, &http, errstr,
                    sizeof errstr) != ATTUNE_OK) {
        log_error("%s", errstr);
        goto out;
    }
    kafka_producer *first = NULL;
    if (new_producer(cfg, &first, errstr, sizeof errstr) != ATTUNE_OK) {
        log_error("%s", errstr);
        goto out;
    }
    swap_producer(&ready, first);
    const char *topics[] = {in_topic};
    if (kafka_consumer_new(cfg, topics, 1, cfg->exactly_once != 0, &consumer, errstr,
                           sizeof errstr) != ATTUNE_OK) {
        log_error("%s", errstr);
        goto out;
    }
    msgs = calloc((size_t)cfg->batch_size, sizeof *msgs);
    if (!msgs) {
        log_error("out of memory");
        goto out;
    }
    char labels[300];
    snprintf(labels, sizeof labels, "topic=\"%s\"", in_topic);
    metric *consumed = metrics_counter("attune_records_consumed_total", "records consumed", labels);
    metric *retries = metrics_counter("attune_batch_retries_total",
                                      "batches consumed again after a failed output", NULL);
    metric *batch_time = metrics_histogram("attune_batch_duration_seconds",
                                           "time to handle one batch, outputs acknowledged", NULL);
    metric *latency = metrics_histogram(
        "attune_stage_latency_seconds",
        "from the input record's timestamp to its outputs being acknowledged", NULL);
    metric *lag = metrics_gauge("attune_consumer_lag", "records not yet consumed", labels);
    log_info("consuming %s as group %s (%s), http on %s (port %d)", in_topic, cfg->group_id,
             cfg->exactly_once ? "exactly once" : "at least once", cfg->http_addr,
             httpd_port(http));

    double last_lag = 0;
    while (service_running) {
        /* Sampled before the poll, where the position is past what was
         * handled or back at a batch being retried: right after a poll it
         * is past the batch just read, and a stalled stage showed no lag. */
        if (ts_mono() - last_lag > 5) {
            metric_set(lag, (double)kafka_consumer_lag(consumer));
            last_lag = ts_mono();
        }
        size_t n = kafka_consumer_poll_batch(consumer, msgs, (size_t)cfg->batch_size, 100,
                                             (int)cfg->batch_wait_ms);
        double now = ts_mono();
        if (spec->idle)
            spec->idle(spec->ud);
        if (n == 0)
            continue;
        metric_add(consumed, n);
        attune_err err = handle_batch(cfg, ready.producer, consumer, spec->batch, spec->ud, msgs, n,
                                      errstr, sizeof errstr);
        size_t done = 0; /* records handled when err is set */
        if (err == ATTUNE_ERR_TOO_LARGE) {
            log_warn("%s; handling the batch one record at a time", errstr);
            done = one_by_one(cfg, ready.producer, consumer, spec, msgs, n, &err, errstr,
                              sizeof errstr);
        }
        if (err == ATTUNE_ERR_STOPPED) {
            log_error("%s; building a new producer", errstr);
            const int rb = rebuild_producer(cfg, &ready, &rebuilds);
            /* (a commit whose answer was lost may have gone through, offsets
             * and all: what the group committed says) */
            if (rb == REBUILD_DONE)
                read_again(cfg, consumer, msgs + done, n - done);
            for (size_t i = 0; i < n; i++)
                rd_kafka_message_destroy(msgs[i]);
            if (rb == REBUILD_GIVE_UP)
                goto out;
            continue; /* (stopping: the loop ends) */
        }
        if (err) {
            log_error("%s; consuming %zu record(s) again", errstr, n - done);
            metric_inc(retries);
            read_again(cfg, consumer, msgs + done, n - done);
            sleep_while_running(1000);
        } else {
            metric_observe(batch_time, ts_mono() - now);
            int64_t wall = ts_now_ms();
            for (size_t i = 0; i < n; i++) {
                rd_kafka_timestamp_type_t tt;
                int64_t t = rd_kafka_message_timestamp(msgs[i], &tt);
                if (t > 0)
                    metric_observe(latency, (double)(wall - t) / 1000.0);
            }
        }
        for (size_t i = 0; i < n; i++)
            rd_kafka_message_destroy(msgs[i]);
    }
    log_info("stopping: closing consumer, flushing producer");
    code = 0;
out:
    kafka_consumer_free(consumer, ready.producer && kafka_producer_ready(ready.producer));
    httpd_stop(http);
    kafka_producer_free(ready.producer);
    free(msgs);
    return code;
}
