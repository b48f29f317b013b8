#include "policy/cond.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "policy/policy.h"

typedef enum { K_ALL, K_ANY, K_NOT, K_CMP } cond_kind;
typedef enum {
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_IN,
    OP_NOT_IN,
    OP_BETWEEN,
    OP_EXISTS
} cond_op;
typedef enum { V_NONE, V_NUM, V_STR, V_BOOL } value_type;

struct policy_cond {
    cond_kind kind;
    cond_op op;
    char *path;
    value_type vt;
    double num, num2;
    char *str;
    int boolean;
    char **strs; /* in / not_in over strings */
    double *nums;
    size_t nvals;
    policy_cond **kids;
    size_t nkids;
};

static const char *const OP_NAMES[] = {"eq", "ne", "lt",     "le",      "gt",
                                       "ge", "in", "not_in", "between", "exists"};

/* --- the paths a condition may read ------------------------------------ */

typedef enum { T_NUM, T_STR, T_BOOL, T_ANY } path_type;

typedef struct {
    const char *path; /* a trailing ".*" accepts any one further name */
    path_type type;
    const char *const *values; /* allowed string values, NULL-terminated; NULL: any */
} path_spec;

static const char *const SENT_LABELS[] = {"negative", "neutral", "positive", NULL};
static const char *const EMO_LABELS[] = {"anger", "fear",    "sadness", "confusion",
                                         "joy",   "neutral", NULL};
static const char *const URG_LEVELS[] = {"low", "normal", "high", "critical", NULL};
static const char *const THREATS[] = {"none", "profanity", "abuse", "threat", NULL};
static const char *const STATUSES[] = {"ok", "unknown_customer", "unavailable", NULL};
static const char *const CHANNELS[] = {"voice",  "chat", "email", "sms",
                                       "social", "web",  "ivr",   NULL};
static const char *const KINDS[] = {"started", "message", "ivr_step", "transcript", "ended", NULL};

static const path_spec PATHS[] = {
    {"situation.sentiment.score", T_NUM, NULL},
    {"situation.sentiment.label", T_STR, SENT_LABELS},
    {"situation.sentiment.confidence", T_NUM, NULL},
    {"situation.emotion.label", T_STR, EMO_LABELS},
    {"situation.emotion.confidence", T_NUM, NULL},
    {"situation.emotion.scores.anger", T_NUM, NULL},
    {"situation.emotion.scores.fear", T_NUM, NULL},
    {"situation.emotion.scores.sadness", T_NUM, NULL},
    {"situation.emotion.scores.confusion", T_NUM, NULL},
    {"situation.emotion.scores.joy", T_NUM, NULL},
    {"situation.emotion.scores.neutral", T_NUM, NULL},
    {"situation.intent.label", T_STR, NULL},
    {"situation.intent.confidence", T_NUM, NULL},
    {"situation.intent.second", T_STR, NULL},
    {"situation.intent.second_confidence", T_NUM, NULL},
    {"situation.urgency.score", T_NUM, NULL},
    {"situation.urgency.level", T_STR, URG_LEVELS},
    {"situation.urgency.effort", T_NUM, NULL},
    {"situation.urgency.confidence", T_NUM, NULL},
    {"situation.urgency.vulnerable", T_BOOL, NULL},
    {"situation.threat.level", T_STR, THREATS},
    {"situation.threat.confidence", T_NUM, NULL},
    {"situation.preferences.politeness", T_NUM, NULL},
    {"situation.preferences.channel", T_STR, NULL},
    {"situation.preferences.avoid_channel", T_STR, NULL},
    {"situation.preferences.contact_time", T_STR, NULL},
    {"situation.preferences.language", T_STR, NULL},
    {"situation.preferences.pace", T_STR, NULL},
    {"context.status", T_STR, STATUSES},
    {"context.contacts_24h", T_NUM, NULL},
    {"context.contacts_7d", T_NUM, NULL},
    {"context.csat.count", T_NUM, NULL},
    {"context.csat.mean", T_NUM, NULL},
    {"context.csat.ewma", T_NUM, NULL},
    {"context.csat.last", T_NUM, NULL},
    {"signals.repeat_same_intent", T_NUM, NULL},
    {"signals.recent_vulnerable", T_NUM, NULL},
    {"signals.contact_lines", T_NUM, NULL},
    {"signals.contact_last_sentiment", T_NUM, NULL},
    {"signals.contact_lowest_sentiment", T_NUM, NULL},
    {"signals.contact_highest_threat", T_STR, THREATS},
    {"context.profile.tier", T_STR, NULL},
    {"context.profile.value", T_NUM, NULL},
    {"context.profile.segment", T_STR, NULL},
    {"context.profile.payer", T_STR, NULL},
    {"context.profile.language", T_STR, NULL},
    {"context.profile.marketing_consent", T_BOOL, NULL},
    {"context.profile.vulnerable", T_BOOL, NULL},
    {"context.profile.*", T_ANY, NULL},
    {"context.preferences.*", T_STR, NULL},
    {"channel", T_STR, CHANNELS},
    {"kind", T_STR, KINDS},
    {"wait_seconds", T_NUM, NULL},
    {"queue", T_STR, NULL},
    {"language", T_STR, NULL},
    {"attributes.*", T_ANY, NULL},
    /* outcomes: only the learning section's success definition reads them */
    {"outcome.resolved", T_BOOL, NULL},
    {"outcome.csat", T_NUM, NULL},
    {"outcome.offer_accepted", T_BOOL, NULL},
    {"outcome.handle_time_seconds", T_NUM, NULL},
    {"outcome.churned", T_BOOL, NULL},
    {"outcome.abuse_reported", T_BOOL, NULL},
};

