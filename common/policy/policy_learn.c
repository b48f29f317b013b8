/* The policy's learning section at decision and outcome time: buckets,
 * the success definition, the control share. */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "policy/policy_int.h"

#define BUCKET_PART_MAX 60 /* bytes of one value in a bucket name */

/* Appends at most max bytes of s to out at *o, cut at a UTF-8 character
 * boundary (the bucket goes into JSON), with '|' (the separator of Redis
 * hash fields) and control bytes replaced by '_'. */
static void append_part(char *out, size_t size, size_t *o, const char *s, size_t max)
{
    const size_t room = size - 1 - *o;
    const size_t n = json_utf8_cut(s, strlen(s), max < room ? max : room);
    for (size_t i = 0; i < n; i++)
        out[(*o)++] = s[i] == '|' || (unsigned char)s[i] < ' ' ? '_' : s[i];
    out[*o] = '\0';
}

void policy_bucket(const policy *p, const cJSON *data, char *out, size_t size)
{
    size_t o = 0;
    if (size == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < p->nbucket_paths && o + 1 < size; i++) {
        const cJSON *v = policy_path_get(data, p->bucket_paths[i], 0);
        const char *s = cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : "-";
        if (i)
            append_part(out, size, &o, "/", 1);
        append_part(out, size, &o, s, BUCKET_PART_MAX);
    }
}

static int judge(const policy_cond *success, const cJSON *outcome)
{
    const char *sig[32];
    size_t n = 0;
    policy_cond_signals(success, sig, 32, &n);
    cJSON *view = cJSON_CreateObject();
    /* A reference, so the outcome is read in place, never copied. */
    if (!view || !cJSON_AddItemReferenceToObject(view, "outcome", (cJSON *)outcome)) {
        cJSON_Delete(view);
        return -1;
    }
    /* A definition that holds is a success; one that fails is a failure
     * only if every field it reads was reported. */
    int result = policy_cond_eval(success, view, 0);
    for (size_t i = 0; i < n && !result; i++)
        if (!policy_path_get(view, sig[i], 0))
            result = -1;
    cJSON_Delete(view);
    return result;
}

int policy_outcome_success(const policy *p, const cJSON *outcome)
{
    return judge(p->success, outcome);
}

int policy_rule_success(const policy *p, const char *rule_id, const cJSON *outcome)
{
    for (size_t i = 0; rule_id && i < p->nrules; i++) {
        const policy_rule *r = &p->rules[i];
        if (strcmp(r->id, rule_id) == 0 && r->nvariants > 0)
            return judge(r->success ? r->success : p->success, outcome);
    }
    /* a rule the policy no longer has, or has without variants: what its
     * success was is not known, so nothing is counted for it */
    return -1;
}

double policy_control_share(const policy *p)
{
    return p->control_share;
}

int policy_has_variant(const policy *p, const char *rule_id, const char *variant)
{
    for (size_t i = 0; i < p->nrules; i++) {
        if (rule_id && strcmp(p->rules[i].id, rule_id) != 0)
            continue;
        for (size_t j = 0; j < p->rules[i].nvariants; j++)
            if (strcmp(p->rules[i].variants[j].name, variant) == 0)
                return 1;
    }
    return 0;
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
