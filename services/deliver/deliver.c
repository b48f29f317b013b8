#include "deliver.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "breaker.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "progress.h"
#include "retry.h"
#include "sender.h"
#include "service.h"
#include "stage.h"
#include "ts.h"

/* Decisions nest a few levels; the limit only guards cJSON's recursion. */
#define DELIVER_MAX_JSON_DEPTH 64
/* Longest Idempotency-Key and traceparent passed on as header values. */
#define DELIVER_MAX_KEY_LEN 200
#define DELIVER_MAX_TRACEPARENT_LEN 128
/* librdkafka's default max.poll.interval.ms. */
#define DELIVER_DEFAULT_MAX_POLL_MS 300000L
/* Waits are cut into steps this long so a shutdown is seen at once. */
#define DELIVER_SLEEP_STEP_S 0.05

typedef enum { REC_PENDING = 0, REC_DELIVERED, REC_REJECT } rec_state;

typedef struct {
    const rd_kafka_message_t *msg; /* borrowed from the stage */
    progress_entry *prog;          /* borrowed from the progress table */
    rec_state state;
    char *reason; /* owned; set with REC_REJECT */
} rec;

typedef struct deliver_svc deliver_svc;

typedef struct {
    deliver_svc *svc;
    sender *snd;
    uint64_t rng;
    size_t *todo; /* indexes into the batch's recs, in offset order */
    size_t todo_count;
    rec *recs;
    double deadline;
    attune_err err; /* a local failure (memory), not an HTTP outcome */
    pthread_t thread;
    int started;
} slot;

struct deliver_svc {
    const config *cfg;
    slot *slots;
    size_t slot_count;
    pthread_mutex_t mu; /* guards br */
    breaker br;
    progress prog;
    double wait_bound_s;
    metric *req_ok, *req_retry, *req_rejected, *req_failed;
    metric *retries, *deadletters, *req_seconds, *breaker_state, *breaker_opens;
};

/* --- configuration ------------------------------------------------------ */

static attune_err check_url(const char *url, char *errstr, size_t errstr_size)
{
    if (!url || !*url)
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                           "ATTUNE_DELIVER_URL: required (the http(s) URL decisions are "
                           "POSTed to)");
    CURLU *u = curl_url();
    if (!u)
        return ATTUNE_ERR_NOMEM;
    char *scheme = NULL;
    attune_err err = ATTUNE_OK;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        err = attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                          "ATTUNE_DELIVER_URL: not a valid absolute URL");
    else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
        err = attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                          "ATTUNE_DELIVER_URL: scheme '%s' is not http or https", scheme);
    curl_free(scheme);
    curl_url_cleanup(u);
    return err;
}

static attune_err replace(char **field, const char *value)
{
    char *s = strdup(value);
    if (!s)
        return ATTUNE_ERR_NOMEM;
    free(*field);
    *field = s;
    return ATTUNE_OK;
}

attune_err deliver_configure(config *cfg, char *errstr, size_t errstr_size)
{
    attune_err err = check_url(cfg->deliver_url, errstr, errstr_size);
    if (err)
        return err;
    if (cfg->deliver_breaker_failures > cfg->deliver_max_attempts)
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                           "ATTUNE_DELIVER_BREAKER_FAILURES (%ld) must not exceed "
                           "ATTUNE_DELIVER_MAX_ATTEMPTS (%ld): a dead endpoint would use up "
                           "decisions' attempts before the breaker opens",
                           cfg->deliver_breaker_failures, cfg->deliver_max_attempts);
    if (cfg->deliver_backoff_ms > cfg->deliver_backoff_max_ms)
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                           "ATTUNE_DELIVER_BACKOFF_MS (%ld) must not exceed "
                           "ATTUNE_DELIVER_BACKOFF_MAX_MS (%ld)",
                           cfg->deliver_backoff_ms, cfg->deliver_backoff_max_ms);
    if (cfg->deliver_breaker_cooldown_ms > cfg->deliver_breaker_cooldown_max_ms)
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                           "ATTUNE_DELIVER_BREAKER_COOLDOWN_MS (%ld) must not exceed "
                           "ATTUNE_DELIVER_BREAKER_COOLDOWN_MAX_MS (%ld)",
                           cfg->deliver_breaker_cooldown_ms, cfg->deliver_breaker_cooldown_max_ms);
    if (!*cfg->deliver_topic)
        err = replace(&cfg->deliver_topic, cfg->topic_crm);
    /* One group per topic by default, so a CRM deployment and a router
     * webhook deployment never share (and split) partitions. */
    const char *group = getenv("ATTUNE_GROUP_ID");
    if (!err && !(group && *group)) {
        char name[512];
        snprintf(name, sizeof name, "attune-deliver-%s", cfg->deliver_topic);
        err = replace(&cfg->group_id, name);
    }
    /* An HTTP call cannot join a Kafka transaction: at least once, and the
     * Idempotency-Key lets the receiver drop a repeated delivery. */
    cfg->exactly_once = 0;
    return err;
}

