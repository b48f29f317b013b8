#include "service_mode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "customer.h"
#include "event.h"
#include "files.h"
#include "interaction.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "policy/policy.h"
#include "redis.h"
#include "service.h"
#include "stage.h"
#include "ts.h"

#define RELOAD_CHECK_S 1.0
#define LOGGED_POLICY_ERRORS 50

typedef struct {
    const config *cfg;
    const char *path;
    policy *pol;
    struct timespec mtime;
    double last_check;
    redis_client *redis;
    metric *decide_time;
    metric *reload_ok;
    metric *reload_failed;
    metric *remember_failed;
} decide_stage;

static int same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Loads the policy file; on any error logs every problem with its JSON
 * pointer and leaves *out NULL. */
static attune_err load_policy(const char *path, policy **out, struct timespec *mtime)
{
    char errstr[512];
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    *out = NULL;
    if (stat(path, &st) == 0)
        *mtime = st.st_mtim;
    attune_err err = files_read(path, POLICY_MAX_BYTES, &text, &len, errstr, sizeof errstr);
    if (err) {
        log_error("policy %s: %s", path, errstr);
        return err;
    }
    problem_field errs[LOGGED_POLICY_ERRORS];
    size_t n = 0;
    err = policy_load(text, len, out, errs, LOGGED_POLICY_ERRORS, &n);
    free(text);
    if (err) {
        size_t shown = n < LOGGED_POLICY_ERRORS ? n : LOGGED_POLICY_ERRORS;
        for (size_t i = 0; i < shown; i++)
            log_error("policy %s: %s: %s", path, errs[i].pointer, errs[i].detail);
        log_error("policy %s rejected: %zu error(s)", path, n);
    }
    return err;
}

/* Between batches: reload on SIGHUP or when the file changed. An invalid new
 * policy is rejected and the running one stays. */
static void maybe_reload(void *ud)
{
    decide_stage *s = ud;
    double now = ts_mono();
    int forced = service_reload;
    if (!forced && now - s->last_check < RELOAD_CHECK_S)
        return;
    s->last_check = now;
    service_reload = 0;
    struct stat st;
    if (!forced && (stat(s->path, &st) != 0 || same_time(st.st_mtim, s->mtime)))
        return;
    policy *fresh = NULL;
    struct timespec mtime = s->mtime;
    if (load_policy(s->path, &fresh, &mtime) != ATTUNE_OK) {
        s->mtime = mtime; /* do not retry a bad file until it changes again */
        metric_inc(s->reload_failed);
        log_error("keeping policy version %s", policy_version(s->pol));
        return;
    }
    log_info("policy reloaded: version %s replaces %s", policy_version(fresh),
             policy_version(s->pol));
    policy_free(s->pol);
    s->pol = fresh;
    s->mtime = mtime;
    metric_inc(s->reload_ok);
}

/* The compact record the next contact sees in context.recent: labels and
 * ids, never the customer's text. */
static char *compact_record(const cJSON *data, const cJSON *routing)
{
    const cJSON *sit = cJSON_GetObjectItemCaseSensitive(data, "situation");
    cJSON *r = cJSON_CreateObject();
    const char *copy[] = {"interaction_id", "occurred_at", "channel", "kind"};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
        const char *v = json_str(data, copy[i]);
        if (v)
            cJSON_AddStringToObject(r, copy[i], v);
    }
    const char *labels[][2] = {{"intent", "label"},
                               {"sentiment", "label"},
                               {"emotion", "label"},
                               {"urgency", "level"},
                               {"threat", "level"}};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        const char *v = json_str(cJSON_GetObjectItemCaseSensitive(sit, labels[i][0]), labels[i][1]);
        if (v)
            cJSON_AddStringToObject(r, labels[i][0], v);
    }
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(sit, "sentiment"), "score");
    if (cJSON_IsNumber(score))
        cJSON_AddNumberToObject(r, "sentiment_score", score->valuedouble);
    const char *decision = json_str(routing, "decision_id");
    if (decision)
        cJSON_AddStringToObject(r, "decision_id", decision);
    const char *queue = json_str(cJSON_GetObjectItemCaseSensitive(routing, "routing"), "queue");
    if (queue)
        cJSON_AddStringToObject(r, "queue", queue);
    char *text = json_print(r);
    cJSON_Delete(r);
    return text;
}

/* Stated preferences worth remembering: the string members of
 * situation.preferences (politeness is a reading, not a preference). */
static cJSON *learned_preferences(const cJSON *data)
{
    const cJSON *prefs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(data, "situation"), "preferences");
    cJSON *out = cJSON_CreateObject();
    for (const cJSON *f = prefs ? prefs->child : NULL; out && f; f = f->next)
        if (cJSON_IsString(f) && f->valuestring[0])
            cJSON_AddStringToObject(out, f->string, f->valuestring);
    return out;
}

/* Parses and checks one classified record; on failure the reason. */
static attune_err read_classified(const config *cfg, const rd_kafka_message_t *m, cJSON **root,
                                  char *reason, size_t reason_size)
{
    problem_field pf;
    attune_err err = json_parse(m->payload ? m->payload : "", m->len, (int)cfg->max_json_depth,
                                root, reason, reason_size);
    if (err)
        return err;
    err = event_validate(*root, EVENT_TYPE_CLASSIFIED, "", &pf);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(*root, "data");
    if (!err) {
        cJSON *interaction = cJSON_Duplicate(data, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(interaction, "context");
        cJSON_DeleteItemFromObjectCaseSensitive(interaction, "situation");
        err = interaction_validate(interaction, cfg->max_text_bytes, "/data", &pf);
        cJSON_Delete(interaction);
    }
    if (!err && !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(data, "situation"))) {
        problem_field_set(&pf, "", "/data/situation", "is required: an object");
        err = ATTUNE_ERR_INVALID;
    }
    if (err)
        snprintf(reason, reason_size, "invalid event at %s: %s", pf.pointer[0] ? pf.pointer : "/",
                 pf.detail);
    return err;
}

