#include "ingest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "hash.h"
#include "ids.h"
#include "interaction.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "outcome.h"
#include "ts.h"

typedef enum { BODY_EVENT, BODY_BATCH, BODY_BARE } body_kind;

/* What an endpoint accepts: interactions (POST /v1/events) or outcomes
 * (POST /v1/outcomes). Both travel the same way, keyed by customer. */
typedef struct {
    const char *type; /* CloudEvent type */
    size_t topic;     /* offset of the topic in config */
    const char *noun; /* "events", "outcomes": metrics label and messages */
    const char *what; /* "event", "outcome": problem type and title */
    attune_err (*validate)(const ingest *in, const cJSON *data, const char *prefix,
                           problem_field *pf);
} record_kind;

static attune_err validate_interaction(const ingest *in, const cJSON *data, const char *prefix,
                                       problem_field *pf)
{
    return interaction_validate(data, in->cfg->max_text_bytes, prefix, pf);
}

static attune_err validate_outcome(const ingest *in, const cJSON *data, const char *prefix,
                                   problem_field *pf)
{
    (void)in;
    return outcome_validate(data, prefix, pf);
}

static const record_kind interactions = {EVENT_TYPE_INTERACTION,
                                         offsetof(config, topic_interactions), "events", "event",
                                         validate_interaction};
static const record_kind outcomes = {EVENT_TYPE_OUTCOME, offsetof(config, topic_outcomes),
                                     "outcomes", "outcome", validate_outcome};

static const char *topic_of(const ingest *in, const record_kind *k)
{
    return *(char *const *)((const char *)in->cfg + k->topic);
}

static attune_err split_keys(ingest *in, const char *list, char *errstr, size_t errstr_size)
{
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    in->keys = calloc(cap, sizeof *in->keys);
    if (!in->keys)
        return ATTUNE_ERR_NOMEM;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        while (len && isspace((unsigned char)*p))
            p++, len--;
        if (len) {
            if (len < 16)
                return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                                   "ATTUNE_API_KEYS: every key needs at least 16 characters");
            in->keys[in->key_count] = strndup(p, len);
            if (!in->keys[in->key_count])
                return ATTUNE_ERR_NOMEM;
            in->key_count++;
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (in->key_count == 0)
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                           "ATTUNE_API_KEYS: set at least one API key; the event API never runs "
                           "without credentials");
    return ATTUNE_OK;
}

static void count(const record_kind *k, const char *result, size_t n)
{
    char name[64], help[64], labels[64];
    snprintf(name, sizeof name, "attune_ingest_%s_total", k->noun);
    snprintf(help, sizeof help, "%s posted to ingest", k->noun);
    snprintf(labels, sizeof labels, "result=\"%s\"", result);
    metric_add(metrics_counter(name, help, labels), n);
}