/* The longest a batch may keep the consumer from polling: half of
 * max.poll.interval.ms, less one request that may be in flight when it
 * ends. Past it the batch is handed back and consumed again. */
static double wait_bound_s(const config *cfg)
{
    long max_poll = DELIVER_DEFAULT_MAX_POLL_MS;
    for (size_t i = 0; i < cfg->kafka_prop_count; i++) {
        const char *name = config_kafka_prop(cfg, i, "consumer");
        if (name && strcmp(name, "max.poll.interval.ms") == 0)
            max_poll = strtol(cfg->kafka_prop_values[i], NULL, 10);
    }
    long bound = max_poll / 2 - cfg->deliver_timeout_ms;
    return (bound < 1000 ? 1000 : bound) / 1000.0;
}

/* --- one decision ------------------------------------------------------- */

static int64_t mono_ms(void)
{
    return (int64_t)(ts_mono() * 1000.0);
}

/* Sleeps until t (monotonic seconds). 0 when reached; -1 when t is past the
 * batch deadline (after sleeping until the deadline, so a long Retry-After
 * does not make the batch bounce) or when shutdown comes first. */
static int sleep_until(double t, double deadline)
{
    int beyond = t > deadline;
    if (beyond)
        t = deadline;
    while (service_running) {
        double left = t - ts_mono();
        if (left <= 0 && beyond)
            return -1;
        if (left <= 0)
            return 0;
        double step = left < DELIVER_SLEEP_STEP_S ? left : DELIVER_SLEEP_STEP_S;
        usleep((useconds_t)(step * 1e6));
    }
    return -1;
}

/* 1 when s can go into a header line as it is: printable ASCII, no CR/LF
 * (a decision id must not smuggle in headers). */
static int header_safe(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < 0x20 || s[n] > 0x7e || n >= max)
            return 0;
    return n > 0;
}

/* Marks r for the dead-letter topic with the reason (a NULL reason from a
 * failed strdup still dead-letters, with a generic one). */
static void __attribute__((format(printf, 2, 3))) reject(rec *r, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    free(r->reason);
    r->reason = strdup(text);
    r->state = REC_REJECT;
}

static void set_breaker_gauge(deliver_svc *svc, breaker_state st)
{
    metric_set(svc->breaker_state, (double)st);
}

/* The idempotency key of a decision: data.decision_id, else the CloudEvent
 * id. NULL when neither is a string. */
static const char *decision_key(const cJSON *root)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const char *k = cJSON_IsObject(data) ? json_str(data, "decision_id") : NULL;
    return k && *k ? k : json_str(root, "id");
}

/* Delivers r until it is delivered, rejected, or must stay pending (the batch
 * deadline or shutdown came first). */