static const path_spec *path_find(const char *path)
{
    for (size_t i = 0; i < sizeof PATHS / sizeof PATHS[0]; i++) {
        const char *s = PATHS[i].path;
        size_t sl = strlen(s);
        if (sl > 2 && s[sl - 1] == '*') {
            size_t pre = sl - 1; /* "context.profile." */
            if (strncmp(path, s, pre) == 0 && path[pre] && !strchr(path + pre, '.'))
                return &PATHS[i];
        } else if (strcmp(path, s) == 0) {
            return &PATHS[i];
        }
    }
    return NULL;
}

int policy_path_is_label(const char *path)
{
    const path_spec *ps = path_find(path);
    return ps && (ps->type == T_STR || ps->type == T_ANY) && strncmp(path, "outcome.", 8) != 0;
}

int policy_path_is_affect(const char *path)
{
    return strncmp(path, "situation.emotion", 17) == 0 ||
           strncmp(path, "situation.sentiment", 19) == 0;
}

const cJSON *policy_path_get(const cJSON *data, const char *path, unsigned flags)
{
    if ((flags & POLICY_COND_HIDE_AFFECT) && policy_path_is_affect(path))
        return NULL;
    const cJSON *cur = data;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!cJSON_IsObject(cur))
            return NULL;
        const cJSON *next = NULL;
        for (const cJSON *c = cur->child; c; c = c->next)
            if (c->string && strlen(c->string) == n && memcmp(c->string, p, n) == 0) {
                next = c;
                break;
            }
        cur = next;
        p = dot ? dot + 1 : p + n;
    }
    return cJSON_IsNull(cur) ? NULL : cur;
}

/* --- errors --------------------------------------------------------------- */

void policy_ptrf(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

void policy_errs_add(policy_errs *e, const char *pointer, const char *fmt, ...)
{
    if (e->n < e->max && e->v) {
        problem_field *pf = &e->v[e->n];
        snprintf(pf->pointer, sizeof pf->pointer, "%s", pointer[0] ? pointer : "/");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pf->detail, sizeof pf->detail, fmt, ap);
        va_end(ap);
    }
    e->n++;
}

/* --- parsing --------------------------------------------------------------- */

void policy_cond_free(policy_cond *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nkids; i++)
        policy_cond_free(c->kids[i]);
    free(c->kids);
    if (c->strs)
        for (size_t i = 0; i < c->nvals; i++)
            free(c->strs[i]);
    free(c->strs);
    free(c->nums);
    free(c->str);
    free(c->path);
    free(c);
}