attune_err ingest_init(ingest *in, const config *cfg, char *errstr, size_t errstr_size)
{
    memset(in, 0, sizeof *in);
    in->cfg = cfg;
    attune_err err = split_keys(in, cfg->api_keys, errstr, errstr_size);
    if (!err) {
        /* two entries an event: its id, and its id with its content */
        in->seen = dedup_new(2 * (size_t)cfg->idempotency_max_ids, cfg->idempotency_window_s);
        if (!in->seen)
            err = attune_errf(ATTUNE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    if (!err)
        err = kafka_producer_new(cfg, &in->producer, errstr, errstr_size);
    if (!err)
        err = redis_client_new(cfg->redis_url, (int)cfg->redis_timeout_ms, &in->redis, errstr,
                               errstr_size);
    if (!err)
        pthread_mutex_init(&in->redis_mu, NULL);
    if (err) {
        ingest_fini(in);
        return err;
    }
    /* every result's series from the start, at 0: an alert on the rate of
     * "unavailable" needs it before the first outage */
    static const char *const results[] = {"accepted", "duplicate", "rejected", "unavailable"};
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++) {
        count(&interactions, results[i], 0);
        count(&outcomes, results[i], 0);
    }
    return ATTUNE_OK;
}

void ingest_fini(ingest *in)
{
    kafka_producer_free(in->producer);
    in->producer = NULL;
    dedup_free(in->seen);
    in->seen = NULL;
    if (in->redis) {
        redis_client_free(in->redis);
        in->redis = NULL;
        pthread_mutex_destroy(&in->redis_mu);
    }
    for (size_t i = 0; i < in->key_count; i++)
        free(in->keys[i]);
    free(in->keys);
    in->keys = NULL;
    in->key_count = 0;
}

int ingest_ready(void *ud)
{
    ingest *in = ud;
    return kafka_producer_ready(in->producer);
}

/* Compares every byte of every key whatever matches, so the time taken says
 * nothing about how close a guess was. */
static int authorized(const ingest *in, const char *header)
{
    static const char scheme[] = "Bearer ";
    if (!header || strncasecmp(header, scheme, sizeof scheme - 1) != 0)
        return 0;
    const char *token = header + sizeof scheme - 1;
    size_t tlen = strlen(token);
    int ok = 0;
    for (size_t k = 0; k < in->key_count; k++) {
        const char *key = in->keys[k];
        size_t klen = strlen(key);
        unsigned diff = (unsigned)(klen ^ tlen);
        size_t n = klen > tlen ? klen : tlen;
        for (size_t i = 0; i < n; i++) {
            unsigned char a = i < klen ? (unsigned char)key[i] : 0;
            unsigned char b = i < tlen ? (unsigned char)token[i] : 0;
            diff |= (unsigned)(a ^ b);
        }
        ok |= diff == 0;
    }
    return ok;
}

static int media_type_is(const char *content_type, const char *want)
{
    size_t n = strlen(want);
    if (!content_type || strncasecmp(content_type, want, n) != 0)
        return 0;
    char next = content_type[n];
    return next == '\0' || next == ';' || next == ' ';
}

/* 1 when an Idempotency-Key can become an event id: 1 to EVENT_MAX_ID bytes
 * of UTF-8 without control characters (C0, DEL, C1). The later stages refuse
 * an event that is not UTF-8, and a 202 must mean the event goes through. */
static int idempotency_key_valid(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > EVENT_MAX_ID || json_utf8_valid(key, n) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c == 0xc2 && (unsigned char)key[i + 1] < 0xa0) /* U+0080..U+009F */
            return 0;
    }
    return 1;
}

/* Turns a bare interaction into a CloudEvent; the id is the caller's
 * Idempotency-Key when given, so a retried post is recognised. */
static cJSON *wrap_bare(const record_kind *k, cJSON *data, const http_request *req)
{
    char id[IDS_UUID_LEN];
    const char *event_id = req->idempotency_key; /* checked by the caller */
    if (!event_id) {
        ids_uuid4(id);
        event_id = id;
    }
    return event_new(event_id, EVENT_SOURCE_INGEST, k->type, 0, req->traceparent, data);
}

/* A 4xx for what is wrong with a request: a field of the body (pf), or
 * something outside it said in detail (pf NULL: a header). */
static void reject_with(const record_kind *k, http_response *resp, attune_err err,
                        const char *detail, const problem_field *pf)
{
    count(k, "rejected", 1);
    if (err == ATTUNE_ERR_LIMIT) {
        http_respond_problem(resp, 413, "limit-exceeded", "A limit was exceeded", detail, pf);
    } else {
        char type[32], title[48];
        snprintf(type, sizeof type, "invalid-%s", k->what);
        snprintf(title, sizeof title, "The %s is not valid", k->what);
        http_respond_problem(resp, 400, type, title, detail, pf);
    }
}

static void reject(const record_kind *k, http_response *resp, attune_err err,
                   const problem_field *pf)
{
    reject_with(k, resp, err, NULL, pf);
}

