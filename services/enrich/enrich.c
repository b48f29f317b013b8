#include "enrich.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "customer.h"
#include "event.h"
#include "interaction.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "ts.h"

#define DAY_MS (86400LL * 1000)
/* a record's replies: profile, preferences, recent (customer_queue_memory),
 * then the contact counters and the CSAT summary */
#define COUNTER_CMDS 6
#define CMDS_PER_RECORD (3 + COUNTER_CMDS)
#define CLOCK_SKEW_MS (5 * 60 * 1000)

typedef struct {
    const rd_kafka_message_t *msg;
    cJSON *root;
    const char *customer_id;
    int64_t t_ms;
    cJSON *context;
} item;

attune_err enrich_init(enrich *e, const config *cfg, char *errstr, size_t errstr_size)
{
    e->cfg = cfg;
    return redis_client_new(cfg->redis_url, (int)cfg->redis_timeout_ms, &e->redis, errstr,
                            errstr_size);
}

void enrich_fini(enrich *e)
{
    redis_client_free(e->redis);
    e->redis = NULL;
}

/* Defaults everyone gets: no consent to marketing, no vulnerability flag,
 * the standard tier. Unknown customers are not treated worse than known. */
static cJSON *default_profile(void)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "tier", "standard");
    cJSON_AddNumberToObject(p, "value", 0);
    cJSON_AddStringToObject(p, "segment", "unknown");
    cJSON_AddStringToObject(p, "payer", "unknown");
    cJSON_AddBoolToObject(p, "marketing_consent", 0);
    cJSON_AddBoolToObject(p, "vulnerable", 0);
    return p;
}

static cJSON *new_context(const char *status)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "status", status);
    cJSON_AddItemToObject(c, "profile", default_profile());
    cJSON_AddItemToObject(c, "preferences", cJSON_CreateObject());
    cJSON_AddItemToObject(c, "recent", cJSON_CreateArray());
    return c;
}

cJSON *enrich_context_unavailable(void)
{
    cJSON *c = new_context("unavailable");
    cJSON_AddNullToObject(c, "contacts_24h");
    cJSON_AddNullToObject(c, "contacts_7d");
    return c;
}

/* The CSAT summary attune-learn keeps, as numbers: count, mean, ewma,
 * last. Nothing when the customer never gave a score. */
static void apply_csat(cJSON *context, const redisReply *r)
{
    double count = 0, sum = 0, ewma = -1, last = -1;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str, *v = r->element[i + 1]->str;
        if (!k || !v)
            continue;
        double d = strtod(v, NULL);
        if (strcmp(k, "count") == 0)
            count = d;
        else if (strcmp(k, "sum") == 0)
            sum = d;
        else if (strcmp(k, "ewma") == 0)
            ewma = d;
        else if (strcmp(k, "last") == 0)
            last = d;
    }
    if (count < 1)
        return;
    cJSON *c = cJSON_AddObjectToObject(context, "csat");
    cJSON_AddNumberToObject(c, "count", count);
    cJSON_AddNumberToObject(c, "mean", round(sum / count * 100) / 100);
    if (ewma >= 0)
        cJSON_AddNumberToObject(c, "ewma", ewma);
    if (last >= 0)
        cJSON_AddNumberToObject(c, "last", last);
}