static void deliver_one(slot *s, rec *r)
{
    deliver_svc *svc = s->svc;
    const config *cfg = svc->cfg;
    const rd_kafka_message_t *m = r->msg;
    progress_entry *p = r->prog;
    char why[256];
    cJSON *root = NULL;
    if (!m->payload || m->len == 0) {
        reject(r, "empty record");
        return;
    }
    if (json_parse(m->payload, m->len, DELIVER_MAX_JSON_DEPTH, &root, why, sizeof why)) {
        reject(r, "not a JSON decision: %s", why);
        return;
    }
    const char *key = cJSON_IsObject(root) ? decision_key(root) : NULL;
    if (!key || !header_safe(key, DELIVER_MAX_KEY_LEN)) {
        reject(r, "%s",
               key ? "decision id is not a valid header value (printable ASCII, at most 200)"
                   : "no decision id: neither data.decision_id nor id is a string");
        cJSON_Delete(root);
        return;
    }
    char tp[DELIVER_MAX_TRACEPARENT_LEN + 1];
    const char *traceparent = NULL;
    if (kafka_header_get(m, "traceparent", tp, sizeof tp) == 0 &&
        header_safe(tp, DELIVER_MAX_TRACEPARENT_LEN))
        traceparent = tp;
    for (;;) {
        if (!service_running)
            break;
        double now = ts_mono();
        if (p->next_at > now) {
            if (sleep_until(p->next_at, s->deadline) != 0)
                break;
            continue;
        }
        if (now >= s->deadline)
            break;
        int64_t wait_ms = 0;
        pthread_mutex_lock(&svc->mu);
        breaker_ticket t = breaker_acquire(&svc->br, mono_ms(), &wait_ms);
        breaker_state st = breaker_get_state(&svc->br);
        set_breaker_gauge(svc, st); /* under the lock: updates stay in order */
        pthread_mutex_unlock(&svc->mu);
        if (t == BREAKER_WAIT) {
            /* The endpoint is down, not this decision: a fresh budget (kept
             * in the progress entry, so it holds across a re-consumption),
             * unless this decision's own failures were of the kind that
             * says the decision, not the endpoint, is the trouble. */
            if (!p->charged)
                p->attempts = 0;
            if (sleep_until(now + (double)wait_ms / 1000.0, s->deadline) != 0)
                break;
            continue;
        }
        sender_result res;
        attune_err err = sender_post(s->snd, m->payload, m->len, key, traceparent, &res);
        if (err) {
            s->err = err;
            if (t == BREAKER_PROBE) {
                /* Give the probe back so another worker can send one. */
                pthread_mutex_lock(&svc->mu);
                breaker_release_probe(&svc->br, mono_ms());
                pthread_mutex_unlock(&svc->mu);
            }
            break;
        }
        if (res.aborted)
            break; /* shutdown: not an outcome, the attempt is not counted */
        p->attempts++;
        metric_observe(svc->req_seconds, res.seconds);
        int failed = retry_endpoint_failed(res.status);
        /* what the endpoint asked for with Retry-After, or -1 */
        long asked_ms = -1;
        if (retry_honours_retry_after(res.status) && res.retry_after[0] &&
            retry_after_parse(res.retry_after, ts_now_ms() / 1000, cfg->deliver_retry_after_max_ms,
                              &asked_ms) != 0)
            asked_ms = -1;
        pthread_mutex_lock(&svc->mu);
        int opened = breaker_report(&svc->br, mono_ms(), t == BREAKER_PROBE, failed);
        if (asked_ms >= 0) /* (the breaker's probes wait as long as asked) */
            breaker_hold(&svc->br, mono_ms() + asked_ms);
        st = breaker_get_state(&svc->br);
        long long cooldown_ms = (long long)svc->br.cooldown_ms;
        set_breaker_gauge(svc, st);
        pthread_mutex_unlock(&svc->mu);
        if (opened && t == BREAKER_PROBE) {
            /* Once per cooldown during an outage: info, the first open warned. */
            metric_inc(svc->breaker_opens);
            log_info("circuit breaker open again: the probe failed (%s); next probe in %lld ms",
                     res.status ? "HTTP error" : res.error, cooldown_ms);
        } else if (opened) {
            metric_inc(svc->breaker_opens);
            log_warn("circuit breaker open after %ld consecutive failures (last: %s); decisions "
                     "wait, a probe goes in %ld ms",
                     cfg->deliver_breaker_failures, res.status ? "an HTTP 5xx" : res.error,
                     cfg->deliver_breaker_cooldown_ms);
        } else if (t == BREAKER_PROBE && st == BREAKER_CLOSED) {
            log_info("circuit breaker closed: the endpoint answered the probe");
        }
        retry_verdict v = retry_classify(res.status);
        if (v == RETRY_DELIVERED) {
            metric_inc(svc->req_ok);
            log_debug("delivered %s[%d]@%lld in %.3f s (HTTP %ld)", rd_kafka_topic_name(m->rkt),
                      (int)m->partition, (long long)m->offset, res.seconds, res.status);
            r->state = REC_DELIVERED;
            p->done = 1;
            break;
        }
        p->status = res.status;
        if (v == RETRY_REJECT) {
            metric_inc(svc->req_rejected);
            reject(r, "delivery refused: HTTP %ld (not retried)", res.status);
            break;
        }
        /* A 500 (or another answer that is not "down or busy") counts
         * against this decision whatever the breaker does: a decision that
         * only it makes fail is dead-lettered after its budget instead of
         * holding the breaker open for good. */
        p->charged = !retry_endpoint_down(res.status);
        if (st != BREAKER_CLOSED && !p->charged) {
            /* The endpoint is down: wait for the breaker, whatever the
             * budget. */
            metric_inc(svc->req_retry);
            continue;
        }
        /* (down or busy, breaker open or not, is never this decision's
         * fault: a 429 does not open the breaker, as the endpoint
         * answered, and an endpoint that keeps asking to slow down must
         * not lose decisions for it) */
        if (p->charged && p->attempts >= cfg->deliver_max_attempts) {
            metric_inc(svc->req_failed);
            if (res.status)
                reject(r, "delivery failed after %ld attempts: HTTP %ld", p->attempts, res.status);
            else
                reject(r, "delivery failed after %ld attempts: %s", p->attempts, res.error);
            break;
        }
        metric_inc(svc->req_retry);
        metric_inc(svc->retries);
        long delay_ms = asked_ms;
        if (delay_ms < 0)
            delay_ms = retry_backoff_ms(p->attempts, cfg->deliver_backoff_ms,
                                        cfg->deliver_backoff_max_ms, retry_rand(&s->rng));
        if (res.status)
            log_info("attempt %ld for %s[%d]@%lld: HTTP %ld; next in %ld ms", p->attempts,
                     rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
                     res.status, delay_ms);
        else
            log_info("attempt %ld for %s[%d]@%lld: %s (%s); next in %ld ms", p->attempts,
                     rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
                     res.error, res.detail, delay_ms);
        p->next_at = ts_mono() + (double)delay_ms / 1000.0;
    }
    cJSON_Delete(root);
}