/* Validates one CloudEvent and its data. */
static attune_err check_event(const ingest *in, const record_kind *k, const cJSON *ce,
                              const char *prefix, problem_field *pf)
{
    attune_err err = event_validate(ce, k->type, prefix, pf);
    if (err)
        return err;
    char data_prefix[64];
    snprintf(data_prefix, sizeof data_prefix, "%s/data", prefix);
    return k->validate(in, cJSON_GetObjectItemCaseSensitive(ce, "data"), data_prefix, pf);
}

/* Appends a separator (unless first) and s to out, with the separator 0x1f
 * and the escape 0x1e inside s preceded by a 0x1e, so parts never run
 * together: source "/s\x1fx" with id "y" differs from source "/s" with id
 * "x\x1fy". Parts without either byte, nearly all, keep the key they had
 * before, so ids remembered in Redis by an older ingest still count.
 * Stops at cap - 1 (event_validate's bounds make that unreachable). */
static void seen_key_part(const char *s, int first, char *out, size_t cap, size_t *len)
{
    if (!first && *len + 1 < cap)
        out[(*len)++] = '\x1f';
    for (; s && *s && *len + 2 < cap; s++) {
        if (*s == '\x1e' || *s == '\x1f')
            out[(*len)++] = '\x1e';
        out[(*len)++] = *s;
    }
    out[*len] = '\0';
}

/* The idempotency key of an event: its source and id, as CloudEvents
 * defines uniqueness (and its type). */
static void seen_key(const cJSON *ce, char *out, size_t cap)
{
    size_t len = 0;
    seen_key_part(json_str(ce, "type"), 1, out, cap, &len);
    seen_key_part(json_str(ce, "source"), 0, out, cap, &len);
    seen_key_part(json_str(ce, "id"), 0, out, cap, &len);
}

/* Hashes v into h whatever the order of its members: an object's members
 * are taken in the order of their names (a client that serialises a retry
 * anew may reorder them), each name with its value. */
static uint64_t fingerprint_value(uint64_t h, const cJSON *v, int depth)
{
    char tag[2] = {(char)('a' + (v->type & 0xFF) % 26), '\0'};
    h = hash_fnv1a_more(h, tag);
    if (cJSON_IsObject(v) && depth < 64) {
        /* members in name order, without sorting in place: the smallest
         * name above the last one taken, each turn (data is small) */
        const char *last = NULL;
        for (;;) {
            const cJSON *next = NULL;
            for (const cJSON *m = v->child; m; m = m->next)
                if ((!last || strcmp(m->string, last) > 0) &&
                    (!next || strcmp(m->string, next->string) < 0))
                    next = m;
            if (!next)
                break;
            h = hash_fnv1a_more(hash_fnv1a_more(h, next->string), "\x1f");
            h = fingerprint_value(h, next, depth + 1);
            last = next->string;
        }
        return h;
    }
    if (cJSON_IsArray(v) && depth < 64) {
        for (const cJSON *m = v->child; m; m = m->next)
            h = hash_fnv1a_more(fingerprint_value(h, m, depth + 1), "\x1e");
        return h;
    }
    /* a string as it is (its tag tells it from a number), the rarer
     * numbers, booleans and null as printed */
    if (cJSON_IsString(v))
        return hash_fnv1a_more(h, v->valuestring);
    char *text = json_print(v);
    h = hash_fnv1a_more(h, text ? text : "");
    free(text);
    return h;
}

/* What an event says (its data): a retry sends the same, and an id reused
 * for other content is refused rather than taken for a duplicate and
 * dropped. The order of an object's members does not count. Never 0 (0
 * means "not known" in the window). */
static uint64_t content_fingerprint(const cJSON *ce)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(ce, "data");
    uint64_t h = data ? fingerprint_value(HASH_FNV1A_INIT, data, 0) : HASH_FNV1A_INIT;
    return h ? h : 1;
}

