#include "learn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "customer.h"
#include "hash.h"
#include "json.h"

/* --- counts: an open-addressing table keyed by "rule\x1fbucket\x1fvariant" */

typedef struct {
    char *key; /* NULL: empty slot */
    long s, f;
} entry;

struct learn_counts {
    entry *slots;
    size_t cap; /* a power of two */
    size_t used;
};

static int make_key(char *out, size_t size, const char *rule, const char *bucket,
                    const char *variant)
{
    int n = snprintf(out, size, "%s\x1f%s\x1f%s", rule, bucket, variant);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

learn_counts *learn_counts_new(void)
{
    learn_counts *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cap = 64;
    c->slots = calloc(c->cap, sizeof *c->slots);
    if (!c->slots) {
        free(c);
        return NULL;
    }
    return c;
}

void learn_counts_clear(learn_counts *c)
{
    for (size_t i = 0; i < c->cap; i++) {
        free(c->slots[i].key);
        c->slots[i] = (entry){0};
    }
    c->used = 0;
}

void learn_counts_free(learn_counts *c)
{
    if (!c)
        return;
    learn_counts_clear(c);
    free(c->slots);
    free(c);
}

static entry *find(const learn_counts *c, const char *key)
{
    size_t i = (size_t)hash_fnv1a(key) & (c->cap - 1);
    while (c->slots[i].key && strcmp(c->slots[i].key, key) != 0)
        i = (i + 1) & (c->cap - 1);
    return &c->slots[i];
}

static int grow(learn_counts *c)
{
    learn_counts bigger = {calloc(c->cap * 2, sizeof(entry)), c->cap * 2, c->used};
    if (!bigger.slots)
        return -1;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].key)
            *find(&bigger, c->slots[i].key) = c->slots[i];
    free(c->slots);
    *c = bigger;
    return 0;
}

int learn_counts_add(learn_counts *c, const char *rule, const char *bucket, const char *variant,
                     long successes, long failures)
{
    char key[LEARN_KEY_MAX];
    if (make_key(key, sizeof key, rule, bucket, variant) != 0)
        return -1;
    if ((c->used + 1) * 2 > c->cap && grow(c) != 0)
        return -1;
    entry *e = find(c, key);
    if (!e->key) {
        if (!(e->key = strdup(key)))
            return -1;
        c->used++;
    }
    e->s += successes;
    e->f += failures;
    return 0;
}

void learn_counts_get(const learn_counts *c, const char *rule, const char *bucket,
                      const char *variant, long *successes, long *failures)
{
    char key[LEARN_KEY_MAX];
    *successes = *failures = 0;
    if (make_key(key, sizeof key, rule, bucket, variant) != 0)
        return;
    const entry *e = find(c, key);
    if (e->key) {
        *successes = e->s;
        *failures = e->f;
    }
}

static int by_key(const void *a, const void *b)
{
    return strcmp((*(const entry *const *)a)->key, (*(const entry *const *)b)->key);
}

int learn_counts_each(const learn_counts *c, learn_counts_fn fn, void *arg)
{
    const entry **sorted = malloc((c->used ? c->used : 1) * sizeof *sorted);
    if (!sorted)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].key)
            sorted[n++] = &c->slots[i];
    qsort(sorted, n, sizeof *sorted, by_key);
    for (size_t i = 0; i < n; i++) {
        char key[LEARN_KEY_MAX];
        snprintf(key, sizeof key, "%s", sorted[i]->key);
        char *bucket = strchr(key, '\x1f');
        char *variant = bucket ? strchr(bucket + 1, '\x1f') : NULL;
        if (!variant)
            continue;
        *bucket++ = '\0';
        *variant++ = '\0';
        fn(arg, key, bucket, variant, sorted[i]->s, sorted[i]->f);
    }
    free(sorted);
    return 0;
}

/* --- Thompson sampling ---------------------------------------------------- */

