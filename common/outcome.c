#include "outcome.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "interaction.h"
#include "json.h"
#include "ts.h"

const char *const outcome_flags[] = {"resolved", "offer_accepted", "churned", "abuse_reported",
                                     NULL};

static const char *const id_fields[] = {"decision_id", "interaction_id", "customer_id", NULL};

static int in_set(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static attune_err bad(problem_field *pf, const char *prefix, const char *field, const char *msg)
{
    problem_field_set(pf, prefix, field, "%s", msg);
    return ATTUNE_ERR_INVALID;
}

attune_err outcome_validate(const cJSON *data, const char *prefix, problem_field *pf)
{
    if (!cJSON_IsObject(data))
        return bad(pf, prefix, "", "must be a JSON object");
    int facts = 0;
    for (const cJSON *f = data->child; f; f = f->next) {
        char path[200] = "";
        json_pointer_append(path, sizeof path, f->string, 64);
        if (in_set(f->string, id_fields)) {
            if (!cJSON_IsString(f) || !interaction_id_valid(f->valuestring))
                return bad(pf, prefix, path,
                           "must be a string of 1 to 128 printable ASCII characters without "
                           "spaces");
        } else if (in_set(f->string, outcome_flags)) {
            if (!cJSON_IsBool(f))
                return bad(pf, prefix, path, "must be true or false");
            facts++;
        } else if (strcmp(f->string, "csat") == 0) {
            double v = cJSON_IsNumber(f) ? f->valuedouble : 0;
            if (!cJSON_IsNumber(f) || v != floor(v) || v < 1 || v > 5)
                return bad(pf, prefix, path, "must be an integer from 1 to 5");
            facts++;
        } else if (strcmp(f->string, "handle_time_seconds") == 0) {
            if (!cJSON_IsNumber(f) || !isfinite(f->valuedouble) || f->valuedouble < 0 ||
                f->valuedouble > OUTCOME_MAX_HANDLE_TIME_S)
                return bad(pf, prefix, path, "must be a number of seconds from 0 to 2592000");
            facts++;
        } else if (strcmp(f->string, "occurred_at") == 0) {
            int64_t ms;
            if (!cJSON_IsString(f) || ts_parse_rfc3339(f->valuestring, &ms) != 0)
                return bad(pf, prefix, path, "must be an RFC 3339 date-time");
        } else {
            return bad(pf, prefix, path, "is not a field of an outcome");
        }
    }
    for (const char *const *id = id_fields; *id; id++)
        if (!cJSON_GetObjectItemCaseSensitive(data, *id)) {
            char path[80];
            snprintf(path, sizeof path, "/%s", *id);
            return bad(pf, prefix, path, "is required");
        }
    if (facts == 0)
        return bad(pf, prefix, "",
                   "needs at least one of resolved, csat, offer_accepted, handle_time_seconds, "
                   "churned, abuse_reported");
    return ATTUNE_OK;
}
