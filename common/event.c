#include "event.h"

#include <stdio.h>
#include <string.h>

#include "ids.h"
#include "json.h"
#include "ts.h"

static int bounded_str(const cJSON *v, size_t max)
{
    return cJSON_IsString(v) && v->valuestring[0] != '\0' && strlen(v->valuestring) <= max;
}

/* Every attribute but data is bounded: an extension of a megabyte fits in
 * the HTTP body limit but not in a Kafka record, and was answered 503 as if
 * a retry could help. */
static attune_err check_attributes(const cJSON *ce, const char *ptr_prefix, problem_field *pf)
{
    int n = 0;
    for (const cJSON *a = ce->child; a; a = a->next) {
        if (strcmp(a->string, "data") == 0)
            continue;
        char path[200] = "";
        json_pointer_append(path, sizeof path, a->string, 64);
        if (++n > EVENT_MAX_ATTRIBUTES) {
            problem_field_set(pf, ptr_prefix, "",
                              "a CloudEvent has at most %d attributes besides data",
                              EVENT_MAX_ATTRIBUTES);
            return ATTUNE_ERR_LIMIT;
        }
        if (strlen(a->string) > EVENT_MAX_ATTRIBUTE_NAME) {
            problem_field_set(pf, ptr_prefix, path, "attribute names are at most %d bytes",
                              EVENT_MAX_ATTRIBUTE_NAME);
            return ATTUNE_ERR_INVALID;
        }
        /* CloudEvents 1.0: names are lower-case ASCII letters and digits
         * (data_base64 is refused before, with its own reason); a consumer's
         * SDK would refuse "tenant_id" or "Tenant" on the topic */
        if (strspn(a->string, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(a->string) ||
            !a->string[0]) {
            problem_field_set(pf, ptr_prefix, path,
                              "CloudEvents attribute names are lower-case letters a-z and "
                              "digits only (e.g. \"tenantid\")");
            return ATTUNE_ERR_INVALID;
        }
        attune_err err = problem_check_flat(a, EVENT_MAX_ATTRIBUTE_BYTES, pf, ptr_prefix, path);
        if (err)
            return err;
    }
    return ATTUNE_OK;
}

attune_err event_validate(const cJSON *ce, const char *want_type, const char *ptr_prefix,
                          problem_field *pf)
{
    if (!cJSON_IsObject(ce)) {
        problem_field_set(pf, ptr_prefix, "", "a CloudEvent must be a JSON object");
        return ATTUNE_ERR_INVALID;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ce, "specversion");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, "1.0") != 0) {
        problem_field_set(pf, ptr_prefix, "/specversion", "must be \"1.0\"");
        return ATTUNE_ERR_INVALID;
    }
    if (!bounded_str(cJSON_GetObjectItemCaseSensitive(ce, "id"), EVENT_MAX_ID)) {
        problem_field_set(pf, ptr_prefix, "/id", "is required: a string of 1 to %d bytes",
                          EVENT_MAX_ID);
        return ATTUNE_ERR_INVALID;
    }
    if (!bounded_str(cJSON_GetObjectItemCaseSensitive(ce, "source"), EVENT_MAX_SOURCE)) {
        problem_field_set(pf, ptr_prefix, "/source",
                          "is required: a URI-reference of 1 to %d bytes", EVENT_MAX_SOURCE);
        return ATTUNE_ERR_INVALID;
    }
    v = cJSON_GetObjectItemCaseSensitive(ce, "type");
    if (!bounded_str(v, EVENT_MAX_TYPE)) {
        problem_field_set(pf, ptr_prefix, "/type", "is required: a non-empty string");
        return ATTUNE_ERR_INVALID;
    }
    if (want_type && strcmp(v->valuestring, want_type) != 0) {
        problem_field_set(pf, ptr_prefix, "/type", "must be \"%s\"", want_type);
        return ATTUNE_ERR_INVALID;
    }
    v = cJSON_GetObjectItemCaseSensitive(ce, "time");
    int64_t ms;
    if (v && (!cJSON_IsString(v) || ts_parse_rfc3339(v->valuestring, &ms) != 0)) {
        problem_field_set(pf, ptr_prefix, "/time", "must be an RFC 3339 timestamp");
        return ATTUNE_ERR_INVALID;
    }
    v = cJSON_GetObjectItemCaseSensitive(ce, "datacontenttype");
    if (v && (!cJSON_IsString(v) || strncmp(v->valuestring, "application/json", 16) != 0)) {
        problem_field_set(pf, ptr_prefix, "/datacontenttype", "must be \"application/json\"");
        return ATTUNE_ERR_INVALID;
    }
    v = cJSON_GetObjectItemCaseSensitive(ce, "traceparent");
    if (v && (!cJSON_IsString(v) || !ids_traceparent_valid(v->valuestring))) {
        problem_field_set(pf, ptr_prefix, "/traceparent",
                          "must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)");
        return ATTUNE_ERR_INVALID;
    }
    if (cJSON_GetObjectItemCaseSensitive(ce, "data_base64")) {
        problem_field_set(pf, ptr_prefix, "/data_base64", "is not supported: send JSON in data");
        return ATTUNE_ERR_INVALID;
    }
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ce, "data"))) {
        problem_field_set(pf, ptr_prefix, "/data", "is required: a JSON object");
        return ATTUNE_ERR_INVALID;
    }
    return check_attributes(ce, ptr_prefix, pf);
}

cJSON *event_new(const char *id, const char *source, const char *type, long long time_ms,
                 const char *traceparent, cJSON *data)
{
    char when[40], tp[IDS_TRACEPARENT_LEN];
    cJSON *ce = cJSON_CreateObject();
    if (!ce) {
        cJSON_Delete(data);
        return NULL;
    }
    ts_format_rfc3339(time_ms ? time_ms : ts_now_ms(), when, sizeof when);
    if (traceparent && ids_traceparent_valid(traceparent))
        ids_traceparent_child(traceparent, tp);
    else
        ids_traceparent_new(tp);
    int ok =
        cJSON_AddStringToObject(ce, "specversion", "1.0") &&
        cJSON_AddStringToObject(ce, "id", id) && cJSON_AddStringToObject(ce, "source", source) &&
        cJSON_AddStringToObject(ce, "type", type) && cJSON_AddStringToObject(ce, "time", when) &&
        cJSON_AddStringToObject(ce, "datacontenttype", "application/json") &&
        cJSON_AddStringToObject(ce, "traceparent", tp);
    if (!ok || !data || !cJSON_AddItemToObject(ce, "data", data)) {
        cJSON_Delete(data); /* not attached to ce */
        cJSON_Delete(ce);
        return NULL;
    }
    return ce;
}

cJSON *event_derive(const cJSON *in, const char *type, cJSON *data)
{
    const char *tp = json_str(in, "traceparent");
    const char *when = json_str(in, "time");
    int64_t ms = 0;
    if (!when || ts_parse_rfc3339(when, &ms) != 0)
        ms = 0;
    cJSON *ce = event_new(json_str(in, "id"), json_str(in, "source"), type, ms, tp, data);
    const char *subject = json_str(in, "subject");
    if (ce && subject)
        cJSON_AddStringToObject(ce, "subject", subject);
    return ce;
}
