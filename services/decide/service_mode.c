#include "service_mode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "customer.h"
#include "event.h"
#include "files.h"
#include "hash.h"
#include "interaction.h"
#include "json.h"
#include "learn.h"
#include "log.h"
#include "metrics.h"
#include "policy/policy.h"
#include "policy_watch.h"
#include "redis.h"
#include "service.h"
#include "stage.h"
#include "ts.h"

typedef struct {
    const config *cfg;
    policy_watch watch;
    redis_client *redis;
    learn_counts *counts;
    learn_chooser chooser;
    double counts_loaded; /* ts_mono of the last load, 0: never */
    metric *decide_time;
    metric *remember_failed;
    metric *counts_failed;
    metric *recall_failed;
    int counts_stale; /* the last refresh failed: warn once per outage */
} decide_stage;

/* Between batches: the policy file, then the learned counts of its
 * variant rules (re-read every ATTUNE_LEARN_REFRESH_MS). */
static void between_batches(void *ud)
{
    decide_stage *s = ud;
    int fresh = policy_watch_poll(&s->watch);
    double now = ts_mono();
    if (!fresh && s->counts_loaded > 0 &&
        (now - s->counts_loaded) * 1000 < s->cfg->learn_refresh_ms)
        return;
    s->counts_loaded = now;
    const char *rules[POLICY_MAX_RULES];
    size_t n = policy_variant_rules(s->watch.pol, rules, POLICY_MAX_RULES);
    learn_chooser_init(&s->chooser, s->counts, policy_control_share(s->watch.pol), 0);
    if (n == 0)
        return;
    char errstr[256] = "";
    attune_err lerr = learn_counts_load(s->redis, rules, n, s->counts, errstr, sizeof errstr);
    if (lerr != ATTUNE_OK) {
        /* The last counts stay in use, and the decisions go on. */
        metric_inc(s->counts_failed);
        if (!s->counts_stale)
            log_warn("learned counts not refreshed (the last ones stay in use): %s",
                     errstr[0] ? errstr : attune_err_str(lerr));
        s->counts_stale = 1;
    } else if (s->counts_stale) {
        log_info("learned counts refreshed again");
        s->counts_stale = 0;
    }
}

/* An event with text replaces its contact's record; one without (ended,
 * an IVR step) leaves it. */
static customer_record_mode record_mode(const cJSON *data)
{
    const char *text = json_str(data, "text");
    return text && *text ? CUSTOMER_RECORD_REPLACE : CUSTOMER_RECORD_KEEP;
}

/* The compact record the next contact sees in context.recent: labels and
 * ids, never the customer's text; and the contact so far (the CRM
 * decision's summary.contact), which the contact's next event adds to. */
static char *compact_record(const cJSON *data, const cJSON *routing, const cJSON *crm)
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
    /* a vulnerability named once is remembered for the next contacts
     * (signals.recent_vulnerable): "I want to cancel my TV package" a few
     * days after "I've been diagnosed with cancer" is not a retention case */
    /* (a contact keeps what an earlier line of it named: the contact so
     * far says so, and customer_remember keeps it too) */
    const cJSON *contact = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(crm, "summary"), "contact");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(sit, "urgency"), "vulnerable")) ||
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(contact, "vulnerable")))
        cJSON_AddTrueToObject(r, "vulnerable");
    const char *decision = json_str(routing, "decision_id");
    if (decision)
        cJSON_AddStringToObject(r, "decision_id", decision);
    const char *queue = json_str(cJSON_GetObjectItemCaseSensitive(routing, "routing"), "queue");
    if (queue)
        cJSON_AddStringToObject(r, "queue", queue);
    cJSON *kept = contact ? cJSON_Duplicate(contact, 1) : NULL;
    if (contact && (!kept || !cJSON_AddItemToObject(r, "contact", kept))) {
        /* (a record without its contact would start the count again) */
        cJSON_Delete(kept);
        cJSON_Delete(r);
        return NULL;
    }
    char *text = json_print(r);
    cJSON_Delete(r);
    return text;
}

/* Stated preferences worth remembering: the preferences attune-classify
 * states for good (politeness is a reading, not a preference, and "ring me
 * back" asks for this contact only), each a short string.
 * Nothing else: the classified topic may be written by others, and what is
 * remembered here comes back in every later event of the customer. */
