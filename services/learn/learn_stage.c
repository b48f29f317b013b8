#include "learn_stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json.h"
#include "learn.h"
#include "log.h"
#include "metrics.h"
#include "outcome.h"
#include "policy_watch.h"
#include "redis.h"
#include "stage.h"
#include "ts.h"

typedef struct {
    const config *cfg;
    policy_watch watch;
    redis_client *redis;
    metric *applied, *duplicate, *counted, *undetermined;
} learn_stage;

static void between_batches(void *ud)
{
    learn_stage *s = ud;
    policy_watch_poll(&s->watch);
}

static attune_err check_outcome(const config *cfg, const cJSON *data, problem_field *pf)
{
    (void)cfg;
    return outcome_validate(data, "/data", pf);
}

/* The compact history record: the outcome's facts and its success, without
 * the customer id (it is in the key). occurred_at: the outcome's own, else
 * the event's time, else when the record reached Kafka (ts_ms, 0: none). */
static char *history_record(const cJSON *ce, int success, int64_t ts_ms)
{
    cJSON *r = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ce, "data"), 1);
    if (!r)
        return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(r, "customer_id");
    if (!cJSON_GetObjectItemCaseSensitive(r, "occurred_at")) {
        const char *when = json_str(ce, "time");
        char at[40];
        if (!when && ts_ms > 0) {
            ts_format_rfc3339(ts_ms, at, sizeof at);
            when = at;
        }
        if (when)
            cJSON_AddStringToObject(r, "occurred_at", when);
    }
    if (success >= 0)
        cJSON_AddBoolToObject(r, "success", success);
    char *text = json_print(r);
    cJSON_Delete(r);
    return text;
}

/* The string value of field in an HGETALL reply, or NULL. */
static const char *hash_field(const redisReply *r, const char *field)
{
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->str && strcmp(r->element[i]->str, field) == 0)
            return r->element[i + 1]->str;
    return NULL;
}

/* What the variants of one rule are judged by: the policy in force and
 * the outcome's data. */
typedef struct {
    const policy *pol;
    const cJSON *outcome;
} judge_ctx;

static int judge_rule(const char *rule_id, void *ud)
{
    const judge_ctx *j = ud;
    return policy_rule_success(j->pol, rule_id, j->outcome);
}

/* Reads n replies into out. An error reply is kept as a reply (the caller
 * decides); only a failed connection is an error. */
static attune_err read_replies(redis_client *rc, redisReply **out, size_t n)
{
    attune_err err = ATTUNE_OK;
    for (size_t i = 0; i < n && !err; i++)
        err = redis_reply(rc, &out[i]);
    return err;
}