/* xorshift64*: small, fast, and good enough to break ties between variants. */
static uint64_t next(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

double learn_uniform(uint64_t *rng)
{
    return ((double)(next(rng) >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
}

static double normal(uint64_t *rng)
{
    double u = learn_uniform(rng), v = learn_uniform(rng);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Gamma(a, 1) for a >= 1 (Marsaglia and Tsang, 2000). */
static double gamma_draw(uint64_t *rng, double a)
{
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = normal(rng), v = 1.0 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = learn_uniform(rng);
        if (u < 1.0 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
            return d * v;
    }
}

double learn_beta(uint64_t *rng, double a, double b)
{
    double x = gamma_draw(rng, a), y = gamma_draw(rng, b);
    return x / (x + y);
}

void learn_chooser_init(learn_chooser *ch, const learn_counts *counts, double control_share,
                        uint64_t seed)
{
    ch->counts = counts;
    ch->control_share = control_share;
    ch->seed = seed;
}

void learn_choose(void *arg, const policy_variant_query *q, policy_variant_pick *out)
{
    const learn_chooser *ch = arg;
    uint64_t rng = hash_fnv1a_more(ch->seed ^ HASH_FNV1A_INIT, q->interaction_id);
    rng = hash_fnv1a_more(hash_fnv1a_more(rng, "\x1f"), q->rule_id);
    if (ch->control_share > 0 && learn_uniform(&rng) < ch->control_share) {
        out->index = (size_t)(learn_uniform(&rng) * (double)q->n) % q->n;
        out->method = "control";
        out->sampled = -1;
        return;
    }
    double best = -1;
    for (size_t i = 0; i < q->n; i++) {
        long s = 0, f = 0;
        if (ch->counts)
            learn_counts_get(ch->counts, q->rule_id, q->bucket, q->names[i], &s, &f);
        double draw = learn_beta(&rng, 1.0 + (double)s, 1.0 + (double)f);
        if (draw > best) {
            best = draw;
            out->index = i;
        }
    }
    out->method = "thompson";
    out->sampled = best;
}

/* The method names a pick can have, as the static strings a
 * policy_variant_pick holds; NULL for another. */
static const char *known_method(const char *s, size_t n)
{
    static const char *const methods[] = {"thompson", "control", "hash"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strlen(methods[i]) == n && memcmp(methods[i], s, n) == 0)
            return methods[i];
    return NULL;
}

/* Whether the entry [e, end) "rule:variant:method:sampled" is of rule and
 * names one of q's variants: then *out says which, how and the draw. */
static int replay_entry(const char *e, const char *end, const policy_variant_query *q,
                        policy_variant_pick *out)
{
    const char *f[4];
    size_t len[4];
    for (int k = 0; k < 4; k++) {
        const char *c = k < 3 ? memchr(e, ':', (size_t)(end - e)) : end;
        if (!c)
            return 0;
        f[k] = e;
        len[k] = (size_t)(c - e);
        e = c + 1;
    }
    if (strlen(q->rule_id) != len[0] || memcmp(q->rule_id, f[0], len[0]) != 0)
        return 0;
    const char *method = known_method(f[2], len[2]);
    if (!method)
        return 0;
    char num[32];
    snprintf(num, sizeof num, "%.*s", (int)(len[3] < 31 ? len[3] : 31), f[3]);
    char *stop = NULL;
    const double sampled = strtod(num, &stop);
    if (stop == num || *stop || !(sampled == -1 || (sampled >= 0 && sampled <= 1)))
        return 0;
    for (size_t i = 0; i < q->n; i++) {
        if (strlen(q->names[i]) == len[1] && memcmp(q->names[i], f[1], len[1]) == 0) {
            out->index = i;
            out->method = method;
            out->sampled = sampled;
            return 1;
        }
    }
    return 0; /* a variant the rule no longer has: a fresh pick */
}

void learn_choose_again(void *arg, const policy_variant_query *q, policy_variant_pick *out)
{
    const learn_again *a = arg;
    for (const char *e = a->picks; e && *e;) {
        const char *end = strchr(e, ',');
        if (!end)
            end = e + strlen(e);
        if (replay_entry(e, end, q, out))
            return;
        e = *end ? end + 1 : end;
    }
    learn_choose((void *)a->chooser, q, out);
}

void learn_picks_write(const cJSON *choices, char *picks, size_t picks_size, char *list,
                       size_t list_size)
{
    size_t np = 0, nl = 0;
    picks[0] = list[0] = '\0';
    for (const cJSON *c = choices ? choices->child : NULL; c; c = c->next) {
        const char *rule = json_str(c, "rule"), *variant = json_str(c, "variant"),
                   *method = json_str(c, "method");
        const cJSON *sampled = cJSON_GetObjectItemCaseSensitive(c, "sampled");
        if (!rule || !variant || !method)
            continue;
        /* %.17g: the draw comes back as the same double */
        int wp = snprintf(picks + np, picks_size - np, "%s%s:%s:%s:%.17g", np ? "," : "", rule,
                          variant, method, cJSON_IsNumber(sampled) ? sampled->valuedouble : -1.0);
        int wl = snprintf(list + nl, list_size - nl, "%s%s:%s", nl ? "," : "", rule, variant);
        /* in both or in neither: what is replayed is what is learned */
        if (wp > 0 && (size_t)wp < picks_size - np && wl > 0 && (size_t)wl < list_size - nl) {
            np += (size_t)wp;
            nl += (size_t)wl;
        } else {
            picks[np] = '\0';
            list[nl] = '\0';
        }
    }
}

/* --- Redis ---------------------------------------------------------------- */

/* "<bucket>|<variant>|s" into its parts (in place). */
static int split_field(char *field, const char **bucket, const char **variant, char *kind)
{
    char *last = strrchr(field, '|');
    if (!last || last[1] == '\0' || last[2] != '\0')
        return -1;
    *kind = last[1];
    *last = '\0';
    char *mid = strrchr(field, '|');
    if (!mid)
        return -1;
    *mid = '\0';
    *bucket = field;
    *variant = mid + 1;
    return 0;
}

attune_err learn_counts_load(redis_client *rc, const char *const *rules, size_t n, learn_counts *c,
                             char *errstr, size_t errstr_size)
{
    attune_err err = redis_client_ready(rc, errstr, errstr_size);
    for (size_t i = 0; i < n && !err; i++) {
        char key[LEARN_KEY_MAX];
        snprintf(key, sizeof key, LEARN_KEY_PREFIX "rule:%s", rules[i]);
        const char *argv[] = {"HGETALL", key};
        err = redis_append(rc, 2, argv, NULL);
    }
    learn_counts *fresh = err ? NULL : learn_counts_new();
    if (!err && !fresh)
        err = ATTUNE_ERR_NOMEM;
    for (size_t i = 0; i < n && !err; i++) {
        redisReply *r = NULL;
        err = redis_reply(rc, &r);
        if (!err && r->type != REDIS_REPLY_ARRAY)
            err = attune_errf(ATTUNE_ERR_REDIS, errstr, errstr_size, "HGETALL of rule %s: %s",
                              rules[i], r->type == REDIS_REPLY_ERROR ? r->str : "not an array");
        for (size_t k = 0; !err && k + 1 < r->elements; k += 2) {
            char field[LEARN_KEY_MAX];
            const char *bucket, *variant;
            char kind;
            snprintf(field, sizeof field, "%s", r->element[k]->str ? r->element[k]->str : "");
            long v = r->element[k + 1]->str ? strtol(r->element[k + 1]->str, NULL, 10) : 0;
            if (split_field(field, &bucket, &variant, &kind) != 0 || v < 0)
                continue; /* not ours: ignore rather than fail the load */
            if (learn_counts_add(fresh, rules[i], bucket, variant, kind == 's' ? v : 0,
                                 kind == 'f' ? v : 0) != 0)
                err = ATTUNE_ERR_NOMEM;
        }
        if (r)
            freeReplyObject(r);
    }
    if (err) {
        /* Replies may be left unread: the connection cannot be reused. */
        learn_counts_free(fresh);
        redis_client_drop(rc);
        return err;
    }
    /* Swap the contents so callers' pointers to c stay valid. */
    learn_counts tmp = *c;
    *c = *fresh;
    *fresh = tmp;
    learn_counts_free(fresh);
    return ATTUNE_OK;
}

attune_err learn_remember_decision(redis_client *rc, const char *decision_id, const char *bucket,
                                   const char *choices, const char *picks, long ttl_s, int *replies)
{
    char key[LEARN_KEY_MAX], ttl[32];
    snprintf(key, sizeof key, LEARN_KEY_PREFIX "decision:%s", decision_id);
    snprintf(ttl, sizeof ttl, "%ld", ttl_s);
    /* HSETNX: the first decision of an event owns its record. A later one
     * replays its picks, unless Redis could not be asked for them then: its
     * fresh picks must not replace what the first decision gave the
     * customer and its outcome will be learned for. */
    const char *fields[][2] = {{"bucket", bucket}, {"choices", choices}, {"picks", picks}};
    attune_err err = ATTUNE_OK;
    for (size_t i = 0; i < 3 && !err; i++) {
        const char *hsetnx[] = {"HSETNX", key, fields[i][0], fields[i][1]};
        err = redis_append(rc, 4, hsetnx, NULL);
        if (!err)
            (*replies)++;
    }
    const char *expire[] = {"EXPIRE", key, ttl};
    if (!err)
        err = redis_append(rc, 3, expire, NULL);
    if (!err)
        (*replies)++;
    return err;
}

attune_err learn_recall_decision(redis_client *rc, const char *decision_id)
{
    char key[LEARN_KEY_MAX];
    snprintf(key, sizeof key, LEARN_KEY_PREFIX "decision:%s", decision_id);
    const char *hget[] = {"HGET", key, "picks"};
    return redis_append(rc, 3, hget, NULL);
}

/* KEYS: seen, outcomes list, CSAT hash, the decision's counted key of
 * versions before rules had success definitions of their own (a decision
 * those counted is not counted again), then for each choice its rule hash
 * and its counted key. ARGV: ttl, record, keep, csat, bucket, customer key
 * ttl, then for each choice its variant and result (s, f or ""). Reply:
 * {status, choices counted, choices undetermined}, status 0 seen before, 1
 * applied, -1 a key of the wrong type. Redis does not undo a script that
 * fails half way, so every check comes before the first write, and the
 * outcome is marked seen last: an outcome is applied whole or not at all,
 * and at most once. */
static const char APPLY_SCRIPT[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return {0, 0, 0} end\n"
    "local nc = (#KEYS - 4) / 2\n"
    "local function want(key, kind)\n"
    "  local t = redis.call('TYPE', key).ok\n"
    "  return t == 'none' or t == kind\n"
    "end\n"
    "if not want(KEYS[2], 'list') or not want(KEYS[3], 'hash') then return {-1, 0, 0} end\n"
    "for c = 1, nc do\n"
    "  if not want(KEYS[3 + 2 * c], 'hash') then return {-1, 0, 0} end\n"
    "end\n"
    /* A script that fails half way keeps what it wrote: every field an
     * HINCRBY below adds to is checked before the first write, as Redis
     * reads an integer (no sign on 0, no leading 0, at most 18 digits). */
    "local function int(key, field)\n"
    "  local v = redis.call('HGET', key, field)\n"
    "  if not v or v == '0' then return true end\n"
    "  local digits = #v\n"
    "  if string.sub(v, 1, 1) == '-' then digits = digits - 1 end\n"
    "  return digits <= 18 and string.match(v, '^-?[1-9]%d*$') ~= nil\n"
    "end\n"
    /* Each choice is counted once, by the first outcome its rule's success
     * definition can judge. */
    "local field = {}\n"
    "local counted, undetermined = 0, 0\n"
    "local legacy = redis.call('EXISTS', KEYS[4]) == 1\n"
    "for c = 1, nc do\n"
    "  local result = ARGV[6 + 2 * c]\n"
    "  if not legacy and redis.call('EXISTS', KEYS[4 + 2 * c]) == 0 then\n"
    "    if result == '' then\n"
    "      undetermined = undetermined + 1\n"
    "    else\n"
    "      field[c] = ARGV[5] .. '|' .. ARGV[5 + 2 * c] .. '|' .. result\n"
    "      if not int(KEYS[3 + 2 * c], field[c]) then return {-1, 0, 0} end\n"
    "      counted = counted + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if ARGV[4] ~= '' and not (int(KEYS[3], 'count') and int(KEYS[3], 'sum')) then\n"
    "  return {-1, 0, 0}\n"
    "end\n"
    "redis.call('LPUSH', KEYS[2], ARGV[2])\n"
    "redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[6])\n"
    "if ARGV[4] ~= '' then\n"
    "  local c = tonumber(ARGV[4])\n"
    "  local old = tonumber(redis.call('HGET', KEYS[3], 'ewma') or '')\n"
    "  local e = c\n"
    "  if old then e = 0.7 * old + 0.3 * c end\n"
    "  redis.call('HINCRBY', KEYS[3], 'count', 1)\n"
    "  redis.call('HINCRBY', KEYS[3], 'sum', c)\n"
    "  redis.call('HSET', KEYS[3], 'ewma', string.format('%.4f', e))\n"
    "  redis.call('HSET', KEYS[3], 'last', ARGV[4])\n"
    "  redis.call('EXPIRE', KEYS[3], ARGV[6])\n"
    "end\n"
    "for c = 1, nc do\n"
    "  if field[c] then\n"
    "    redis.call('HINCRBY', KEYS[3 + 2 * c], field[c], 1)\n"
    "    redis.call('SET', KEYS[4 + 2 * c], '1', 'EX', ARGV[1])\n"
    "  end\n"
    "end\n"
    "redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])\n"
    "return {1, counted, undetermined}\n";

#define MAX_CHOICES 64 /* more than any decision makes in practice */

attune_err learn_apply_outcome(redis_client *rc, const char *outcome_source, const char *outcome_id,
                               const char *decision_id, const char *customer_id,
                               const char *record_json, long keep, int csat, learn_judge_fn judge,
                               void *judge_ud, const char *bucket, const char *choices, long ttl_s)
{
    char seen[LEARN_KEY_MAX], legacy[LEARN_KEY_MAX], list[CUSTOMER_KEY_MAX],
        summary[CUSTOMER_KEY_MAX];
    char ttl[32], keep_s[32], csat_s[8], cttl[32];
    /* CloudEvents: source and id together name an event. The source (up to
     * 1 KiB) goes in as a hash to keep the key short. */
    snprintf(seen, sizeof seen, LEARN_KEY_PREFIX "seen:%016llx:%s",
             (unsigned long long)hash_fnv1a(outcome_source), outcome_id);
    snprintf(legacy, sizeof legacy, LEARN_KEY_PREFIX "counted:%s", decision_id);
    if (customer_key_name(list, sizeof list, customer_id, CUSTOMER_OUTCOMES) != 0 ||
        customer_key_name(summary, sizeof summary, customer_id, CUSTOMER_CSAT) != 0)
        return ATTUNE_ERR_INVALID;
    snprintf(ttl, sizeof ttl, "%ld", ttl_s);
    snprintf(keep_s, sizeof keep_s, "%ld", keep);
    snprintf(cttl, sizeof cttl, "%ld", customer_key_ttl[CUSTOMER_OUTCOMES]);
    if (csat >= 1 && csat <= 5)
        snprintf(csat_s, sizeof csat_s, "%d", csat);
    else
        csat_s[0] = '\0';

    /* choices: "rule:variant,rule:variant" */
    char buf[8192];
    char rule_keys[MAX_CHOICES][LEARN_KEY_MAX];
    char counted_keys[MAX_CHOICES][LEARN_KEY_MAX];
    const char *variants[MAX_CHOICES], *results[MAX_CHOICES];
    size_t nc = 0;
    snprintf(buf, sizeof buf, "%s", choices ? choices : "");
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && nc < MAX_CHOICES;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(tok, ':');
        if (!colon || colon == tok || !colon[1])
            continue;
        *colon = '\0';
        snprintf(rule_keys[nc], sizeof rule_keys[nc], LEARN_KEY_PREFIX "rule:%s", tok);
        snprintf(counted_keys[nc], sizeof counted_keys[nc], LEARN_KEY_PREFIX "counted:%s:%s",
                 decision_id, tok);
        int success = judge ? judge(tok, judge_ud) : -1;
        results[nc] = success == 1 ? "s" : success == 0 ? "f" : "";
        variants[nc++] = colon + 1;
    }
    const char *argv[3 + 4 + 6 + 4 * MAX_CHOICES];
    int argc = 0;
    char nkeys[16];
    snprintf(nkeys, sizeof nkeys, "%zu", 4 + 2 * nc);
    argv[argc++] = "EVAL";
    argv[argc++] = APPLY_SCRIPT;
    argv[argc++] = nkeys;
    argv[argc++] = seen;
    argv[argc++] = list;
    argv[argc++] = summary;
    argv[argc++] = legacy;
    for (size_t i = 0; i < nc; i++) {
        argv[argc++] = rule_keys[i];
        argv[argc++] = counted_keys[i];
    }
    argv[argc++] = ttl;
    argv[argc++] = record_json;
    argv[argc++] = keep_s;
    argv[argc++] = csat_s;
    argv[argc++] = bucket ? bucket : "-";
    argv[argc++] = cttl;
    for (size_t i = 0; i < nc; i++) {
        argv[argc++] = variants[i];
        argv[argc++] = results[i];
    }
    return redis_append(rc, argc, argv, NULL);
}

int learn_apply_result(const redisReply *r, long long *counted, long long *undetermined)
{
    *counted = *undetermined = 0;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3)
        return -1;
    for (size_t i = 0; i < 3; i++)
        if (r->element[i]->type != REDIS_REPLY_INTEGER)
            return -1;
    if (r->element[0]->integer < 0)
        return -1;
    *counted = r->element[1]->integer;
    *undetermined = r->element[2]->integer;
    return (int)r->element[0]->integer;
}