static int valid_path_syntax(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > POLICY_MAX_STRING || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
        if (!ok || (c == '.' && s[i + 1] == '.'))
            return 0;
    }
    return 1;
}

static int in_values(const char *const *values, const char *s)
{
    for (size_t i = 0; values[i]; i++)
        if (strcmp(values[i], s) == 0)
            return 1;
    return 0;
}

void policy_enum_list(const char *const *values, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; values[i] && o < size; i++) {
        int w = snprintf(out + o, size - o, "%s%s", i ? ", " : "", values[i]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

/* Checks one literal string against the path's allowed values. */
static void check_enum(const path_spec *ps, const char *s, const char *ptr, policy_errs *e)
{
    if (ps && ps->values && !in_values(ps->values, s)) {
        char hint[160];
        policy_enum_list(ps->values, hint, sizeof hint);
        policy_errs_add(e, ptr, "'%s' is not a value of %s (one of: %s)", s, ps->path, hint);
    }
}

static policy_cond *parse_node(const cJSON *j, const char *ptr, policy_errs *e, size_t *nodes,
                               int depth);

static policy_cond *parse_group(const cJSON *j, const cJSON *list, cond_kind kind, const char *ptr,
                                policy_errs *e, size_t *nodes, int depth)
{
    char p[256];
    const char *key = kind == K_ALL ? "all" : "any";
    policy_ptrf(p, sizeof p, "%s/%s", ptr, key);
    if (cJSON_GetArraySize(j) != 1) {
        policy_errs_add(e, ptr, "a condition with \"%s\" has no other member", key);
        return NULL;
    }
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 ||
        cJSON_GetArraySize(list) > POLICY_MAX_LIST) {
        policy_errs_add(e, p, "must be an array of 1 to %d conditions", POLICY_MAX_LIST);
        return NULL;
    }
    policy_cond *c = calloc(1, sizeof *c);
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (c)
        c->kids = calloc(n, sizeof *c->kids);
    if (!c || !c->kids) {
        free(c);
        policy_errs_add(e, ptr, "out of memory");
        return NULL;
    }
    c->kind = kind;
    int bad = 0;
    size_t i = 0;
    for (const cJSON *it = list->child; it; it = it->next, i++) {
        char kp[256];
        policy_ptrf(kp, sizeof kp, "%s/%zu", p, i);
        policy_cond *k = parse_node(it, kp, e, nodes, depth + 1);
        if (!k)
            bad = 1;
        else
            c->kids[c->nkids++] = k;
    }
    if (bad) {
        policy_cond_free(c);
        return NULL;
    }
    return c;
}

static int parse_op(const char *s, cond_op *op)
{
    for (size_t i = 0; i < sizeof OP_NAMES / sizeof OP_NAMES[0]; i++)
        if (strcmp(s, OP_NAMES[i]) == 0) {
            *op = (cond_op)i;
            return 0;
        }
    return -1;
}

static int parse_value(policy_cond *c, const path_spec *ps, const cJSON *v, const char *ptr,
                       policy_errs *e)
{
    char vp[256];
    policy_ptrf(vp, sizeof vp, "%s/value", ptr);
    path_type pt = ps ? ps->type : T_ANY;
    switch (c->op) {
    case OP_EXISTS:
        if (v) {
            policy_errs_add(e, vp, "exists takes no value");
            return -1;
        }
        return 0;
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            policy_errs_add(e, vp, "%s wants a number", OP_NAMES[c->op]);
            return -1;
        }
        if (pt != T_NUM && pt != T_ANY) {
            policy_errs_add(e, ptr, "%s is not a number: %s cannot apply", c->path,
                            OP_NAMES[c->op]);
            return -1;
        }
        c->vt = V_NUM;
        c->num = v->valuedouble;
        return 0;
    case OP_BETWEEN:
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(v->child) ||
            !cJSON_IsNumber(v->child->next) || !isfinite(v->child->valuedouble) ||
            !isfinite(v->child->next->valuedouble)) {
            policy_errs_add(e, vp, "between wants [low, high], two numbers");
            return -1;
        }
        if (v->child->valuedouble > v->child->next->valuedouble) {
            policy_errs_add(e, vp, "between: low %g is above high %g", v->child->valuedouble,
                            v->child->next->valuedouble);
            return -1;
        }
        if (pt != T_NUM && pt != T_ANY) {
            policy_errs_add(e, ptr, "%s is not a number: between cannot apply", c->path);
            return -1;
        }
        c->vt = V_NUM;
        c->num = v->child->valuedouble;
        c->num2 = v->child->next->valuedouble;
        return 0;
    case OP_IN:
    case OP_NOT_IN: {
        int n = cJSON_GetArraySize(v);
        if (!cJSON_IsArray(v) || n < 1 || n > POLICY_MAX_LIST) {
            policy_errs_add(e, vp, "%s wants an array of 1 to %d strings or numbers",
                            OP_NAMES[c->op], POLICY_MAX_LIST);
            return -1;
        }
        int strings = cJSON_IsString(v->child);
        c->vt = strings ? V_STR : V_NUM;
        if ((strings && pt == T_NUM) || (!strings && (pt == T_STR || pt == T_BOOL))) {
            policy_errs_add(e, vp, "%s holds %s, the list holds %s", c->path,
                            pt == T_NUM    ? "numbers"
                            : pt == T_BOOL ? "booleans"
                                           : "strings",
                            strings ? "strings" : "numbers");
            return -1;
        }
        c->strs = strings ? calloc((size_t)n, sizeof *c->strs) : NULL;
        c->nums = strings ? NULL : calloc((size_t)n, sizeof *c->nums);
        if (!c->strs && !c->nums) {
            policy_errs_add(e, vp, "out of memory");
            return -1;
        }
        int i = 0, bad = 0;
        for (const cJSON *it = v->child; it; it = it->next, i++) {
            char ip[280];
            policy_ptrf(ip, sizeof ip, "%s/%d", vp, i);
            if (strings && cJSON_IsString(it) && strlen(it->valuestring) <= POLICY_MAX_STRING) {
                check_enum(ps, it->valuestring, ip, e);
                c->strs[c->nvals] = strdup(it->valuestring);
                if (!c->strs[c->nvals]) {
                    policy_errs_add(e, ip, "out of memory");
                    return -1;
                }
                c->nvals++;
            } else if (!strings && cJSON_IsNumber(it) && isfinite(it->valuedouble)) {
                c->nums[c->nvals++] = it->valuedouble;
            } else {
                policy_errs_add(e, ip, "every item must be a %s (at most %d bytes)",
                                strings ? "string" : "number", POLICY_MAX_STRING);
                bad = 1;
            }
        }
        return bad ? -1 : 0;
    }
    case OP_EQ:
    case OP_NE:
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && (pt == T_NUM || pt == T_ANY)) {
            c->vt = V_NUM;
            c->num = v->valuedouble;
        } else if (cJSON_IsString(v) && strlen(v->valuestring) <= POLICY_MAX_STRING &&
                   (pt == T_STR || pt == T_ANY)) {
            check_enum(ps, v->valuestring, vp, e);
            c->vt = V_STR;
            c->str = strdup(v->valuestring);
            if (!c->str) {
                policy_errs_add(e, vp, "out of memory");
                return -1;
            }
        } else if (cJSON_IsBool(v) && (pt == T_BOOL || pt == T_ANY)) {
            c->vt = V_BOOL;
            c->boolean = cJSON_IsTrue(v);
        } else {
            policy_errs_add(e, vp, "%s wants a %s", c->path,
                            pt == T_NUM    ? "number"
                            : pt == T_STR  ? "string (at most 128 bytes)"
                            : pt == T_BOOL ? "boolean"
                                           : "string, number or boolean");
            return -1;
        }
        return 0;
    }
    return -1;
}