#define PREF_VALUE_MAX 64
static cJSON *learned_preferences(const cJSON *data)
{
    static const char *const keys[] = {"channel", "avoid_channel", "contact_time", "language",
                                       "pace"};
    const cJSON *prefs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(data, "situation"), "preferences");
    cJSON *out = cJSON_CreateObject();
    for (size_t i = 0; out && i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = json_str(prefs, keys[i]);
        if (v && v[0] && strlen(v) < PREF_VALUE_MAX && !policy_pref_for_now(data, keys[i]))
            cJSON_AddStringToObject(out, keys[i], v);
    }
    /* what the message contradicts is forgotten (an empty value) */
    const char *stale = policy_stale_preference(data, 1);
    if (out && stale)
        cJSON_AddStringToObject(out, stale, "");
    return out;
}

/* Parses and checks one classified record; on failure the reason. */
/* The classified data is the interaction plus its context and situation. */
static attune_err check_classified(const config *cfg, const cJSON *data, problem_field *pf)
{
    static const char *const extra[] = {"context", "situation", NULL};
    attune_err err = interaction_validate_within(data, cfg->max_text_bytes, "/data", extra, pf);
    if (!err && !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(data, "situation"))) {
        problem_field_set(pf, "", "/data/situation", "is required: an object");
        err = ATTUNE_ERR_INVALID;
    }
    return err;
}

/* Sends the batch's Redis writes in one round trip and reads the replies.
 * Redis trouble costs the memory of these contacts, never the decisions.
 * With picks_only, only the decision records (see decide_batch). */
static void remember_all(decide_stage *s, char **records, const cJSON **datas,
                         const cJSON **routings, size_t n, int picks_only)
{
    char errstr[256];
    if (n == 0 || redis_client_ready(s->redis, errstr, sizeof errstr) != ATTUNE_OK) {
        metric_add(s->remember_failed, n);
        return;
    }
    int replies = 0;
    attune_err err = ATTUNE_OK;
    for (size_t i = 0; i < n && !err; i++) {
        if (!picks_only) {
            const cJSON *data = datas[i];
            const cJSON *score = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(data, "situation"), "sentiment"),
                "score");
            cJSON *prefs = learned_preferences(data);
            err = customer_remember(s->redis, json_str(data, "customer_id"),
                                    json_str(data, "interaction_id"), records[i], record_mode(data),
                                    cJSON_IsNumber(score) ? score->valuedouble : 0, prefs,
                                    s->cfg->recent_max, &replies);
            cJSON_Delete(prefs);
        }
        /* The facts an outcome of this decision will be learned from, and
         * the picks the event gets if it is decided again. */
        char choices[8192], picks[16384];
        const cJSON *pol = cJSON_GetObjectItemCaseSensitive(routings[i], "policy");
        learn_picks_write(cJSON_GetObjectItemCaseSensitive(pol, "choices"), picks, sizeof picks,
                          choices, sizeof choices);
        if (!err && choices[0])
            err = learn_remember_decision(s->redis, json_str(routings[i], "decision_id"),
                                          json_str(pol, "bucket"), choices, picks,
                                          s->cfg->learn_decision_ttl_s, &replies);
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

/* Whether attune-classify gave the line its contact's intent already (its
 * evidence says contact_intent): the line's own reading is its second. */
static int carried_already(const cJSON *data)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(data, "situation"), "evidence");
    for (const cJSON *e = cJSON_IsArray(ev) ? ev->child : NULL; e; e = e->next) {
        const char *rule = json_str(e, "rule");
        if (rule && strcmp(rule, "contact_intent") == 0)
            return 1;
    }
    return 0;
}

/* A line that names no need of its own (situation.intent.no_need: "yes",
 * "I did.") keeps the intent of its contact's earlier line, as
 * attune-classify does when it knows that line (docs/classifier.md); in a
 * burst it did not, and the record decide just read again has it. */
static void carry_contact_intent(cJSON *data)
{
    cJSON *intent = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(data, "situation"), "intent");
    const char *label = json_str(intent, "label"), *text = json_str(data, "text");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(intent, "no_need")) || !label || !text ||
        !*text || carried_already(data))
        return;
    const char *kept = json_str(policy_contact_record(data), "intent");
    if (!kept || !*kept || strcmp(kept, "other") == 0 || strcmp(kept, label) == 0 ||
        strlen(kept) >= CLASSIFY_LABEL_MAX)
        return;
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(intent, "confidence");
    cJSON *second = cJSON_CreateString(label),
          *second_conf = cJSON_CreateNumber(cJSON_IsNumber(conf) ? conf->valuedouble : 0),
          *now = cJSON_CreateString(kept),
          *now_conf = cJSON_CreateNumber(CLASSIFY_CARRY_CONFIDENCE);
    if (!second || !second_conf || !now || !now_conf) {
        cJSON_Delete(second);
        cJSON_Delete(second_conf);
        cJSON_Delete(now);
        cJSON_Delete(now_conf);
        return; /* the line keeps its own reading */
    }
    /* (each made before intent changes: label points into it) */
    json_set(intent, "second", second);
    json_set(intent, "second_confidence", second_conf);
    json_set(intent, "label", now);
    json_set(intent, "confidence", now_conf);
}

