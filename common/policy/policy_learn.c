/* The policy's learning section at decision and outcome time: buckets,
 * the success definition, the control share. */
#include <stdio.h>
#include <string.h>

#include "policy/policy_int.h"

void policy_bucket(const policy *p, const cJSON *data, char *out, size_t size)
{
    size_t o = 0;
    if (size == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < p->nbucket_paths && o + 1 < size; i++) {
        const cJSON *v = policy_path_get(data, p->bucket_paths[i], 0);
        const char *s = cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : "-";
        int w = snprintf(out + o, size - o, "%s%.60s", i ? "/" : "", s);
        o += w > 0 ? (size_t)w : 0;
    }
    /* Bucket names end up inside Redis hash fields separated by '|'. */
    for (char *c = out; *c; c++)
        if (*c == '|' || (unsigned char)*c < ' ')
            *c = '_';
}

int policy_outcome_success(const policy *p, const cJSON *outcome)
{
    const char *sig[32];
    size_t n = 0;
    policy_cond_signals(p->success, sig, 32, &n);
    cJSON *view = cJSON_CreateObject();
    /* A reference, so the outcome is read in place, never copied. */
    if (!view || !cJSON_AddItemReferenceToObject(view, "outcome", (cJSON *)outcome)) {
        cJSON_Delete(view);
        return -1;
    }
    /* A definition that holds is a success; one that fails is a failure
     * only if every field it reads was reported. */
    int result = policy_cond_eval(p->success, view, 0);
    for (size_t i = 0; i < n && !result; i++)
        if (!policy_path_get(view, sig[i], 0))
            result = -1;
    cJSON_Delete(view);
    return result;
}

double policy_control_share(const policy *p)
{
    return p->control_share;
}

size_t policy_variant_rules(const policy *p, const char **ids, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nrules; i++) {
        if (!p->rules[i].nvariants)
            continue;
        if (n < max)
            ids[n] = p->rules[i].id;
        n++;
    }
    return n;
}