static policy_cond *parse_cmp(const cJSON *j, const char *ptr, policy_errs *e)
{
    int bad = 0;
    for (const cJSON *m = j->child; m; m = m->next)
        if (strcmp(m->string, "path") != 0 && strcmp(m->string, "op") != 0 &&
            strcmp(m->string, "value") != 0) {
            char mp[300];
            policy_ptrf(mp, sizeof mp, "%s/%s", ptr, m->string);
            policy_errs_add(e, mp,
                            "unknown member (a condition is all, any, not, or path/op/value)");
            bad = 1;
        }
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(j, "path");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(j, "op");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(j, "value");
    char pp[256], op_p[256];
    policy_ptrf(pp, sizeof pp, "%s/path", ptr);
    policy_ptrf(op_p, sizeof op_p, "%s/op", ptr);
    const path_spec *ps = NULL;
    if (!cJSON_IsString(path)) {
        policy_errs_add(e, path ? pp : ptr, "a comparison needs \"path\", a string");
        bad = 1;
    } else if (!valid_path_syntax(path->valuestring)) {
        /* (cut between characters: the message is JSON in the problem) */
        const char *v = path->valuestring;
        policy_errs_add(e, pp, "'%.*s' is not a dotted path of names",
                        (int)json_utf8_cut(v, strlen(v), 64), v);
        bad = 1;
    } else if (!(ps = path_find(path->valuestring))) {
        policy_errs_add(e, pp,
                        "unknown path '%s' (situation.*, context.*, channel, kind, "
                        "wait_seconds, queue, language, attributes.*: see docs/policy.md)",
                        path->valuestring);
        bad = 1;
    }
    cond_op o = OP_EQ;
    if (!cJSON_IsString(op)) {
        policy_errs_add(e, op ? op_p : ptr, "a comparison needs \"op\", a string");
        bad = 1;
    } else if (parse_op(op->valuestring, &o) != 0) {
        const char *v = op->valuestring;
        policy_errs_add(e, op_p,
                        "unknown operator '%.*s' (eq, ne, lt, le, gt, ge, in, not_in, between, "
                        "exists)",
                        (int)json_utf8_cut(v, strlen(v), 32), v);
        bad = 1;
    }
    if (bad)
        return NULL;
    if (o != OP_EXISTS && !value) {
        policy_errs_add(e, ptr, "%s needs a \"value\"", OP_NAMES[o]);
        return NULL;
    }
    policy_cond *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path->valuestring))) {
        free(c);
        policy_errs_add(e, ptr, "out of memory");
        return NULL;
    }
    c->kind = K_CMP;
    c->op = o;
    size_t before = e->n;
    if (parse_value(c, ps, value, ptr, e) != 0 || e->n != before) {
        policy_cond_free(c);
        return NULL;
    }
    return c;
}

