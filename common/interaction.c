#include "interaction.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "ts.h"

const char *const interaction_channels[] = {"voice",  "chat", "email", "sms",
                                            "social", "web",  "ivr",   NULL};
const char *const interaction_kinds[] = {"started",    "message", "ivr_step",
                                         "transcript", "ended",   NULL};

static const char *const known_fields[] = {
    "interaction_id", "customer_id", "channel",  "kind",       "occurred_at", "text",
    "wait_seconds",   "queue",       "language", "attributes", NULL};

static int in_set(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

/* Ids end up in Redis keys and Kafka keys: printable ASCII without spaces or
 * quotes keeps them unambiguous in logs and key layouts. */
int interaction_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > INTERACTION_MAX_ID)
        return 0;
    for (const char *p = s; *p; p++)
        if (*p <= ' ' || *p > '~' || *p == '"' || *p == '\\')
            return 0;
    return 1;
}

static int id_ok(const cJSON *v)
{
    return cJSON_IsString(v) && interaction_id_valid(v->valuestring);
}

static attune_err bad(problem_field *pf, const char *prefix, const char *field, const char *msg)
{
    problem_field_set(pf, prefix, field, "%s", msg);
    return ATTUNE_ERR_INVALID;
}

static attune_err check_attributes(const cJSON *attrs, const char *prefix, problem_field *pf)
{
    if (!cJSON_IsObject(attrs))
        return bad(pf, prefix, "/attributes", "must be an object");
    int n = 0;
    for (const cJSON *a = attrs->child; a; a = a->next) {
        char path[200] = "/attributes";
        json_pointer_append(path, sizeof path, a->string, 64);
        if (++n > INTERACTION_MAX_ATTRIBUTES) {
            problem_field_set(pf, prefix, "/attributes", "has more than %d entries",
                              INTERACTION_MAX_ATTRIBUTES);
            return ATTUNE_ERR_LIMIT;
        }
        if (strlen(a->string) > 64)
            return bad(pf, prefix, path, "attribute names are at most 64 bytes");
        attune_err err = problem_check_flat(a, INTERACTION_MAX_ATTRIBUTE_BYTES, pf, prefix, path);
        if (err)
            return err;
    }
    return ATTUNE_OK;
}

/* Letters (and digits with digits set) at the start of s. */
static size_t alnum_run(const char *s, int digits)
{
    size_t n = 0;
    while (((s[n] | 0x20) >= 'a' && (s[n] | 0x20) <= 'z') || (digits && s[n] >= '0' && s[n] <= '9'))
        n++;
    return n;
}

/* The form of a BCP 47 tag (RFC 5646), not its registry: a language of 2
 * to 8 letters ("x" or "i" for the private and old forms), then subtags of
 * 1 to 8 letters and digits joined by "-" ("en", "pt-BR", "zh-Hant-TW",
 * "x-klingon"); not "en_US", "English" with a space, or "". */
static int language_tag_valid(const char *s)
{
    size_t n = alnum_run(s, 0);
    if (!(n >= 2 && n <= 8) && !(n == 1 && strchr("xXiI", s[0]) && s[1] == '-'))
        return 0;
    for (s += n; *s == '-'; s += n) {
        n = alnum_run(++s, 1);
        if (n < 1 || n > 8)
            return 0;
    }
    return *s == '\0';
}

attune_err interaction_validate(const cJSON *data, long max_text_bytes, const char *prefix,
                                problem_field *pf)
{
    static const char *const none[] = {NULL};
    return interaction_validate_within(data, max_text_bytes, prefix, none, pf);
}

attune_err interaction_validate_within(const cJSON *data, long max_text_bytes, const char *prefix,
                                       const char *const *extra, problem_field *pf)
{
    if (!cJSON_IsObject(data))
        return bad(pf, prefix, "", "must be a JSON object");
    for (const cJSON *f = data->child; f; f = f->next) {
        if (!in_set(f->string, known_fields) && !in_set(f->string, extra)) {
            char path[200] = "";
            json_pointer_append(path, sizeof path, f->string, 64);
            return bad(pf, prefix, path, "is not a field of an interaction (use attributes)");
        }
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, "interaction_id");
    if (!v)
        return bad(pf, prefix, "/interaction_id", "is required");
    if (!id_ok(v))
        return bad(pf, prefix, "/interaction_id",
                   "must be a string of 1 to 128 printable ASCII characters without spaces");
    v = cJSON_GetObjectItemCaseSensitive(data, "customer_id");
    if (!v)
        return bad(pf, prefix, "/customer_id", "is required");
    if (!id_ok(v))
        return bad(pf, prefix, "/customer_id",
                   "must be a string of 1 to 128 printable ASCII characters without spaces");
    v = cJSON_GetObjectItemCaseSensitive(data, "channel");
    if (!v)
        return bad(pf, prefix, "/channel", "is required");
    if (!cJSON_IsString(v) || !in_set(v->valuestring, interaction_channels))
        return bad(pf, prefix, "/channel",
                   "must be one of voice, chat, email, sms, social, web, ivr");
    v = cJSON_GetObjectItemCaseSensitive(data, "kind");
    if (!v)
        return bad(pf, prefix, "/kind", "is required");
    if (!cJSON_IsString(v) || !in_set(v->valuestring, interaction_kinds))
        return bad(pf, prefix, "/kind",
                   "must be one of started, message, ivr_step, transcript, ended");
    v = cJSON_GetObjectItemCaseSensitive(data, "occurred_at");
    int64_t ms;
    if (!v)
        return bad(pf, prefix, "/occurred_at", "is required");
    if (!cJSON_IsString(v) || ts_parse_rfc3339(v->valuestring, &ms) != 0)
        return bad(pf, prefix, "/occurred_at",
                   "must be an RFC 3339 timestamp such as 2026-11-22T10:00:00Z");
    v = cJSON_GetObjectItemCaseSensitive(data, "text");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsString(v))
            return bad(pf, prefix, "/text", "must be a string");
        if ((long)strlen(v->valuestring) > max_text_bytes) {
            problem_field_set(pf, prefix, "/text", "is longer than %ld bytes", max_text_bytes);
            return ATTUNE_ERR_LIMIT;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(data, "wait_seconds");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
            v->valuedouble > INTERACTION_MAX_WAIT_SECONDS)
            return bad(pf, prefix, "/wait_seconds", "must be a number from 0 to 604800");
    }
    v = cJSON_GetObjectItemCaseSensitive(data, "queue");
    if (v && !cJSON_IsNull(v) &&
        (!cJSON_IsString(v) || strlen(v->valuestring) > INTERACTION_MAX_QUEUE))
        return bad(pf, prefix, "/queue", "must be a string of at most 128 bytes");
    v = cJSON_GetObjectItemCaseSensitive(data, "language");
    if (v && !cJSON_IsNull(v) &&
        (!cJSON_IsString(v) || strlen(v->valuestring) > INTERACTION_MAX_LANGUAGE ||
         !language_tag_valid(v->valuestring)))
        return bad(pf, prefix, "/language",
                   "must be a BCP 47 language tag such as \"en\" or \"pt-BR\" (subtags "
                   "joined by \"-\", not \"_\")");
    v = cJSON_GetObjectItemCaseSensitive(data, "attributes");
    if (v && !cJSON_IsNull(v))
        return check_attributes(v, prefix, pf);
    return ATTUNE_OK;
}

int64_t interaction_occurred_ms(const cJSON *data)
{
    const char *s = json_str(data, "occurred_at");
    int64_t ms = 0;
    if (!s || ts_parse_rfc3339(s, &ms) != 0)
        return 0;
    return ms;
}
