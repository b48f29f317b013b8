#include "customer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

static const char *const suffixes[CUSTOMER_KEY_COUNT] = {
    "profile", "prefs", "recent", "contacts", "sentiment", "outcomes", "csat"};

const long customer_key_ttl[CUSTOMER_KEY_COUNT] = {
    0,            /* profile: owned by the CRM load, erased on request */
    365L * 86400, /* preferences: a year after the last update */
    90L * 86400,  /* recent interactions */
    8L * 86400,   /* contacts: the 7-day window plus a day */
    90L * 86400,  /* sentiment trend */
    365L * 86400, /* outcomes */
    365L * 86400, /* CSAT summary */
};

int customer_key_name(char *out, size_t out_size, const char *customer_id, customer_key k)
{
    int n = snprintf(out, out_size, CUSTOMER_KEY_PREFIX "%s:%s", customer_id, suffixes[k]);
    return n < 0 || (size_t)n >= out_size ? -1 : 0;
}

attune_err customer_queue_memory(redis_client *rc, const char *customer_id, long recent_max)
{
    char prefs[CUSTOMER_KEY_MAX], recent[CUSTOMER_KEY_MAX], start[16], stop[32];
    if (customer_key_name(prefs, sizeof prefs, customer_id, CUSTOMER_PREFS) ||
        customer_key_name(recent, sizeof recent, customer_id, CUSTOMER_RECENT))
        return ATTUNE_ERR_INVALID;
    /* LRANGE 1 0 is empty: how recent_max 0 reads nothing. */
    snprintf(start, sizeof start, "%d", recent_max > 0 ? 0 : 1);
    snprintf(stop, sizeof stop, "%ld", recent_max > 0 ? recent_max - 1 : 0);
    const char *hgetall[] = {"HGETALL", prefs};
    const char *lrange[] = {"LRANGE", recent, start, stop};
    attune_err err = redis_append(rc, 2, hgetall, NULL);
    return err ? err : redis_append(rc, 4, lrange, NULL);
}

static int truthy(const char *s)
{
    return strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcasecmp(s, "yes") == 0;
}

/* Whether a Redis string can go into an event: text a JSON string holds
 * (valid UTF-8, no NUL) of at most max bytes. */
static int text_fits(const redisReply *e, size_t max)
{
    return e->str && e->len <= max && !memchr(e->str, '\0', e->len) &&
           json_utf8_valid(e->str, e->len) == 0;
}

/* Whether hash field i of r can go in, within the hash's budget *used. */
static int field_fits(const redisReply *r, size_t i, size_t *used)
{
    const redisReply *k = r->element[i], *v = r->element[i + 1];
    if (!text_fits(k, 256) || !text_fits(v, CUSTOMER_CONTEXT_VALUE_MAX) ||
        *used + k->len + v->len > CUSTOMER_CONTEXT_HASH_MAX)
        return 0;
    *used += k->len + v->len;
    return 1;
}

size_t customer_read_profile(cJSON *profile, const redisReply *r)
{
    size_t used = 0, left_out = 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str, *v = r->element[i + 1]->str;
        if (!k || !v)
            continue;
        if (!field_fits(r, i, &used)) {
            left_out++;
            continue;
        }
        cJSON *val;
        if (strcmp(k, "value") == 0) {
            char *end;
            double d = strtod(v, &end);
            val = (*v && !*end) ? cJSON_CreateNumber(d) : cJSON_CreateString(v);
        } else if (strcmp(k, "marketing_consent") == 0 || strcmp(k, "vulnerable") == 0) {
            val = cJSON_CreateBool(truthy(v));
        } else {
            val = cJSON_CreateString(v);
        }
        json_set(profile, k, val);
    }
    return left_out;
}

size_t customer_read_hash(cJSON *obj, const redisReply *r)
{
    size_t used = 0, left_out = 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        if (!r->element[i]->str || !r->element[i + 1]->str)
            continue;
        if (field_fits(r, i, &used))
            cJSON_AddStringToObject(obj, r->element[i]->str, r->element[i + 1]->str);
        else
            left_out++;
    }
    return left_out;
}

void customer_read_recent(cJSON *recent, const redisReply *r)
{
    size_t used = 0;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        cJSON *rec = NULL;
        char errstr[64];
        if (e->type != REDIS_REPLY_STRING)
            continue;
        if (used + e->len > CUSTOMER_CONTEXT_RECENT_MAX)
            break;
        if (json_parse(e->str, e->len, 8, &rec, errstr, sizeof errstr) == ATTUNE_OK) {
            cJSON_AddItemToArray(recent, rec);
            used += e->len;
        }
    }
}