static attune_err queue_commands(redis_client *rc, const item *it, long recent_max)
{
    char profile[CUSTOMER_KEY_MAX], contacts[CUSTOMER_KEY_MAX], csat[CUSTOMER_KEY_MAX];
    if (customer_key_name(csat, sizeof csat, it->customer_id, CUSTOMER_CSAT) ||
        customer_key_name(profile, sizeof profile, it->customer_id, CUSTOMER_PROFILE) ||
        customer_key_name(contacts, sizeof contacts, it->customer_id, CUSTOMER_CONTACTS))
        return ATTUNE_ERR_INVALID;
    const char *iid =
        json_str(cJSON_GetObjectItemCaseSensitive(it->root, "data"), "interaction_id");
    char t[32], t24[32], t7[32], trim[32], ttl[32];
    snprintf(t, sizeof t, "%lld", (long long)it->t_ms);
    snprintf(t24, sizeof t24, "%lld", (long long)(it->t_ms - DAY_MS));
    snprintf(t7, sizeof t7, "%lld", (long long)(it->t_ms - 7 * DAY_MS));
    snprintf(trim, sizeof trim, "(%lld", (long long)(ts_now_ms() - 8 * DAY_MS));
    snprintf(ttl, sizeof ttl, "%ld", customer_key_ttl[CUSTOMER_CONTACTS]);
    const char *cmds[COUNTER_CMDS][5] = {
        /* NX keeps the first time an interaction was seen, so redelivered
         * and follow-up events of one interaction count once. */
        {"ZADD", contacts, "NX", t, iid}, {"ZREMRANGEBYSCORE", contacts, "-inf", trim},
        {"ZCOUNT", contacts, t24, t},     {"ZCOUNT", contacts, t7, t},
        {"EXPIRE", contacts, ttl},        {"HGETALL", csat},
    };
    static const int argc[COUNTER_CMDS] = {5, 4, 4, 4, 3, 2};
    const char *hgetall[] = {"HGETALL", profile};
    attune_err err = redis_append(rc, 2, hgetall, NULL);
    if (!err)
        err = customer_queue_memory(rc, it->customer_id, recent_max);
    for (int i = 0; i < COUNTER_CMDS && !err; i++)
        err = redis_append(rc, argc[i], cmds[i], NULL);
    return err;
}

/* Reads one record's replies into its context. ATTUNE_ERR_REDIS when the
 * connection failed (the remaining replies are lost). */
static attune_err read_context(redis_client *rc, item *it)
{
    redisReply *r[CMDS_PER_RECORD] = {0};
    attune_err err = ATTUNE_OK;
    int got = 0;
    for (; got < CMDS_PER_RECORD; got++) {
        err = redis_reply(rc, &r[got]);
        if (err)
            break;
    }
    if (!err) {
        int bad = 0;
        for (int i = 0; i < CMDS_PER_RECORD; i++)
            bad |= r[i]->type == REDIS_REPLY_ERROR;
        if (bad) {
            /* A wrong key type (someone wrote a string where a hash
             * belongs) should not stop the flow: say unavailable. */
            log_warn("redis answered an error for a customer's context keys");
            err = ATTUNE_ERR_INVALID;
        } else {
            int known = r[0]->type == REDIS_REPLY_ARRAY && r[0]->elements > 0;
            cJSON *c = new_context(known ? "ok" : "unknown_customer");
            size_t left_out =
                customer_read_profile(cJSON_GetObjectItemCaseSensitive(c, "profile"), r[0]) +
                customer_read_hash(cJSON_GetObjectItemCaseSensitive(c, "preferences"), r[1]);
            customer_read_recent(cJSON_GetObjectItemCaseSensitive(c, "recent"), r[2]);
            if (left_out)
                log_warn("customer %s: %zu context field(s) in redis left out: not valid "
                         "UTF-8, or over the context limits",
                         it->customer_id, left_out);
            cJSON_AddNumberToObject(c, "contacts_24h", (double)r[5]->integer);
            cJSON_AddNumberToObject(c, "contacts_7d", (double)r[6]->integer);
            apply_csat(c, r[8]);
            it->context = c;
        }
    }
    for (int i = 0; i < got; i++)
        freeReplyObject(r[i]);
    return err;
}

/* Fills every item's context with one pipelined round trip. Whatever Redis
 * could not answer is marked unavailable; the flow never stops for it. */
static void fetch_contexts(enrich *e, item *items, size_t n, metric *unavailable)
{
    char errstr[256];
    attune_err err = redis_client_ready(e->redis, errstr, sizeof errstr);
    size_t queued = 0;
    for (; !err && queued < n; queued++)
        err = queue_commands(e->redis, &items[queued], e->cfg->recent_max);
    if (err) {
        redis_client_drop(e->redis);
        queued = 0;
    }
    for (size_t i = 0; i < queued; i++) {
        attune_err rerr = read_context(e->redis, &items[i]);
        if (rerr == ATTUNE_ERR_REDIS || rerr == ATTUNE_ERR_TIMEOUT) {
            redis_client_drop(e->redis);
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!items[i].context) {
            items[i].context = enrich_context_unavailable();
            metric_inc(unavailable);
        }
    }
}