/* --- a batch ------------------------------------------------------------ */

static void *slot_main(void *arg)
{
    slot *s = arg;
    for (size_t i = 0; i < s->todo_count && !s->err; i++) {
        rec *r = &s->recs[s->todo[i]];
        deliver_one(s, r);
        /* A key's later decisions must not overtake this one. */
        if (r->state == REC_PENDING)
            break;
    }
    return NULL;
}

/* FNV-1a: the slot of a key must be stable (same key, same worker); a
 * record without a key follows its partition. */
static size_t slot_of(const rd_kafka_message_t *m, size_t slot_count)
{
    uint64_t h = 1469598103934665603ULL;
    if (m->key && m->key_len) {
        const unsigned char *k = m->key;
        for (size_t i = 0; i < m->key_len; i++)
            h = (h ^ k[i]) * 1099511628211ULL;
    } else {
        h = (uint64_t)(uint32_t)m->partition;
    }
    return (size_t)(h % slot_count);
}

static attune_err deliver_batch(void *ud, stage_io *io, rd_kafka_message_t *const *msgs, size_t n)
{
    deliver_svc *svc = ud;
    rec *recs = calloc(n, sizeof *recs);
    if (!recs)
        return ATTUNE_ERR_NOMEM;
    progress_reserve(&svc->prog, n);
    double deadline = ts_mono() + svc->wait_bound_s;
    for (size_t j = 0; j < svc->slot_count; j++) {
        slot *s = &svc->slots[j];
        s->todo_count = 0;
        s->recs = recs;
        s->deadline = deadline;
        s->err = ATTUNE_OK;
        s->started = 0;
    }
    for (size_t i = 0; i < n; i++) {
        recs[i].msg = msgs[i];
        recs[i].prog = progress_get(&svc->prog, msgs[i]->partition, msgs[i]->offset);
        if (recs[i].prog->done) {
            recs[i].state = REC_DELIVERED; /* in an earlier pass over this batch */
            continue;
        }
        if (recs[i].prog->rejected) {
            recs[i].state = REC_REJECT; /* its dead letter failed last pass */
            recs[i].reason = strdup(recs[i].prog->reason);
            continue;
        }
        slot *s = &svc->slots[slot_of(msgs[i], svc->slot_count)];
        s->todo[s->todo_count++] = i;
    }
    /* One thread per busy worker for this batch: simpler than a pool, and
     * its cost is small beside an HTTP round trip. */
    for (size_t j = 0; j < svc->slot_count; j++) {
        slot *s = &svc->slots[j];
        if (s->todo_count == 0)
            continue;
        s->started = pthread_create(&s->thread, NULL, slot_main, s) == 0;
        if (!s->started)
            slot_main(s); /* no thread: do its share here, in order */
    }
    attune_err err = ATTUNE_OK;
    for (size_t j = 0; j < svc->slot_count; j++) {
        if (svc->slots[j].started)
            pthread_join(svc->slots[j].thread, NULL);
        if (svc->slots[j].err && !err)
            err = svc->slots[j].err;
    }
    size_t pending = 0, rejected = 0;
    for (size_t i = 0; i < n; i++) {
        rec *r = &recs[i];
        if (r->state == REC_PENDING)
            pending++;
        if (r->state != REC_REJECT)
            continue;
        const char *reason = r->reason ? r->reason : "delivery failed (out of memory)";
        r->prog->rejected = 1;
        snprintf(r->prog->reason, sizeof r->prog->reason, "%s", reason);
        /* The last status and the attempts as headers of their own, for
         * whoever replays or counts dead letters by machine. */
        char status[24], attempts[24];
        snprintf(status, sizeof status, "%ld", r->prog->status);
        snprintf(attempts, sizeof attempts, "%ld", r->prog->attempts);
        const kafka_header extra[] = {{"attune-dlq-attempts", attempts},
                                      {"attune-dlq-http-status", status}};
        size_t nextra = r->prog->attempts > 0 ? (r->prog->status > 0 ? 2 : 1) : 0;
        attune_err rerr = stage_reject_with(io, r->msg, reason, extra, nextra);
        if (rerr && !err)
            err = rerr;
        if (!rerr)
            rejected++;
    }
    metric_add(svc->deadletters, rejected);
    if (!err && pending == 0) {
        progress_clear(&svc->prog);
    } else {
        /* The batch will be consumed again: make this pass's dead letters
         * durable now and remember them, so the next pass neither posts nor
         * dead-letters them twice. */
        if (rejected && kafka_wait_all(io->wait, NULL, 0) == ATTUNE_OK)
            for (size_t i = 0; i < n; i++)
                if (recs[i].state == REC_REJECT)
                    recs[i].prog->done = 1;
        if (!err) {
            log_info("%zu of %zu decision(s) still pending (%s); the batch is consumed again",
                     pending, n, service_running ? "waits ran past the poll bound" : "stopping");
            /* Not ATTUNE_ERR_STOPPED: that would make the stage exit. */
            err = ATTUNE_ERR_TIMEOUT;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(recs[i].reason);
    free(recs);
    return err;
}

/* --- the service -------------------------------------------------------- */

static void svc_fini(deliver_svc *svc)
{
    for (size_t j = 0; svc->slots && j < svc->slot_count; j++) {
        sender_free(svc->slots[j].snd);
        free(svc->slots[j].todo);
    }
    free(svc->slots);
    progress_fini(&svc->prog);
    pthread_mutex_destroy(&svc->mu);
}

static attune_err svc_init(deliver_svc *svc, const config *cfg)
{
    memset(svc, 0, sizeof *svc);
    svc->cfg = cfg;
    pthread_mutex_init(&svc->mu, NULL);
    breaker_init(&svc->br, cfg->deliver_breaker_failures, cfg->deliver_breaker_cooldown_ms,
                 cfg->deliver_breaker_cooldown_max_ms);
    svc->wait_bound_s = wait_bound_s(cfg);
    attune_err err = progress_init(&svc->prog, (size_t)cfg->batch_size);
    svc->slot_count = (size_t)cfg->deliver_concurrency;
    svc->slots = calloc(svc->slot_count, sizeof *svc->slots);
    if (!svc->slots)
        err = ATTUNE_ERR_NOMEM;
    const sender_opts opts = {.url = cfg->deliver_url,
                              .token = cfg->deliver_token,
                              .hmac_key = cfg->deliver_hmac_key,
                              .timeout_ms = cfg->deliver_timeout_ms,
                              .connect_timeout_ms = cfg->deliver_connect_timeout_ms,
                              .running = &service_running};
    uint64_t seed = (uint64_t)ts_now_ms() ^ ((uint64_t)getpid() << 32);
    for (size_t j = 0; !err && j < svc->slot_count; j++) {
        slot *s = &svc->slots[j];
        s->svc = svc;
        s->rng = (seed + 0x9E3779B97F4A7C15ULL * (j + 1)) | 1;
        s->todo = calloc((size_t)cfg->batch_size, sizeof *s->todo);
        err = s->todo ? sender_new(&opts, &s->snd) : ATTUNE_ERR_NOMEM;
    }
    static const char h_req[] = "delivery requests by result";
    svc->req_ok = metrics_counter("attune_deliver_requests_total", h_req, "result=\"ok\"");
    svc->req_retry = metrics_counter("attune_deliver_requests_total", h_req, "result=\"retry\"");
    svc->req_rejected =
        metrics_counter("attune_deliver_requests_total", h_req, "result=\"rejected\"");
    svc->req_failed = metrics_counter("attune_deliver_requests_total", h_req, "result=\"failed\"");
    svc->retries =
        metrics_counter("attune_deliver_retries_total", "delivery retries scheduled", NULL);
    svc->deadletters = metrics_counter("attune_deliver_deadletter_total",
                                       "decisions sent to the dead-letter topic", NULL);
    svc->req_seconds =
        metrics_histogram("attune_deliver_request_seconds", "time of one delivery request", NULL);
    svc->breaker_state = metrics_gauge("attune_deliver_breaker_state",
                                       "circuit breaker: 0 closed, 1 open, 2 half-open", NULL);
    svc->breaker_opens =
        metrics_counter("attune_deliver_breaker_opens_total", "times the breaker opened", NULL);
    set_breaker_gauge(svc, BREAKER_CLOSED);
    if (err)
        svc_fini(svc);
    return err;
}

/* scheme://host[:port] of the URL: enough to say where decisions go,
 * without credentials or a query that might carry a secret. */
static void url_origin(const char *url, char *out, size_t out_size)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    snprintf(out, out_size, "(unparsed)");
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
            snprintf(out, out_size, "%s://%s:%s", scheme, host, port);
        else
            snprintf(out, out_size, "%s://%s", scheme, host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

int deliver_run(const config *cfg)
{
    deliver_svc svc;
    attune_err err = svc_init(&svc, cfg);
    if (err) {
        log_error("cannot set up delivery: %s", attune_err_str(err));
        return 1;
    }
    char origin[300];
    url_origin(cfg->deliver_url, origin, sizeof origin);
    log_info("delivering %s to %s with %zu worker(s); bearer token %s, signature %s; in-batch "
             "waits bounded at %.1f s",
             cfg->deliver_topic, origin, svc.slot_count, *cfg->deliver_token ? "set" : "none",
             *cfg->deliver_hmac_key ? "HMAC-SHA256" : "none", svc.wait_bound_s);
    const stage_spec spec = {.in_topic = cfg->deliver_topic, .batch = deliver_batch, .ud = &svc};
    int code = stage_run(cfg, &spec);
    svc_fini(&svc);
    return code;
}