/* Puts what decide remembered of the customer, read just now (mem: the
 * replies of customer_queue_memory), in place of what enrich read: enrich
 * reads before the customer's earlier events are decided, so in a burst
 * (a script, chat lines in quick succession, one batch post) a later event
 * would not know what an earlier one told (a bereavement, "email me"). */
/* Returns 0 when the memory could not be put in (a reply not a list, out
 * of memory): the event keeps enrich's context. A record without a context
 * (written by another producer) has none to refresh. */
static int refresh_memory(cJSON *data, redisReply *const mem[2])
{
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(data, "context");
    if (!cJSON_IsObject(ctx))
        return 1;
    if (mem[0]->type != REDIS_REPLY_ARRAY || mem[1]->type != REDIS_REPLY_ARRAY)
        return 0;
    cJSON *prefs = cJSON_CreateObject(), *recent = cJSON_CreateArray();
    if (!prefs || !recent) {
        cJSON_Delete(prefs);
        cJSON_Delete(recent);
        return 0;
    }
    customer_read_hash(prefs, mem[0]);
    customer_read_recent(recent, mem[1]);
    json_set(ctx, "preferences", prefs);
    json_set(ctx, "recent", recent);
    carry_contact_intent(data);
    return 1;
}

/* Before a round of events is decided, in one round trip: the picks
 * recorded for their decisions when they were decided before (see
 * learn_choose_again; out[i] is a reply or NULL; asked only under a policy
 * with variants), and their customers' preferences and recent list, read
 * again (refresh_memory). A dead Redis costs nothing (the client is told
 * at once while it retries) and a hung one a timeout; either way every
 * event gets a fresh pick and enrich's context, and the record of a first
 * decision stays as it is (learn_remember_decision). */
static void recall(decide_stage *s, cJSON *const *events, size_t n, redisReply **out)
{
    const char *rules[POLICY_MAX_RULES];
    char errstr[256];
    const int with_picks = policy_variant_rules(s->watch.pol, rules, POLICY_MAX_RULES) > 0;
    if (n == 0)
        return;
    if (redis_client_ready(s->redis, errstr, sizeof errstr) != ATTUNE_OK) {
        metric_add(s->recall_failed, n);
        return;
    }
    attune_err err = ATTUNE_OK;
    size_t fresh = 0;
    for (size_t i = 0; i < n && !err; i++) {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(events[i], "data");
        if (with_picks) {
            char did[37];
            const policy_env env = {.event_id = json_str(events[i], "id"),
                                    .event_source = json_str(events[i], "source")};
            policy_event_decision_id(s->watch.pol, data, &env, did);
            err = learn_recall_decision(s->redis, did);
        }
        if (!err)
            err =
                customer_queue_memory(s->redis, json_str(data, "customer_id"), s->cfg->recent_max);
    }
    for (size_t i = 0; i < n && !err; i++) {
        if (with_picks)
            err = redis_reply(s->redis, &out[i]);
        redisReply *mem[2] = {NULL, NULL};
        for (size_t k = 0; k < 2 && !err; k++)
            err = redis_reply(s->redis, &mem[k]);
        if (!err)
            fresh +=
                (size_t)refresh_memory(cJSON_GetObjectItemCaseSensitive(events[i], "data"), mem);
        for (size_t k = 0; k < 2; k++)
            if (mem[k])
                freeReplyObject(mem[k]);
    }
    if (err) {
        /* (replies may be left unread: the connection goes; the events
         * whose memory was read keep it, the others enrich's) */
        redis_client_drop(s->redis);
        for (size_t i = 0; i < n; i++) {
            if (out[i])
                freeReplyObject(out[i]);
            out[i] = NULL;
        }
    }
    metric_add(s->recall_failed, n - fresh);
}

/* Where the round that starts at events[start] ends: before the first
 * event of a customer the round already has (n at most). A customer's
 * later event is decided in the next round, after the earlier one is
 * remembered and read again. seen has cap slots, a power of two above n -
 * start. */