/* Parses and validates a record; on failure writes the reason and returns
 * an error. */
static attune_err check_interaction(const config *cfg, const cJSON *data, problem_field *pf)
{
    return interaction_validate(data, cfg->max_text_bytes, "/data", pf);
}

static attune_err parse_record(const config *cfg, const rd_kafka_message_t *m, item *it,
                               char *reason, size_t reason_size)
{
    attune_err err = stage_read_event(cfg, m, EVENT_TYPE_INTERACTION, check_interaction, &it->root,
                                      reason, reason_size);
    if (err)
        return err;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(it->root, "data");
    it->customer_id = json_str(data, "customer_id");
    int64_t now = ts_now_ms();
    it->t_ms = interaction_occurred_ms(data);
    /* A clock far ahead would count contacts from the future. */
    if (it->t_ms > now + CLOCK_SKEW_MS)
        it->t_ms = now;
    return ATTUNE_OK;
}

/* A record whose Kafka key is not its customer_id (produced to the topic by
 * hand or by another tool) is enriched and re-keyed by customer_id
 * downstream, but its customer's events may have been in two partitions
 * and so out of order: it is counted, and logged at most once a minute. */
static void check_key(const item *it, metric *rekeyed)
{
    static int64_t logged_ms;
    const rd_kafka_message_t *m = it->msg;
    const size_t n = strlen(it->customer_id);
    if (m->key && m->key_len == n && memcmp(m->key, it->customer_id, n) == 0)
        return;
    metric_inc(rekeyed);
    const int64_t now = ts_now_ms();
    if (logged_ms && now - logged_ms < 60000)
        return;
    logged_ms = now;
    log_warn("a record in %s [%d] at offset %lld has a Kafka key other than its customer_id: "
             "its customer's events may be out of order; produce interactions keyed by "
             "customer_id (attune_enrich_rekeyed_total counts them)",
             rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset);
}

attune_err enrich_batch(void *ud, stage_io *io, rd_kafka_message_t *const *msgs, size_t n)
{
    enrich *e = ud;
    static metric *unavailable, *rekeyed;
    if (!unavailable)
        unavailable = metrics_counter("attune_enrich_context_unavailable_total",
                                      "events enriched without Redis context", NULL);
    if (!rekeyed)
        rekeyed = metrics_counter("attune_enrich_rekeyed_total",
                                  "records whose Kafka key was not their customer_id", NULL);
    item *items = calloc(n, sizeof *items);
    if (!items)
        return ATTUNE_ERR_NOMEM;
    attune_err err = ATTUNE_OK;
    size_t valid = 0;
    for (size_t i = 0; i < n && !err; i++) {
        char reason[512];
        item it = {.msg = msgs[i]};
        if (parse_record(e->cfg, msgs[i], &it, reason, sizeof reason) != ATTUNE_OK) {
            err = stage_reject(io, msgs[i], reason);
            continue;
        }
        check_key(&it, rekeyed);
        items[valid++] = it;
    }
    if (!err)
        fetch_contexts(e, items, valid, unavailable);
    for (size_t i = 0; i < valid && !err; i++) {
        cJSON *data = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(items[i].root, "data"), 1);
        if (!data) {
            err = ATTUNE_ERR_NOMEM;
            break;
        }
        cJSON_AddItemToObject(data, "context", items[i].context);
        items[i].context = NULL; /* now owned by data */
        cJSON *out = event_derive(items[i].root, EVENT_TYPE_ENRICHED, data);
        if (!out) {
            err = ATTUNE_ERR_NOMEM;
            break;
        }
        err = stage_emit(io, items[i].msg, e->cfg->topic_enriched, items[i].customer_id, out);
        cJSON_Delete(out);
    }
    for (size_t i = 0; i < valid; i++) {
        cJSON_Delete(items[i].context);
        cJSON_Delete(items[i].root);
    }
    free(items);
    return err;
}