attune_err customer_erase(redis_client *rc, const char *customer_id, long long *deleted,
                          char *errstr, size_t errstr_size)
{
    char keys[CUSTOMER_KEY_COUNT][CUSTOMER_KEY_MAX];
    const char *argv[CUSTOMER_KEY_COUNT + 1] = {"DEL"};
    *deleted = 0;
    for (int k = 0; k < CUSTOMER_KEY_COUNT; k++) {
        if (customer_key_name(keys[k], sizeof keys[k], customer_id, (customer_key)k) != 0)
            return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "customer id too long");
        argv[k + 1] = keys[k];
    }
    attune_err err = redis_client_ready(rc, errstr, errstr_size);
    if (err)
        return err;
    redisReply *r = NULL;
    err = redis_command(rc, &r, CUSTOMER_KEY_COUNT + 1, argv, NULL);
    if (err)
        return attune_errf(err, errstr, errstr_size, "redis DEL failed");
    if (r->type == REDIS_REPLY_INTEGER)
        *deleted = r->integer;
    else
        err = attune_errf(ATTUNE_ERR_REDIS, errstr, errstr_size, "redis DEL: %s",
                          r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    freeReplyObject(r);
    return err;
}

/* Hash fields are strings: numbers and booleans are written the way enrich
 * reads them back (value as a number, consents as true/false). */
static int scalar_text(const cJSON *v, char *out, size_t n, const char **text)
{
    if (cJSON_IsString(v)) {
        *text = v->valuestring;
    } else if (cJSON_IsBool(v)) {
        *text = cJSON_IsTrue(v) ? "true" : "false";
    } else if (cJSON_IsNumber(v)) {
        snprintf(out, n, "%.15g", v->valuedouble);
        *text = out;
    } else {
        return -1;
    }
    return 0;
}

static attune_err replace_hash(redis_client *rc, const char *key, const cJSON *obj, long ttl,
                               int *skipped, char *errstr, size_t errstr_size)
{
    int count = cJSON_GetArraySize(obj);
    const char **argv = calloc((size_t)count * 2 + 2, sizeof *argv);
    char(*nums)[32] = calloc((size_t)count + 1, sizeof *nums);
    if (!argv || !nums) {
        free(argv);
        free(nums);
        return ATTUNE_ERR_NOMEM;
    }
    int argc = 0, i = 0;
    argv[argc++] = "HSET";
    argv[argc++] = key;
    for (const cJSON *f = obj->child; f; f = f->next, i++) {
        const char *text;
        if (scalar_text(f, nums[i], sizeof nums[i], &text) != 0) {
            (*skipped)++;
            continue;
        }
        argv[argc++] = f->string;
        argv[argc++] = text;
    }
    const char *del[] = {"DEL", key};
    char ttl_text[32];
    snprintf(ttl_text, sizeof ttl_text, "%ld", ttl);
    const char *expire[] = {"EXPIRE", key, ttl_text};
    attune_err err = redis_append(rc, 2, del, NULL);
    int sent = 1;
    if (!err && argc > 2) {
        err = redis_append(rc, argc, argv, NULL);
        sent++;
    }
    if (!err && ttl > 0 && argc > 2) {
        err = redis_append(rc, 3, expire, NULL);
        sent++;
    }
    for (int s = 0; !err && s < sent; s++) {
        redisReply *r = NULL;
        err = redis_reply(rc, &r);
        if (!err && r->type == REDIS_REPLY_ERROR)
            err = attune_errf(ATTUNE_ERR_REDIS, errstr, errstr_size, "redis: %s", r->str);
        if (r)
            freeReplyObject(r);
    }
    free(argv);
    free(nums);
    return err;
}

attune_err customer_store(redis_client *rc, const char *customer_id, const cJSON *profile,
                          const cJSON *prefs, int *skipped, char *errstr, size_t errstr_size)
{
    char key[CUSTOMER_KEY_MAX];
    int ignored = 0;
    if (!skipped)
        skipped = &ignored;
    *skipped = 0;
    attune_err err = redis_client_ready(rc, errstr, errstr_size);
    if (!err && profile) {
        if (customer_key_name(key, sizeof key, customer_id, CUSTOMER_PROFILE) != 0)
            return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "customer id too long");
        err = replace_hash(rc, key, profile, customer_key_ttl[CUSTOMER_PROFILE], skipped, errstr,
                           errstr_size);
    }
    if (!err && prefs) {
        if (customer_key_name(key, sizeof key, customer_id, CUSTOMER_PREFS) != 0)
            return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "customer id too long");
        err = replace_hash(rc, key, prefs, customer_key_ttl[CUSTOMER_PREFS], skipped, errstr,
                           errstr_size);
    }
    return err;
}