/* The local window's second key of an event: its seen_key and its content. */
#define CONTENT_KEY_MAX (SEEN_KEY_MAX + 20)
static void content_key(const char *key, uint64_t fp, char *out, size_t cap)
{
    snprintf(out, cap, "%s\x1f#%016llx", key, (unsigned long long)fp);
}

/* The window shared by every ingest replica lives in Redis, so a retry that
 * reaches another replica is still recognised. Redis trouble never fails a
 * request: the local window still applies. */
#define SHARED_PREFIX "attune:ingest:seen:"
/* Every byte escaped at worst, two separators and the NUL. */
#define SEEN_KEY_MAX (2 * (EVENT_MAX_TYPE + EVENT_MAX_ID + EVENT_MAX_SOURCE) + 3)
#define SHARED_KEY_MAX (sizeof SHARED_PREFIX + SEEN_KEY_MAX)

static void shared_key(const cJSON *ce, char *out, size_t n)
{
    char key[SEEN_KEY_MAX];
    seen_key(ce, key, sizeof key);
    snprintf(out, n, SHARED_PREFIX "%s", key);
}

/* mark values of shared_round_trip's check */
#define SEEN_REPLICA 2  /* a replica stored this event: a duplicate */
#define SEEN_CONFLICT 3 /* a replica stored other content under this id */

/* One round trip over the events i whose mark[i] is want: with check, GET
 * each key and set mark[i] to SEEN_REPLICA when a replica stored the same
 * content (or stored it before contents were kept, value "1"), to
 * SEEN_CONFLICT when other content; without, SET each key to the content's
 * fingerprint with the window as its TTL. */
static void shared_round_trip(ingest *in, cJSON *const *events, const uint64_t *fp, size_t n,
                              char *mark, char want, int check)
{
    if (!in->redis || in->cfg->idempotency_window_s <= 0)
        return;
    char errstr[256], ttl[32];
    snprintf(ttl, sizeof ttl, "%ld", in->cfg->idempotency_window_s);
    pthread_mutex_lock(&in->redis_mu);
    attune_err err = redis_client_ready(in->redis, errstr, sizeof errstr);
    size_t queued = 0;
    for (size_t i = 0; i < n && !err; i++) {
        if (mark[i] != want)
            continue;
        char key[SHARED_KEY_MAX], value[20];
        shared_key(events[i], key, sizeof key);
        snprintf(value, sizeof value, "%016llx", (unsigned long long)fp[i]);
        const char *get[] = {"GET", key};
        const char *set[] = {"SET", key, value, "EX", ttl};
        err = check ? redis_append(in->redis, 2, get, NULL) : redis_append(in->redis, 5, set, NULL);
        queued += !err;
    }
    for (size_t i = 0, q = 0; q < queued && !err; i++) {
        if (mark[i] != want)
            continue;
        redisReply *r = NULL;
        err = redis_reply(in->redis, &r);
        if (!err && check && r->type == REDIS_REPLY_STRING) {
            char value[20];
            snprintf(value, sizeof value, "%016llx", (unsigned long long)fp[i]);
            /* seen by a replica: not produced, not remembered again */
            mark[i] = strcmp(r->str, "1") == 0 || strcmp(r->str, value) == 0 ? SEEN_REPLICA
                                                                             : SEEN_CONFLICT;
        }
        if (r)
            freeReplyObject(r);
        q++;
    }
    if (err && queued)
        redis_client_drop(in->redis);
    pthread_mutex_unlock(&in->redis_mu);
}

/* Marks dup[i] (0 so far) for the events a replica has seen. */
static void shared_seen(ingest *in, cJSON *const *events, const uint64_t *fp, size_t n, char *dup)
{
    shared_round_trip(in, events, fp, n, dup, 0, 1);
}

