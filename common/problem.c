#include "problem.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

/* Copies the NUL-terminated src into dst (size bytes); what does not fit is
 * left off on a character boundary, so the document stays valid UTF-8. src
 * may be longer than size - 1 only by the few bytes callers format past it. */
static void copy_cut(char *dst, size_t size, const char *src)
{
    size_t n = json_utf8_cut(src, strlen(src), size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void problem_field_set(problem_field *pf, const char *prefix, const char *path, const char *fmt,
                       ...)
{
    if (!pf)
        return;
    /* formatted a few bytes past the field, to tell where a character ends */
    char pointer[sizeof pf->pointer + 4], detail[sizeof pf->detail + 4];
    snprintf(pointer, sizeof pointer, "%s%s", prefix ? prefix : "", path);
    copy_cut(pf->pointer, sizeof pf->pointer, pointer);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    copy_cut(pf->detail, sizeof pf->detail, detail);
}

/* "/3/data/customer_id" -> "[3].data.customer_id" reads better in a message;
 * in a token, "~1" and "~0" (RFC 6901) are "/" and "~" again. A token that
 * does not fit in out is left off whole. */
static void pointer_to_field(const char *ptr, char *out, size_t n)
{
    size_t o = 0;
    const char *p = ptr;
    while (*p) {
        if (*p != '/') {
            p++;
            continue;
        }
        const char *seg = ++p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - seg);
        int numeric = len > 0;
        for (const char *q = seg; q < p; q++)
            numeric = numeric && *q >= '0' && *q <= '9';
        /* a bracket or dot before, a bracket after and the NUL; unescaping
         * never makes a token longer */
        if (n - o < len + 3)
            break;
        if (numeric)
            out[o++] = '[';
        else if (o)
            out[o++] = '.';
        for (const char *q = seg; q < p; q++) {
            if (*q == '~' && q + 1 < p && (q[1] == '0' || q[1] == '1')) {
                out[o++] = q[1] == '0' ? '~' : '/';
                q++;
            } else {
                out[o++] = *q;
            }
        }
        if (numeric)
            out[o++] = ']';
    }
    out[o] = '\0';
}

cJSON *problem_new(int status, const char *slug, const char *title, const char *detail,
                   const problem_field *field)
{
    /* the dotted form of a pointer grows by at most a byte a token, so
     * neither name nor full_detail ever cuts */
    char type[96], name[2 * sizeof(problem_field){0}.pointer];
    char full_detail[sizeof name + sizeof(problem_field){0}.detail + 2];
    snprintf(type, sizeof type, "urn:attune:problem:%s", slug);
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return NULL;
    cJSON_AddStringToObject(doc, "type", type);
    cJSON_AddStringToObject(doc, "title", title);
    cJSON_AddNumberToObject(doc, "status", status);
    if (field) {
        pointer_to_field(field->pointer, name, sizeof name);
        snprintf(full_detail, sizeof full_detail, "%s: %s", name[0] ? name : "body", field->detail);
        cJSON_AddStringToObject(doc, "detail", full_detail);
        cJSON *errors = cJSON_AddArrayToObject(doc, "errors");
        cJSON *e = cJSON_CreateObject();
        if (errors && e) {
            cJSON_AddStringToObject(e, "pointer", field->pointer);
            cJSON_AddStringToObject(e, "field", name);
            cJSON_AddStringToObject(e, "detail", field->detail);
            cJSON_AddItemToArray(errors, e);
        } else {
            cJSON_Delete(e);
        }
    } else if (detail) {
        cJSON_AddStringToObject(doc, "detail", detail);
    }
    return doc;
}

char *problem_json(int status, const char *slug, const char *title, const char *detail,
                   const problem_field *field)
{
    cJSON *doc = problem_new(status, slug, title, detail, field);
    char *out = doc ? json_print(doc) : NULL;
    cJSON_Delete(doc);
    return out;
}

attune_err problem_check_flat(const cJSON *v, size_t max_bytes, problem_field *pf,
                              const char *prefix, const char *path)
{
    if (cJSON_IsString(v)) {
        if (strlen(v->valuestring) > max_bytes) {
            problem_field_set(pf, prefix, path, "is longer than %zu bytes", max_bytes);
            return ATTUNE_ERR_LIMIT;
        }
    } else if (!cJSON_IsNumber(v) && !cJSON_IsBool(v) && !cJSON_IsNull(v)) {
        /* CloudEvents attributes are never nested, nor are an
         * interaction's. */
        problem_field_set(pf, prefix, path, "must be a string, number, boolean or null");
        return ATTUNE_ERR_INVALID;
    }
    return ATTUNE_OK;
}