static attune_err learn_batch(void *ud, stage_io *io, rd_kafka_message_t *const *msgs, size_t n)
{
    learn_stage *s = ud;
    cJSON **roots = calloc(n, sizeof *roots);
    rd_kafka_message_t **kept_msgs = calloc(n, sizeof *kept_msgs);
    redisReply **decisions = calloc(n, sizeof *decisions);
    redisReply **results = calloc(n, sizeof *results);
    attune_err err = roots && kept_msgs && decisions && results ? ATTUNE_OK : ATTUNE_ERR_NOMEM;
    size_t kept = 0;
    for (size_t i = 0; i < n && !err; i++) {
        char reason[512];
        cJSON *root = NULL;
        if (stage_read_event(s->cfg, msgs[i], EVENT_TYPE_OUTCOME, check_outcome, &root, reason,
                             sizeof reason) != ATTUNE_OK) {
            err = stage_reject(io, msgs[i], reason);
            continue;
        }
        kept_msgs[kept] = msgs[i];
        roots[kept++] = root;
    }
    char errstr[256];
    if (!err && kept)
        err = redis_client_ready(s->redis, errstr, sizeof errstr);
    /* Round trip 1: each outcome's decision facts (bucket, choices). */
    for (size_t i = 0; i < kept && !err; i++) {
        char key[LEARN_KEY_MAX];
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(roots[i], "data");
        snprintf(key, sizeof key, LEARN_KEY_PREFIX "decision:%s", json_str(data, "decision_id"));
        const char *argv[] = {"HGETALL", key};
        err = redis_append(s->redis, 2, argv, NULL);
    }
    if (!err && kept)
        err = read_replies(s->redis, decisions, kept); /* an error reply: no facts */
    /* Round trip 2: apply each outcome (at most once, atomically). */
    size_t queued = 0;
    for (size_t i = 0; i < kept && !err; i++) {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(roots[i], "data");
        rd_kafka_timestamp_type_t tt;
        const int64_t ts_ms = rd_kafka_message_timestamp(kept_msgs[i], &tt);
        char *record = history_record(roots[i], policy_outcome_success(s->watch.pol, data), ts_ms);
        const cJSON *csat = cJSON_GetObjectItemCaseSensitive(data, "csat");
        if (!record) {
            err = ATTUNE_ERR_NOMEM;
            break;
        }
        judge_ctx judge = {s->watch.pol, data};
        err = learn_apply_outcome(
            s->redis, json_str(roots[i], "source"), json_str(roots[i], "id"),
            json_str(data, "decision_id"), json_str(data, "customer_id"), record,
            s->cfg->outcomes_max, cJSON_IsNumber(csat) ? csat->valueint : 0, judge_rule, &judge,
            hash_field(decisions[i], "bucket"), hash_field(decisions[i], "choices"),
            s->cfg->learn_decision_ttl_s);
        free(record);
        queued += !err;
    }
    if (!err && queued)
        err = read_replies(s->redis, results, queued);
    for (size_t i = 0; i < queued && !err; i++) {
        long long counted = 0, undetermined = 0;
        const int status = learn_apply_result(results[i], &counted, &undetermined);
        if (status < 0) {
            /* The script checks key types before it writes anything: a key
             * someone overwrote with another type must not stall every
             * outcome behind this one. */
            char reason[300];
            snprintf(reason, sizeof reason, "outcome not applied: %s",
                     results[i]->type == REDIS_REPLY_ERROR
                         ? results[i]->str
                         : "a Redis key of this customer or rule has the wrong type or a "
                           "count that is not an integer");
            err = stage_reject(io, kept_msgs[i], reason);
            continue;
        }
        metric_inc(status == 0 ? s->duplicate : s->applied);
        metric_add(s->counted, (uint64_t)counted);
        metric_add(s->undetermined, (uint64_t)undetermined);
    }
    if (err) {
        /* Outcomes must not be lost: the batch is consumed again once Redis
         * answers. Replies may be left unread, so the connection goes. */
        redis_client_drop(s->redis);
        log_error("outcomes not applied (%s); the batch will be retried", attune_err_str(err));
    }
    for (size_t i = 0; i < n; i++) {
        if (roots)
            cJSON_Delete(roots[i]);
        if (decisions && decisions[i])
            freeReplyObject(decisions[i]);
        if (results && results[i])
            freeReplyObject(results[i]);
    }
    free(kept_msgs);
    free(roots);
    free(decisions);
    free(results);
    return err;
}

int learn_stage_run(const config *cfg)
{
    char errstr[512];
    learn_stage s = {.cfg = cfg};
    if (policy_watch_open(&s.watch, cfg, NULL) != ATTUNE_OK)
        return 2;
    if (redis_client_new(cfg->redis_url, (int)cfg->redis_timeout_ms, &s.redis, errstr,
                         sizeof errstr) != ATTUNE_OK) {
        log_error("%s", errstr);
        policy_watch_close(&s.watch);
        return 2;
    }
    const char *help = "outcomes read";
    s.applied = metrics_counter("attune_learn_outcomes_total", help, "result=\"applied\"");
    s.duplicate = metrics_counter("attune_learn_outcomes_total", help, "result=\"duplicate\"");
    s.counted = metrics_counter("attune_learn_counted_total",
                                "choices of variants counted as a success or a failure", NULL);
    s.undetermined = metrics_counter(
        "attune_learn_undetermined_total",
        "choices of variants an outcome could not judge (a fact their rule's success definition "
        "reads is absent)",
        NULL);
    const stage_spec spec = {
        .in_topic = cfg->topic_outcomes, .batch = learn_batch, .idle = between_batches, .ud = &s};
    int code = stage_run(cfg, &spec);
    redis_client_free(s.redis);
    policy_watch_close(&s.watch);
    return code;
}