/* Remembers the events with stored[i] set. */
static void shared_remember(ingest *in, cJSON *const *events, const uint64_t *fp, size_t n,
                            const char *stored)
{
    shared_round_trip(in, events, fp, n, (char *)stored, 1, 0);
}

/* The first earlier event of the same request with event i's source and
 * id, or i when there is none. */
static size_t repeated_in_request(cJSON *const *events, size_t i)
{
    const char *id = json_str(events[i], "id"), *src = json_str(events[i], "source");
    for (size_t j = 0; j < i; j++)
        if (strcmp(json_str(events[j], "id"), id) == 0 &&
            strcmp(json_str(events[j], "source"), src) == 0)
            return j;
    return i;
}

static const char *customer_of(const cJSON *event)
{
    return json_str(cJSON_GetObjectItemCaseSensitive(event, "data"), "customer_id");
}

/* The headers of an event's record (it holds their strings). */
static void event_headers(const cJSON *event, kafka_header h[2])
{
    h[0] = (kafka_header){"content-type", EVENT_CONTENT_TYPE};
    h[1] = (kafka_header){"traceparent", json_str(event, "traceparent")};
}

/* Produces the events that are not duplicates and waits for the broker.
 * dup[i] is set for the duplicates, stored[i] for the events the broker
 * acknowledged (*dup_count and *stored_count of them). Those are remembered even when the request
 * fails (a record the broker refused, Kafka gone before every answer came): the client resends the
 * whole request, and they must come back as duplicates instead of being stored twice. An id
 * seen in the window with other content stores nothing: ATTUNE_ERR_CONFLICT, *conflict_at the
 * first such event. */