static size_t round_end(cJSON *const *events, size_t start, size_t n, const char **seen, size_t cap)
{
    memset(seen, 0, cap * sizeof *seen);
    for (size_t i = start; i < n; i++) {
        const char *id =
            json_str(cJSON_GetObjectItemCaseSensitive(events[i], "data"), "customer_id");
        if (!id)
            continue; /* (checked: not reached) */
        size_t at = (size_t)hash_fnv1a(id) & (cap - 1);
        while (seen[at] && strcmp(seen[at], id) != 0)
            at = (at + 1) & (cap - 1);
        if (seen[at])
            return i;
        seen[at] = id;
    }
    return n;
}

/* A batch's arrays, a slot an event: the events read (taken when
 * decided) and their records, their recalled picks, then what
 * remember_all needs of the decisions kept; seen holds the customers of a
 * round (round_end). */
typedef struct {
    cJSON **events;
    rd_kafka_message_t **from;
    redisReply **picks;
    cJSON **roots;
    char **records;
    const cJSON **datas;
    cJSON **routings;
    const char **seen;
    size_t cap; /* slots of seen */
} batch_slots;

static void slots_free(batch_slots *b)
{
    free(b->events);
    free(b->from);
    free(b->picks);
    free(b->roots);
    free(b->records);
    free(b->datas);
    free(b->routings);
    free(b->seen);
}

static attune_err slots_alloc(batch_slots *b, size_t n)
{
    b->cap = 16;
    while (b->cap < 2 * n)
        b->cap *= 2;
    b->events = calloc(n, sizeof *b->events);
    b->from = calloc(n, sizeof *b->from);
    b->picks = calloc(n, sizeof *b->picks);
    b->roots = calloc(n, sizeof *b->roots);
    b->records = calloc(n, sizeof *b->records);
    b->datas = calloc(n, sizeof *b->datas);
    b->routings = calloc(n, sizeof *b->routings);
    b->seen = calloc(b->cap, sizeof *b->seen);
    if (b->events && b->from && b->picks && b->roots && b->records && b->datas && b->routings &&
        b->seen)
        return ATTUNE_OK;
    slots_free(b);
    return ATTUNE_ERR_NOMEM;
}

/* Decides events[start..end) (taking them), emits the decisions and keeps
 * what remember_all needs in the slots from *kept on. */
static attune_err decide_round(decide_stage *s, stage_io *io, batch_slots *b, size_t start,
                               size_t end, size_t *kept)
{
    attune_err err = ATTUNE_OK;
    for (size_t i = start; i < end && !err; i++) {
        char reason[512];
        cJSON *root = b->events[i];
        b->events[i] = NULL; /* root owns it now */
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
        const redisReply *pk = b->picks[i];
        const learn_again again = {.chooser = &s->chooser,
                                   .picks = pk && pk->type == REDIS_REPLY_STRING ? pk->str : NULL};
        policy_env env = {.now_ms = ts_now_ms(),
                          .event_id = json_str(root, "id"),
                          .event_source = json_str(root, "source"),
                          .choose_variant = learn_choose_again,
                          .choose_arg = (void *)&again};
        cJSON *routing = NULL, *crm = NULL;
        double t0 = ts_mono();
        attune_err derr =
            policy_decide(s->watch.pol, data, &env, &routing, &crm, reason, sizeof reason);
        metric_observe(s->decide_time, ts_mono() - t0);
        if (derr == ATTUNE_ERR_NOMEM) {
            cJSON_Delete(root);
            err = derr;
            break;
        }
        if (derr) {
            cJSON_Delete(root);
            err = stage_reject(io, b->from[i], reason);
            continue;
        }
        const size_t too_large = io->too_large, k = *kept;
        b->records[k] = compact_record(data, routing, crm);
        b->routings[k] = cJSON_Duplicate(routing, 1);
        cJSON *routing_ce = event_derive(root, EVENT_TYPE_DECISION_ROUTING, routing);
        cJSON *crm_ce = event_derive(root, EVENT_TYPE_DECISION_CRM, crm);
        if (!routing_ce || !crm_ce || !b->records[k] || !b->routings[k]) {
            err = ATTUNE_ERR_NOMEM;
        } else {
            err = stage_emit(io, b->from[i], s->cfg->topic_routing,
                             json_str(data, "interaction_id"), routing_ce);
            /* (an input dead-lettered once is not dead-lettered again) */
            if (!err && io->too_large == too_large)
                err = stage_emit(io, b->from[i], s->cfg->topic_crm, json_str(data, "customer_id"),
                                 crm_ce);
        }
        cJSON_Delete(routing_ce);
        cJSON_Delete(crm_ce);
        if (io->too_large != too_large) {
            /* dead-lettered for its size: nothing of it is remembered */
            free(b->records[k]);
            cJSON_Delete(b->routings[k]);
            b->records[k] = NULL;
            b->routings[k] = NULL;
            cJSON_Delete(root);
            continue;
        }
        b->roots[k] = root;
        b->datas[k] = data;
        (*kept)++;
    }
    return err;
}

