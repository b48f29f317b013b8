/* libFuzzer harness for the policy loader and, when the bytes load, one
 * decision over a fixed classified event and the judgement of fixed
 * outcomes by the policy's learning section. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "policy/policy.h"

static const char DATA[] =
    "{\"interaction_id\":\"i\",\"customer_id\":\"c\",\"channel\":\"chat\",\"kind\":\"message\","
    "\"wait_seconds\":400,\"context\":{\"status\":\"ok\",\"profile\":{\"tier\":\"gold\","
    "\"value\":100,\"segment\":\"leisure\",\"payer\":\"self\",\"marketing_consent\":true,"
    "\"vulnerable\":false},\"preferences\":{},\"recent\":[],\"contacts_24h\":2,"
    "\"contacts_7d\":3},\"situation\":{\"sentiment\":{\"score\":-0.4,\"label\":\"negative\"},"
    "\"emotion\":{\"scores\":{\"anger\":0.6,\"fear\":0.1},\"label\":\"anger\"},\"intent\":{"
    "\"label\":\"cancel\",\"confidence\":0.7},\"urgency\":{\"score\":0.8,\"level\":\"high\","
    "\"effort\":0.6},\"threat\":{\"level\":\"abuse\"},\"preferences\":{},\"evidence\":[]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    policy *p = NULL;
    problem_field errs[8];
    size_t n = 0;
    if (policy_load((const char *)data, size, &p, errs, 8, &n) != ATTUNE_OK)
        return 0;
    cJSON *d = cJSON_Parse(DATA);
    cJSON *rt = NULL, *crm = NULL;
    char err[64];
    if (d && policy_decide(p, d, NULL, &rt, &crm, err, sizeof err) == ATTUNE_OK) {
        cJSON_Delete(rt);
        cJSON_Delete(crm);
    }
    cJSON_Delete(d);
    static const char *const outcomes[] = {"{\"resolved\":true}", "{\"csat\":2}",
                                           "{\"resolved\":false,\"churned\":true}"};
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++) {
        cJSON *o = cJSON_Parse(outcomes[i]);
        if (o)
            (void)policy_outcome_success(p, o);
        cJSON_Delete(o);
    }
    policy_free(p);
    return 0;
}