static attune_err produce_all(ingest *in, const char *topic, cJSON *const *events, size_t n,
                              const http_request *req, char *dup, char *stored, size_t *dup_count,
                              size_t *stored_count, size_t *conflict_at, char *errstr,
                              size_t errstr_size)
{
    kafka_wait w;
    kafka_wait_init(&w);
    attune_err err = ATTUNE_OK;
    int64_t now = ts_now_ms();
    *dup_count = 0;
    *stored_count = 0;
    *conflict_at = n;
    uint64_t *fp = calloc(n, sizeof *fp);
    if (!fp) {
        kafka_wait_fini(&w);
        return attune_errf(ATTUNE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        char key[SEEN_KEY_MAX], ckey[CONTENT_KEY_MAX];
        seen_key(events[i], key, sizeof key);
        fp[i] = content_fingerprint(events[i]);
        content_key(key, fp[i], ckey, sizeof ckey);
        const size_t first = repeated_in_request(events, i);
        if (first < i)
            dup[i] = fp[first] == fp[i] ? 1 : SEEN_CONFLICT;
        else if (dedup_seen(in->seen, ckey, now))
            dup[i] = 1;
        else if (dedup_seen(in->seen, key, now))
            dup[i] = SEEN_CONFLICT;
    }
    shared_seen(in, events, fp, n, dup);
    for (size_t i = 0; i < n && *conflict_at == n; i++)
        if (dup[i] == SEEN_CONFLICT)
            *conflict_at = i;
    if (*conflict_at < n) {
        free(fp);
        kafka_wait_fini(&w);
        return attune_errf(ATTUNE_ERR_CONFLICT, errstr, errstr_size,
                           "id %s was accepted with other content within the idempotency window",
                           json_str(events[*conflict_at], "id"));
    }
    /* Every record is made and weighed before the first is queued: an event
     * over the producer's limit is a 413 for the request with none of it
     * stored, the simplest answer. (A record only the broker refuses, over a
     * topic's lower limit, can fail after others were stored; those are
     * remembered below.) */
    char **texts = calloc(n, sizeof *texts);
    kafka_delivery *sent = calloc(n, sizeof *sent);
    if (!texts || !sent)
        err = ATTUNE_ERR_NOMEM;
    for (size_t i = 0; i < n && !err; i++) {
        if (dup[i]) {
            (*dup_count)++;
            continue;
        }
        /* Every event carries a traceparent from here on. */
        if (!cJSON_GetObjectItemCaseSensitive(events[i], "traceparent")) {
            char tp[IDS_TRACEPARENT_LEN];
            if (req->traceparent && ids_traceparent_valid(req->traceparent))
                ids_traceparent_child(req->traceparent, tp);
            else
                ids_traceparent_new(tp);
            cJSON_AddStringToObject(events[i], "traceparent", tp);
        }
        texts[i] = json_print(events[i]);
        kafka_header h[2];
        event_headers(events[i], h);
        if (!texts[i])
            err = ATTUNE_ERR_NOMEM;
        else if (!kafka_record_fits(in->producer, strlen(customer_of(events[i])), strlen(texts[i]),
                                    h, 2))
            err = ATTUNE_ERR_TOO_LARGE;
    }
    for (size_t i = 0; i < n && !err; i++) {
        if (!texts[i])
            continue; /* a duplicate */
        const char *customer = customer_of(events[i]);
        kafka_header h[2];
        event_headers(events[i], h);
        err = kafka_produce(in->producer, topic, customer, strlen(customer), texts[i],
                            strlen(texts[i]), h, 2, &w, &sent[i]);
    }
    for (size_t i = 0; texts && i < n; i++)
        free(texts[i]);
    free(texts);
    attune_err werr = kafka_wait_all(&w, errstr, errstr_size);
    kafka_wait_fini(&w);
    if (err)
        attune_errf(err, errstr, errstr_size, "could not queue the events: %s",
                    attune_err_str(err));
    else
        err = werr;
    for (size_t i = 0; sent && i < n; i++) {
        stored[i] = (char)sent[i].delivered; /* 0 for a duplicate: never sent */
        if (!stored[i])
            continue;
        (*stored_count)++;
        char key[SEEN_KEY_MAX], ckey[CONTENT_KEY_MAX];
        seen_key(events[i], key, sizeof key);
        content_key(key, fp[i], ckey, sizeof ckey);
        if (dedup_add(in->seen, key, now) != 0 || dedup_add(in->seen, ckey, now) != 0)
            log_warn("idempotency window full of memory; an id was not remembered");
    }
    free(sent);
    if (*stored_count)
        shared_remember(in, events, fp, n, stored);
    free(fp);
    return err;
}

static void accepted(http_response *resp, cJSON *const *events, size_t n, const char *dup,
                     size_t dup_count)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(body, "ids");
    cJSON *dups = cJSON_AddArrayToObject(body, "duplicate_ids");
    cJSON_AddNumberToObject(body, "accepted", (double)n);
    cJSON_AddNumberToObject(body, "duplicates", (double)dup_count);
    for (size_t i = 0; i < n; i++) {
        const char *id = json_str(events[i], "id");
        cJSON_AddItemToArray(ids, cJSON_CreateString(id));
        if (dup[i])
            cJSON_AddItemToArray(dups, cJSON_CreateString(id));
    }
    http_respond_json(resp, 202, json_print(body));
    cJSON_Delete(body);
}

/* The problem document of a request Kafka did not take whole. stored_ids
 * (an extension member) lists the events it stored all the same: the client
 * resends the whole request, and those come back as duplicates. */
static void not_stored(http_response *resp, int status, const char *slug, const char *title,
                       const char *detail, cJSON *const *events, size_t n, const char *stored)
{
    cJSON *doc = problem_new(status, slug, title, detail, NULL);
    cJSON *ids = doc ? cJSON_AddArrayToObject(doc, "stored_ids") : NULL;
    for (size_t i = 0; ids && i < n; i++)
        if (stored[i])
            cJSON_AddItemToArray(ids, cJSON_CreateString(json_str(events[i], "id")));
    if (!ids) { /* a document without the list would say none was stored */
        cJSON_Delete(doc);
        doc = NULL;
    }
    http_respond_problem_doc(resp, status, doc);
    cJSON_Delete(doc);
}

