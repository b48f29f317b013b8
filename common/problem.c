#include "problem.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

void problem_field_set(problem_field *pf, const char *prefix, const char *path, const char *fmt,
                       ...)
{
    if (!pf)
        return;
    snprintf(pf->pointer, sizeof pf->pointer, "%s%s", prefix ? prefix : "", path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pf->detail, sizeof pf->detail, fmt, ap);
    va_end(ap);
}

/* "/3/data/customer_id" -> "[3].data.customer_id" reads better in a message. */
static void pointer_to_field(const char *ptr, char *out, size_t n)
{
    size_t o = 0;
    const char *p = ptr;
    while (*p && o + 1 < n) {
        if (*p == '/') {
            p++;
            const char *seg = p;
            while (*p && *p != '/')
                p++;
            int numeric = p > seg;
            for (const char *q = seg; q < p; q++)
                numeric = numeric && *q >= '0' && *q <= '9';
            int w = snprintf(out + o, n - o, numeric ? "[%.*s]" : (o ? ".%.*s" : "%.*s"),
                             (int)(p - seg), seg);
            if (w < 0)
                break;
            o += (size_t)w;
            if (o >= n)
                o = n - 1;
        } else {
            p++;
        }
    }
    out[o] = '\0';
}

char *problem_json(int status, const char *slug, const char *title, const char *detail,
                   const problem_field *field)
{
    char type[96], name[200], full_detail[600];
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
    char *out = json_print(doc);
    cJSON_Delete(doc);
    return out;
}