/* A batch is decided in rounds, each with at most one event a customer
 * (nearly always one round): every round reads Redis once (recall), is
 * decided, and is remembered (remember_all) before the next. */
static attune_err decide_batch(void *ud, stage_io *io, rd_kafka_message_t *const *msgs, size_t n)
{
    decide_stage *s = ud;
    batch_slots b;
    if (slots_alloc(&b, n) != ATTUNE_OK)
        return ATTUNE_ERR_NOMEM;
    attune_err err = ATTUNE_OK;
    size_t n_read = 0;
    for (size_t i = 0; i < n && !err; i++) {
        char reason[512];
        if (stage_read_event(s->cfg, msgs[i], EVENT_TYPE_CLASSIFIED, check_classified,
                             &b.events[n_read], reason, sizeof reason) != ATTUNE_OK) {
            err = stage_reject(io, msgs[i], reason);
            continue;
        }
        b.from[n_read++] = msgs[i];
    }
    size_t kept = 0;
    for (size_t start = 0; start < n_read && !err;) {
        const size_t end = round_end(b.events, start, n_read, b.seen, b.cap), first = kept;
        recall(s, b.events + start, end - start, b.picks + start);
        err = decide_round(s, io, &b, start, end, &kept);
        /* After an error the batch is consumed again: its contacts are
         * remembered then (the rounds before this one again, which
         * replaces their records in place). Its decisions' picks are kept
         * all the same (HSETNX, so once as well): at least once, the
         * decisions emitted before the error are out, and their events,
         * decided again, must get the same treatment; exactly once, they
         * were aborted, and the same picks again do no harm. */
        remember_all(s, b.records + first, b.datas + first, (const cJSON **)b.routings + first,
                     kept - first, err != ATTUNE_OK);
        start = end;
    }
    for (size_t i = 0; i < kept; i++) {
        free(b.records[i]);
        cJSON_Delete(b.roots[i]);
        cJSON_Delete(b.routings[i]);
    }
    for (size_t i = 0; i < n_read; i++) {
        cJSON_Delete(b.events[i]); /* (those not reached after an error) */
        if (b.picks[i])
            freeReplyObject(b.picks[i]);
    }
    slots_free(&b);
    return err;
}

int decide_service_run(const config *cfg, const char *policy_path)
{
    char errstr[512];
    decide_stage s = {.cfg = cfg};
    if (policy_watch_open(&s.watch, cfg, policy_path) != ATTUNE_OK)
        return 2;
    if (redis_client_new(cfg->redis_url, (int)cfg->redis_timeout_ms, &s.redis, errstr,
                         sizeof errstr) != ATTUNE_OK) {
        log_error("%s", errstr);
        policy_watch_close(&s.watch);
        return 2;
    }
    s.counts = learn_counts_new();
    if (!s.counts) {
        log_error("out of memory");
        redis_client_free(s.redis);
        policy_watch_close(&s.watch);
        return 2;
    }
    learn_chooser_init(&s.chooser, s.counts, policy_control_share(s.watch.pol), 0);
    s.decide_time =
        metrics_histogram("attune_decide_seconds", "time to decide one interaction", NULL);
    s.remember_failed = metrics_counter("attune_decide_remember_failed_total",
                                        "interactions not written back to Redis", NULL);
    s.recall_failed =
        metrics_counter("attune_decide_recall_failed_total",
                        "interactions decided with enrich's context: Redis could not be read "
                        "again for their customers' memory (and earlier picks)",
                        NULL);
    s.counts_failed = metrics_counter("attune_decide_learn_refresh_failed_total",
                                      "failed reads of the learned success counts", NULL);
    const stage_spec spec = {.in_topic = cfg->topic_classified,
                             .batch = decide_batch,
                             .idle = between_batches,
                             .ud = &s};
    int code = stage_run(cfg, &spec);
    learn_counts_free(s.counts);
    redis_client_free(s.redis);
    policy_watch_close(&s.watch);
    return code;
}