/* Sends the batch's Redis writes in one round trip and reads the replies.
 * Redis trouble costs the memory of these contacts, never the decisions. */
static void remember_all(decide_stage *s, char **records, const cJSON **datas, size_t n)
{
    char errstr[256];
    if (n == 0 || redis_client_ready(s->redis, errstr, sizeof errstr) != ATTUNE_OK) {
        metric_add(s->remember_failed, n);
        return;
    }
    int replies = 0;
    attune_err err = ATTUNE_OK;
    for (size_t i = 0; i < n && !err; i++) {
        const cJSON *data = datas[i];
        const cJSON *score = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(data, "situation"),
                                             "sentiment"),
            "score");
        cJSON *prefs = learned_preferences(data);
        err = customer_remember(s->redis, json_str(data, "customer_id"), records[i],
                                cJSON_IsNumber(score) ? score->valuedouble : 0, prefs,
                                s->cfg->recent_max, &replies);
        cJSON_Delete(prefs);
    }
    for (int i = 0; i < replies && !err; i++) {
        redisReply *r = NULL;
        err = redis_reply(s->redis, &r);
        if (r)
            freeReplyObject(r);
    }
    if (err) {
        redis_client_drop(s->redis);
        metric_add(s->remember_failed, n);
        log_warn("could not remember %zu interaction(s) in Redis", n);
    }
}

static attune_err decide_batch(void *ud, stage_io *io, rd_kafka_message_t *const *msgs, size_t n)
{
    decide_stage *s = ud;
    cJSON **roots = calloc(n, sizeof *roots);
    char **records = calloc(n, sizeof *records);
    const cJSON **datas = calloc(n, sizeof *datas);
    if (!roots || !records || !datas) {
        free(roots);
        free(records);
        free(datas);
        return ATTUNE_ERR_NOMEM;
    }
    attune_err err = ATTUNE_OK;
    size_t kept = 0;
    for (size_t i = 0; i < n && !err; i++) {
        char reason[512];
        cJSON *root = NULL;
        if (read_classified(s->cfg, msgs[i], &root, reason, sizeof reason) != ATTUNE_OK) {
            cJSON_Delete(root);
            err = stage_reject(io, msgs[i], reason);
            continue;
        }
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
        policy_env env = {.now_ms = ts_now_ms(), .event_id = json_str(root, "id")};
        cJSON *routing = NULL, *crm = NULL;
        double t0 = ts_mono();
        attune_err derr = policy_decide(s->pol, data, &env, &routing, &crm, reason, sizeof reason);
        metric_observe(s->decide_time, ts_mono() - t0);
        if (derr == ATTUNE_ERR_NOMEM) {
            cJSON_Delete(root);
            err = derr;
            break;
        }
        if (derr) {
            cJSON_Delete(root);
            err = stage_reject(io, msgs[i], reason);
            continue;
        }
        records[kept] = compact_record(data, routing);
        cJSON *routing_ce = event_derive(root, EVENT_TYPE_DECISION_ROUTING, routing);
        cJSON *crm_ce = event_derive(root, EVENT_TYPE_DECISION_CRM, crm);
        if (!routing_ce || !crm_ce || !records[kept]) {
            err = ATTUNE_ERR_NOMEM;
        } else {
            err =
                stage_emit(io, s->cfg->topic_routing, json_str(data, "interaction_id"), routing_ce);
            if (!err)
                err = stage_emit(io, s->cfg->topic_crm, json_str(data, "customer_id"), crm_ce);
        }
        cJSON_Delete(routing_ce);
        cJSON_Delete(crm_ce);
        roots[kept] = root;
        datas[kept] = data;
        kept++;
    }
    if (!err)
        remember_all(s, records, datas, kept);
    for (size_t i = 0; i < kept; i++) {
        free(records[i]);
        cJSON_Delete(roots[i]);
    }
    free(roots);
    free(records);
    free(datas);
    return err;
}

int decide_service_run(const config *cfg, const char *policy_path)
{
    char errstr[512];
    decide_stage s = {.cfg = cfg, .path = policy_path};
    if (load_policy(policy_path, &s.pol, &s.mtime) != ATTUNE_OK)
        return 2;
    if (redis_client_new(cfg->redis_url, (int)cfg->redis_timeout_ms, &s.redis, errstr,
                         sizeof errstr) != ATTUNE_OK) {
        log_error("%s", errstr);
        policy_free(s.pol);
        return 2;
    }
    s.decide_time =
        metrics_histogram("attune_decide_seconds", "time to decide one interaction", NULL);
    s.reload_ok = metrics_counter("attune_policy_reloads_total", "policy reloads", "result=\"ok\"");
    s.reload_failed =
        metrics_counter("attune_policy_reloads_total", "policy reloads", "result=\"rejected\"");
    s.remember_failed = metrics_counter("attune_decide_remember_failed_total",
                                        "interactions not written back to Redis", NULL);
    s.last_check = ts_mono();
    log_info("policy %s version %s", policy_path, policy_version(s.pol));
    const stage_spec spec = {
        .in_topic = cfg->topic_classified, .batch = decide_batch, .idle = maybe_reload, .ud = &s};
    int code = stage_run(cfg, &spec);
    redis_client_free(s.redis);
    policy_free(s.pol);
    return code;
}