static void post_records(ingest *in, const record_kind *k, const http_request *req,
                         http_response *resp)
{
    char errstr[512];
    problem_field pf;
    if (!authorized(in, req->authorization)) {
        count(k, "unauthorized", 1);
        http_respond_problem(resp, 401, "unauthorized", "Missing or wrong API key",
                             "send 'Authorization: Bearer <key>' with a key from ATTUNE_API_KEYS",
                             NULL);
        resp->www_authenticate = "Bearer realm=\"attune\"";
        return;
    }
    body_kind kind;
    if (media_type_is(req->content_type, EVENT_CONTENT_TYPE))
        kind = BODY_EVENT;
    else if (media_type_is(req->content_type, EVENT_BATCH_CONTENT_TYPE))
        kind = BODY_BATCH;
    else if (media_type_is(req->content_type, "application/json"))
        kind = BODY_BARE;
    else {
        count(k, "rejected", 1);
        http_respond_problem(resp, 415, "unsupported-media-type", "Unsupported media type",
                             "use application/cloudevents+json, "
                             "application/cloudevents-batch+json or application/json",
                             NULL);
        return;
    }
    cJSON *root = NULL;
    attune_err err = json_parse(req->body, req->body_len, (int)in->cfg->max_json_depth, &root,
                                errstr, sizeof errstr);
    if (err) {
        count(k, "rejected", 1);
        if (err == ATTUNE_ERR_LIMIT)
            http_respond_problem(resp, 413, "limit-exceeded", "A limit was exceeded", errstr, NULL);
        else if (err == ATTUNE_ERR_NOMEM)
            http_respond_problem(resp, 500, "internal", "Internal error", "out of memory", NULL);
        else
            http_respond_problem(resp, 400, "malformed-json", "The body is not valid JSON", errstr,
                                 NULL);
        return;
    }

    size_t n = 0;
    cJSON **events = NULL;
    cJSON *wrapped = NULL;
    char *dup = NULL, *stored = NULL;
    if (kind == BODY_BATCH) {
        if (!cJSON_IsArray(root) || cJSON_GetArraySize(root) == 0) {
            problem_field_set(&pf, "", "", "a batch must be a non-empty JSON array of CloudEvents");
            reject(k, resp, ATTUNE_ERR_INVALID, &pf);
            goto out;
        }
        n = (size_t)cJSON_GetArraySize(root);
        if (n > (size_t)in->cfg->max_batch_events) {
            problem_field_set(&pf, "", "", "a batch holds at most %ld %s, this one %zu",
                              in->cfg->max_batch_events, k->noun, n);
            reject(k, resp, ATTUNE_ERR_LIMIT, &pf);
            goto out;
        }
    } else {
        n = 1;
    }
    events = calloc(n, sizeof *events);
    dup = calloc(n, 1);
    stored = calloc(n, 1);
    if (!events || !dup || !stored) {
        http_respond_problem(resp, 500, "internal", "Internal error", "out of memory", NULL);
        goto out;
    }
    if (kind == BODY_BARE && req->idempotency_key && !idempotency_key_valid(req->idempotency_key)) {
        char detail[128];
        snprintf(detail, sizeof detail,
                 "the Idempotency-Key header must have 1 to %d bytes of UTF-8 without control "
                 "characters",
                 EVENT_MAX_ID);
        reject_with(k, resp, ATTUNE_ERR_INVALID, detail, NULL);
        goto out;
    }
    if (kind == BODY_BARE) {
        err = k->validate(in, root, "", &pf);
        if (err) {
            reject(k, resp, err, &pf);
            goto out;
        }
        wrapped = wrap_bare(k, root, req);
        root = NULL; /* now owned by wrapped */
        if (!wrapped) {
            http_respond_problem(resp, 500, "internal", "Internal error", "out of memory", NULL);
            goto out;
        }
        events[0] = wrapped;
    } else if (kind == BODY_EVENT) {
        err = check_event(in, k, root, "", &pf);
        if (err) {
            reject(k, resp, err, &pf);
            goto out;
        }
        events[0] = root;
    } else {
        size_t i = 0;
        for (cJSON *ce = root->child; ce; ce = ce->next, i++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "/%zu", i);
            err = check_event(in, k, ce, prefix, &pf);
            if (err)
                break;
            events[i] = ce;
        }
        if (err) {
            reject(k, resp, err, &pf);
            goto out;
        }
    }
    size_t dup_count = 0, stored_count = 0, conflict_at = n;
    err = produce_all(in, topic_of(in, k), events, n, req, dup, stored, &dup_count, &stored_count,
                      &conflict_at, errstr, sizeof errstr);
    if (err == ATTUNE_ERR_CONFLICT) {
        /* a client bug, or two clients sharing a key: never a silent drop */
        count(k, "rejected", n);
        char detail[256];
        if (kind == BODY_BARE) {
            snprintf(detail, sizeof detail,
                     "this Idempotency-Key was used within the idempotency window for a "
                     "different %s; a retry must send the same body, a new %s needs a new key",
                     k->what, k->what);
            http_respond_problem(resp, 422, "idempotency-conflict",
                                 "The idempotency key was used for different content", detail,
                                 NULL);
        } else {
            char at[32];
            if (kind == BODY_BATCH)
                snprintf(at, sizeof at, "/%zu/id", conflict_at);
            else
                snprintf(at, sizeof at, "/id");
            problem_field_set(&pf, "", at,
                              "was accepted with different content within the idempotency "
                              "window (source and id name one event; a retry must send the "
                              "same data)");
            http_respond_problem(resp, 422, "idempotency-conflict",
                                 "The idempotency key was used for different content", NULL, &pf);
        }
        goto out;
    }
    /* What a failed request stored all the same counts as accepted, once:
     * the retry counts those as duplicates. */
    if (err)
        count(k, "accepted", stored_count);
    if (err == ATTUNE_ERR_TOO_LARGE) {
        /* Permanent: the same request would be refused again, so no 503. */
        log_warn("%s not accepted (%zu of %zu stored): %s", k->noun, stored_count, n, errstr);
        count(k, "rejected", n - stored_count);
        char detail[160];
        snprintf(detail, sizeof detail,
                 "an %s is too large to be stored in Kafka; shorten it and resend the request "
                 "(%zu of %zu stored by this one: stored_ids)",
                 k->what, stored_count, n);
        not_stored(resp, 413, "limit-exceeded", "A limit was exceeded", detail, events, n, stored);
    } else if (err) {
        log_error("%s not accepted (%zu of %zu stored): %s", k->noun, stored_count, n, errstr);
        count(k, "unavailable", n - stored_count);
        char title[64], detail[160];
        snprintf(title, sizeof title, "%c%s could not be stored", toupper(k->noun[0]), k->noun + 1);
        snprintf(detail, sizeof detail,
                 "Kafka did not acknowledge the %s; retry the same request (%zu of %zu stored by "
                 "this one: stored_ids)",
                 k->noun, stored_count, n);
        not_stored(resp, 503, "kafka-unavailable", title, detail, events, n, stored);
        resp->retry_after_s = 2;
    } else {
        count(k, "accepted", n - dup_count);
        count(k, "duplicate", dup_count);
        accepted(resp, events, n, dup, dup_count);
    }
out:
    free(stored);
    free(dup);
    free(events);
    cJSON_Delete(wrapped);
    cJSON_Delete(root);
}

void ingest_post_events(void *ud, const http_request *req, http_response *resp)
{
    post_records(ud, &interactions, req, resp);
}

void ingest_post_outcomes(void *ud, const http_request *req, http_response *resp)
{
    post_records(ud, &outcomes, req, resp);
}