static policy_cond *parse_node(const cJSON *j, const char *ptr, policy_errs *e, size_t *nodes,
                               int depth)
{
    if (depth > POLICY_MAX_COND_DEPTH) {
        policy_errs_add(e, ptr, "conditions nested deeper than %d levels", POLICY_MAX_COND_DEPTH);
        return NULL;
    }
    if (++*nodes > POLICY_MAX_COND_NODES) {
        if (*nodes == POLICY_MAX_COND_NODES + 1)
            policy_errs_add(e, ptr, "more than %d condition nodes in the policy",
                            POLICY_MAX_COND_NODES);
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        policy_errs_add(e, ptr, "a condition must be an object");
        return NULL;
    }
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "all")))
        return parse_group(j, v, K_ALL, ptr, e, nodes, depth);
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "any")))
        return parse_group(j, v, K_ANY, ptr, e, nodes, depth);
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "not"))) {
        if (cJSON_GetArraySize(j) != 1) {
            policy_errs_add(e, ptr, "a condition with \"not\" has no other member");
            return NULL;
        }
        char p[256];
        policy_ptrf(p, sizeof p, "%s/not", ptr);
        policy_cond *k = parse_node(v, p, e, nodes, depth + 1);
        if (!k)
            return NULL;
        policy_cond *c = calloc(1, sizeof *c);
        if (c)
            c->kids = calloc(1, sizeof *c->kids);
        if (!c || !c->kids) {
            free(c);
            policy_cond_free(k);
            policy_errs_add(e, ptr, "out of memory");
            return NULL;
        }
        c->kind = K_NOT;
        c->kids[0] = k;
        c->nkids = 1;
        return c;
    }
    return parse_cmp(j, ptr, e);
}

