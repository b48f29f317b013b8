/* libFuzzer harness for everything ingest and the consuming services parse
 * from outside: JSON with limits, the CloudEvents envelope, the interaction
 * schema, the outcome schema, RFC 3339 timestamps, traceparent and Redis
 * URLs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "ids.h"
#include "interaction.h"
#include "json.h"
#include "outcome.h"
#include "problem.h"
#include "redis.h"
#include "ts.h"

static void check_one(const cJSON *ce, const char *prefix)
{
    problem_field pf;
    if (event_validate(ce, EVENT_TYPE_INTERACTION, prefix, &pf) == ATTUNE_OK) {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(ce, "data");
        if (interaction_validate(data, 64, "/data", &pf) == ATTUNE_OK) {
            (void)interaction_occurred_ms(data);
            cJSON *out = event_derive(ce, EVENT_TYPE_ENRICHED, cJSON_Duplicate(data, 1));
            char *text = json_print(out);
            free(text);
            cJSON_Delete(out);
        }
    }
    char *doc = problem_json(400, "invalid-event", "t", NULL, &pf);
    free(doc);
    /* The bare-interaction form too, and both as outcomes. */
    (void)interaction_validate(ce, 64, "", &pf);
    (void)outcome_validate(ce, "", &pf);
    (void)outcome_validate(cJSON_GetObjectItemCaseSensitive(ce, "data"), "/data", &pf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errstr[256];
    cJSON *root = NULL;
    if (json_parse((const char *)data, size, 16, &root, errstr, sizeof errstr) == ATTUNE_OK) {
        if (cJSON_IsArray(root)) {
            for (const cJSON *ce = root->child; ce; ce = ce->next)
                check_one(ce, "/0");
        } else {
            check_one(root, "");
        }
        cJSON_Delete(root);
    }
    /* The same bytes as a timestamp, a traceparent and a Redis URL. */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t ms;
    (void)ts_parse_rfc3339(s, &ms);
    if (ids_traceparent_valid(s)) {
        char child[IDS_TRACEPARENT_LEN];
        ids_traceparent_child(s, child);
    }
    redis_url u;
    (void)redis_url_parse(s, &u, errstr, sizeof errstr);
    free(s);
    return 0;
}