/* LPUSH, LTRIM to keep, EXPIRE: a capped, expiring list. */
static attune_err push_capped(redis_client *rc, const char *key, const char *value, long keep,
                              long ttl, int *replies)
{
    char stop[32], ttl_text[32];
    snprintf(stop, sizeof stop, "%ld", keep > 0 ? keep - 1 : 0);
    snprintf(ttl_text, sizeof ttl_text, "%ld", ttl);
    const char *push[] = {"LPUSH", key, value};
    const char *trim[] = {"LTRIM", key, "0", stop};
    const char *expire[] = {"EXPIRE", key, ttl_text};
    attune_err err = redis_append(rc, 3, push, NULL);
    if (!err)
        err = redis_append(rc, 4, trim, NULL);
    if (!err)
        err = redis_append(rc, 3, expire, NULL);
    if (!err)
        *replies += 3;
    return err;
}

/* Puts a contact's record on the recent list (newest first, capped, with
 * its TTL), checked in Redis so that the list holds one record a contact
 * however events are batched or contacts interleave: the record of the
 * same interaction, wherever it is, is replaced when ARGV[3] is 1 (keeping
 * a vulnerability an earlier line named) or left when 0; without one the
 * record is pushed. Interaction ids have no quote or backslash, and cJSON
 * prints records without spaces, so a plain find names the record. ARGV:
 * record, interaction id, replace, last index kept, TTL. */
static const char RECENT_SCRIPT[] =
    "local items = redis.call('LRANGE', KEYS[1], 0, -1)\n"
    "local mark = '\"interaction_id\":\"' .. ARGV[2] .. '\"'\n"
    "local vul = '\"vulnerable\":true'\n"
    "for i, item in ipairs(items) do\n"
    "  if string.find(item, mark, 1, true) then\n"
    "    if ARGV[3] == '1' then\n"
    "      local rec = ARGV[1]\n"
    "      if string.find(item, vul, 1, true) and not string.find(rec, vul, 1, true) then\n"
    "        rec = string.sub(rec, 1, -2) .. ',' .. vul .. '}'\n"
    "      end\n"
    "      redis.call('LSET', KEYS[1], i - 1, rec)\n"
    "    end\n"
    "    redis.call('EXPIRE', KEYS[1], ARGV[5])\n"
    "    return 0\n"
    "  end\n"
    "end\n"
    "redis.call('LPUSH', KEYS[1], ARGV[1])\n"
    "redis.call('LTRIM', KEYS[1], 0, ARGV[4])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[5])\n"
    "return 1\n";

attune_err customer_remember(redis_client *rc, const char *customer_id, const char *interaction_id,
                             const char *record_json, customer_record_mode mode, double sentiment,
                             const cJSON *learned_prefs, long keep, int *replies)
{
    char recent[CUSTOMER_KEY_MAX], trend[CUSTOMER_KEY_MAX], prefs[CUSTOMER_KEY_MAX];
    if (customer_key_name(recent, sizeof recent, customer_id, CUSTOMER_RECENT) ||
        customer_key_name(trend, sizeof trend, customer_id, CUSTOMER_SENTIMENT) ||
        customer_key_name(prefs, sizeof prefs, customer_id, CUSTOMER_PREFS) || !interaction_id)
        return ATTUNE_ERR_INVALID;
    if (keep < 1)
        keep = 1;
    char score[32], stop[32], ttl[32];
    snprintf(score, sizeof score, "%.4f", sentiment);
    snprintf(stop, sizeof stop, "%ld", keep - 1);
    snprintf(ttl, sizeof ttl, "%ld", customer_key_ttl[CUSTOMER_RECENT]);
    const char *put[] = {"EVAL",
                         RECENT_SCRIPT,
                         "1",
                         recent,
                         record_json,
                         interaction_id,
                         mode == CUSTOMER_RECORD_REPLACE ? "1" : "0",
                         stop,
                         ttl};
    attune_err err = redis_append(rc, sizeof put / sizeof put[0], put, NULL);
    if (!err)
        (*replies)++;
    if (!err)
        err = push_capped(rc, trend, score, keep, customer_key_ttl[CUSTOMER_SENTIMENT], replies);
    int n = 0;
    for (const cJSON *f = learned_prefs ? learned_prefs->child : NULL; !err && f; f = f->next) {
        char num[32];
        const char *text;
        if (scalar_text(f, num, sizeof num, &text) != 0)
            continue;
        const char *hset[] = {"HSET", prefs, f->string, text};
        const char *hdel[] = {"HDEL", prefs, f->string};
        err = *text ? redis_append(rc, 4, hset, NULL) : redis_append(rc, 3, hdel, NULL);
        if (!err) {
            (*replies)++;
            n++;
        }
    }
    if (!err && n) {
        char ttl_text[32];
        snprintf(ttl_text, sizeof ttl_text, "%ld", customer_key_ttl[CUSTOMER_PREFS]);
        const char *expire[] = {"EXPIRE", prefs, ttl_text};
        err = redis_append(rc, 3, expire, NULL);
        if (!err)
            (*replies)++;
    }
    return err;
}