policy_cond *policy_cond_parse(const cJSON *json, const char *pointer, policy_errs *e,
                               size_t *nodes)
{
    return parse_node(json, pointer, e, nodes, 1);
}

/* --- evaluation ------------------------------------------------------------ */

/* The number a value stands for: numbers, and strings that are wholly a
 * number (profile hash fields arrive as strings). */
static int as_number(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return 1;
    }
    if (cJSON_IsString(v) && v->valuestring[0]) {
        char *end;
        double d = strtod(v->valuestring, &end);
        if (*end == '\0' && isfinite(d)) {
            *out = d;
            return 1;
        }
    }
    return 0;
}

static int eq_value(const policy_cond *c, const cJSON *v)
{
    double d;
    switch (c->vt) {
    case V_NUM:
        return as_number(v, &d) && d == c->num;
    case V_STR:
        return cJSON_IsString(v) && strcmp(v->valuestring, c->str) == 0;
    case V_BOOL:
        return cJSON_IsBool(v) && cJSON_IsTrue(v) == c->boolean;
    case V_NONE:
        break;
    }
    return 0;
}

static int in_list(const policy_cond *c, const cJSON *v)
{
    double d;
    for (size_t i = 0; i < c->nvals; i++) {
        if (c->vt == V_STR && cJSON_IsString(v) && strcmp(v->valuestring, c->strs[i]) == 0)
            return 1;
        if (c->vt == V_NUM && as_number(v, &d) && d == c->nums[i])
            return 1;
    }
    return 0;
}

static int eval_cmp(const policy_cond *c, const cJSON *data, unsigned flags)
{
    const cJSON *v = policy_path_get(data, c->path, flags);
    if (c->op == OP_EXISTS)
        return v != NULL;
    if (!v)
        return 0;
    double d;
    switch (c->op) {
    case OP_EQ:
        return eq_value(c, v);
    case OP_NE:
        return !eq_value(c, v);
    case OP_LT:
        return as_number(v, &d) && d < c->num;
    case OP_LE:
        return as_number(v, &d) && d <= c->num;
    case OP_GT:
        return as_number(v, &d) && d > c->num;
    case OP_GE:
        return as_number(v, &d) && d >= c->num;
    case OP_BETWEEN:
        return as_number(v, &d) && d >= c->num && d <= c->num2;
    case OP_IN:
        return in_list(c, v);
    case OP_NOT_IN:
        return !in_list(c, v);
    case OP_EXISTS:
        break;
    }
    return 0;
}

int policy_cond_eval(const policy_cond *c, const cJSON *data, unsigned flags)
{
    if (!c)
        return 1;
    switch (c->kind) {
    case K_ALL:
        for (size_t i = 0; i < c->nkids; i++)
            if (!policy_cond_eval(c->kids[i], data, flags))
                return 0;
        return 1;
    case K_ANY:
        for (size_t i = 0; i < c->nkids; i++)
            if (policy_cond_eval(c->kids[i], data, flags))
                return 1;
        return 0;
    case K_NOT:
        return !policy_cond_eval(c->kids[0], data, flags);
    case K_CMP:
        return eval_cmp(c, data, flags);
    }
    return 0;
}

int policy_cond_uses_affect(const policy_cond *c)
{
    if (!c)
        return 0;
    if (c->kind == K_CMP)
        return policy_path_is_affect(c->path);
    for (size_t i = 0; i < c->nkids; i++)
        if (policy_cond_uses_affect(c->kids[i]))
            return 1;
    return 0;
}

void policy_cond_signals(const policy_cond *c, const char **names, size_t max, size_t *n)
{
    if (!c)
        return;
    if (c->kind == K_CMP) {
        for (size_t i = 0; i < *n; i++)
            if (strcmp(names[i], c->path) == 0)
                return;
        if (*n < max)
            names[(*n)++] = c->path;
        return;
    }
    for (size_t i = 0; i < c->nkids; i++)
        policy_cond_signals(c->kids[i], names, max, n);
}
