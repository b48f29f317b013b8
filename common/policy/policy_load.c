/* policy_load: parses and validates a policy file into struct policy. Every
 * error names the JSON pointer of what is wrong; the loader goes on after an
 * error so that one run reports them all. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "policy/policy_int.h"

const char *const POLICY_FIELD_NAMES[PF_COUNT + 1] = {"routing.queue",
                                                      "routing.priority",
                                                      "routing.priority_boost",
                                                      "routing.skills",
                                                      "routing.agent_tier",
                                                      "routing.channel",
                                                      "routing.max_wait_seconds",
                                                      "guidance.pace",
                                                      "guidance.apology",
                                                      "guidance.tone",
                                                      "guidance.offer_types",
                                                      "guidance.compensation",
                                                      "guidance.ownership",
                                                      "crm.follow_up",
                                                      NULL};
const char *const POLICY_CHANNELS[] = {"stay", "callback", "escalate_voice", "self_service", NULL};
const char *const POLICY_PACES[] = {"brisk", "standard", "unhurried", NULL};
const char *const POLICY_APOLOGIES[] = {"none", "brief", "full", NULL};
const char *const POLICY_OFFER_TYPES[] = {"cross_sell", "upsell", "retention", NULL};

static const char *const DEFAULT_TIERS[] = {"standard", "senior", "expert", NULL};

#define MAX_WAIT_LIMIT 86400
#define MAX_FOLLOW_UP_HOURS 720
#define MAX_REASON_TEXT 200
#define MAX_WEIGHTS 16
#define MAX_COMP_CAP 1e6

int policy_enum_index(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

typedef struct {
    policy_errs *e;
    size_t nodes;
    policy *p;
} loader;

/* base + "/" + key, with key escaped as RFC 6901 wants (~ -> ~0, / -> ~1). */
static void ptr_key(char *out, size_t size, const char *base, const char *key)
{
    size_t o = (size_t)snprintf(out, size, "%s/", base);
    for (const char *k = key; *k && o + 3 < size; k++) {
        if (*k == '~' || *k == '/') {
            out[o++] = '~';
            out[o++] = *k == '~' ? '0' : '1';
        } else {
            out[o++] = *k;
        }
    }
    if (o < size)
        out[o] = '\0';
}

static void ptr_idx(char *out, size_t size, const char *base, size_t i)
{
    policy_ptrf(out, size, "%s/%zu", base, i);
}

static int is_ident(const char *s, int upper)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int letter = upper ? (c >= 'A' && c <= 'Z') : (c >= 'a' && c <= 'z');
        if (!(letter || (i > 0 && ((c >= '0' && c <= '9') || c == '_'))))
            return 0;
    }
    return 1;
}

/* A string member of at most max bytes, or NULL after an error. */
static const char *want_str(loader *L, const cJSON *v, const char *ptr, size_t min, size_t max)
{
    if (!cJSON_IsString(v)) {
        policy_errs_add(L->e, ptr, "must be a string");
        return NULL;
    }
    size_t n = strlen(v->valuestring);
    if (n < min || n > max) {
        policy_errs_add(L->e, ptr, "must be %zu to %zu bytes long", min, max);
        return NULL;
    }
    return v->valuestring;
}

static int want_int(loader *L, const cJSON *v, const char *ptr, int min, int max, int *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < min ||
        v->valuedouble > max) {
        policy_errs_add(L->e, ptr, "must be an integer from %d to %d", min, max);
        return -1;
    }
    *out = (int)v->valuedouble;
    return 0;
}

static int want_num(loader *L, const cJSON *v, const char *ptr, double min, double max, double *out)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < min ||
        v->valuedouble > max) {
        policy_errs_add(L->e, ptr, "must be a number from %g to %g", min, max);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

static int want_enum(loader *L, const cJSON *v, const char *ptr, const char *const *names, int *out)
{
    int i = cJSON_IsString(v) ? policy_enum_index(names, v->valuestring) : -1;
    if (i < 0) {
        char list[200];
        policy_enum_list(names, list, sizeof list);
        policy_errs_add(L->e, ptr, "must be one of: %s", list);
        return -1;
    }
    *out = i;
    return 0;
}

/* Reports members of obj not in allowed (NULL-terminated). */
static void only_members(loader *L, const cJSON *obj, const char *ptr, const char *const *allowed)
{
    for (const cJSON *m = obj->child; m; m = m->next) {
        if (policy_enum_index(allowed, m->string) < 0) {
            char p[256], list[300];
            ptr_key(p, sizeof p, ptr, m->string);
            policy_enum_list(allowed, list, sizeof list);
            policy_errs_add(L->e, p, "unknown member (expected: %s)", list);
        }
    }
}

static int want_object(loader *L, const cJSON *v, const char *ptr)
{
    if (!cJSON_IsObject(v)) {
        policy_errs_add(L->e, ptr, "must be an object");
        return -1;
    }
    return 0;
}

static void nomem(loader *L, const char *ptr)
{
    policy_errs_add(L->e, ptr, "out of memory");
}

/* Conditions read either a classified event (rules, offers) or an outcome
 * (the success definition), never a mix: a rule reading outcome.* could
 * never match, a success definition reading situation.* could never hold. */
static void check_scope(loader *L, const policy_cond *c, const char *ptr, int outcome)
{
    const char *sig[64];
    size_t n = 0;
    policy_cond_signals(c, sig, 64, &n);
    for (size_t i = 0; i < n; i++) {
        int is_outcome = strncmp(sig[i], "outcome.", 8) == 0;
        if (is_outcome != outcome)
            policy_errs_add(L->e, ptr,
                            outcome ? "reads %s: a success definition reads outcome.* only"
                                    : "reads %s: outcome.* is only for a success definition",
                            sig[i]);
    }
}

/* A condition at ptr, parsed and checked for its scope. */
static policy_cond *parse_cond(loader *L, const cJSON *v, const char *ptr, int outcome)
{
    policy_cond *c = policy_cond_parse(v, ptr, L->e, &L->nodes);
    if (c)
        check_scope(L, c, ptr, outcome);
    return c;
}

static void action_fini(policy_action *a)
{
    free(a->queue);
    for (size_t i = 0; i < a->nskills; i++)
        free(a->skills[i]);
    free(a->skills);
    free(a->tone);
    free(a->comp_basis);
    free(a->follow_up_type);
    memset(a, 0, sizeof *a);
}

static void tier_list(const policy *p, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p->ntiers && o < size; i++) {
        int w = snprintf(out + o, size - o, "%s%s", i ? ", " : "", p->tiers[i]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

static void parse_skills(loader *L, const cJSON *v, const char *ptr, policy_action *a)
{
    int n = cJSON_GetArraySize(v);
    if (!cJSON_IsArray(v) || n > POLICY_MAX_SKILLS) {
        policy_errs_add(L->e, ptr, "must be an array of at most %d skill names", POLICY_MAX_SKILLS);
        return;
    }
    a->skills = calloc((size_t)n + 1, sizeof *a->skills);
    if (!a->skills) {
        nomem(L, ptr);
        return;
    }
    size_t i = 0;
    for (const cJSON *it = v->child; it; it = it->next, i++) {
        char p[256];
        ptr_idx(p, sizeof p, ptr, i);
        const char *s = want_str(L, it, p, 1, 64);
        if (!s)
            continue;
        if (!(a->skills[a->nskills] = strdup(s))) {
            nomem(L, p);
            return;
        }
        a->nskills++;
    }
}

static void parse_offer_types(loader *L, const cJSON *v, const char *ptr, policy_action *a)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 3) {
        policy_errs_add(L->e, ptr,
                        "must be an array of offer types (cross_sell, upsell, "
                        "retention); empty for no offer");
        return;
    }
    size_t i = 0;
    for (const cJSON *it = v->child; it; it = it->next, i++) {
        char p[256];
        int t;
        ptr_idx(p, sizeof p, ptr, i);
        if (want_enum(L, it, p, POLICY_OFFER_TYPES, &t) == 0)
            a->offer_types |= 1u << t;
    }
}

static void parse_compensation(loader *L, const cJSON *v, const char *ptr, policy_action *a)
{
    static const char *const members[] = {"eligible", "cap", "basis", NULL};
    if (want_object(L, v, ptr) != 0)
        return;
    only_members(L, v, ptr, members);
    char p[256];
    const cJSON *el = cJSON_GetObjectItemCaseSensitive(v, "eligible");
    ptr_key(p, sizeof p, ptr, "eligible");
    if (!cJSON_IsBool(el))
        policy_errs_add(L->e, el ? p : ptr, "needs \"eligible\", a boolean");
    else
        a->comp_eligible = cJSON_IsTrue(el);
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(v, "cap");
    ptr_key(p, sizeof p, ptr, "cap");
    if (cap) {
        if (want_num(L, cap, p, 0, MAX_COMP_CAP, &a->comp_cap) == 0 &&
            a->comp_cap > L->p->comp_max_cap)
            policy_errs_add(L->e, p,
                            "cap %g is above guards.compensation_max_cap (%g), which no rule "
                            "can pass",
                            a->comp_cap, L->p->comp_max_cap);
    } else if (a->comp_eligible) {
        policy_errs_add(L->e, ptr, "eligible compensation needs a \"cap\"");
    }
    const cJSON *basis = cJSON_GetObjectItemCaseSensitive(v, "basis");
    ptr_key(p, sizeof p, ptr, "basis");
    if (!basis) {
        policy_errs_add(L->e, ptr, "needs \"basis\": what the case gives (e.g. repeat_contact)");
    } else {
        const char *s = want_str(L, basis, p, 1, 64);
        if (s && !(a->comp_basis = strdup(s)))
            nomem(L, p);
    }
}

static void parse_follow_up(loader *L, const cJSON *v, const char *ptr, policy_action *a)
{
    static const char *const members[] = {"type", "within_hours", NULL};
    if (want_object(L, v, ptr) != 0)
        return;
    only_members(L, v, ptr, members);
    char p[256];
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "type");
    ptr_key(p, sizeof p, ptr, "type");
    if (!t) {
        policy_errs_add(L->e, ptr, "needs \"type\"");
    } else if (!cJSON_IsString(t) || !is_ident(t->valuestring, 0)) {
        policy_errs_add(L->e, p, "must be a name of lower-case letters, digits and _");
    } else if (!(a->follow_up_type = strdup(t->valuestring))) {
        nomem(L, p);
    }
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(v, "within_hours");
    ptr_key(p, sizeof p, ptr, "within_hours");
    if (!h)
        policy_errs_add(L->e, ptr, "needs \"within_hours\"");
    else
        (void)want_int(L, h, p, 1, MAX_FOLLOW_UP_HOURS, &a->follow_up_hours);
}

/* One "set" object (also the defaults). */
static void parse_action(loader *L, const cJSON *set, const char *ptr, policy_action *a)
{
    if (want_object(L, set, ptr) != 0)
        return;
    policy *p = L->p;
    unsigned seen = 0;
    for (const cJSON *m = set->child; m; m = m->next) {
        char mp[256];
        ptr_key(mp, sizeof mp, ptr, m->string);
        int f = -1;
        for (int i = 0; i < PF_COUNT; i++)
            if (strcmp(POLICY_FIELD_NAMES[i], m->string) == 0)
                f = i;
        if (f < 0) {
            if (strcmp(m->string, "guidance.protection") == 0) {
                policy_errs_add(L->e, mp,
                                "guidance.protection is set by the staff-protection guard "
                                "only; no rule can set it");
            } else {
                char list[400];
                policy_enum_list(POLICY_FIELD_NAMES, list, sizeof list);
                policy_errs_add(L->e, mp, "unknown treatment field (one of: %s)", list);
            }
            continue;
        }
        if (seen & (1u << f)) {
            policy_errs_add(L->e, mp, "appears twice");
            continue;
        }
        seen |= 1u << f;
        size_t before = L->e->n;
        const char *s;
        switch ((policy_field)f) {
        case PF_QUEUE:
            if ((s = want_str(L, m, mp, 1, POLICY_MAX_STRING)) && !(a->queue = strdup(s)))
                nomem(L, mp);
            break;
        case PF_PRIORITY:
            (void)want_int(L, m, mp, 0, 100, &a->priority);
            break;
        case PF_PRIORITY_BOOST:
            (void)want_int(L, m, mp, -100, 100, &a->priority_boost);
            break;
        case PF_SKILLS:
            parse_skills(L, m, mp, a);
            break;
        case PF_AGENT_TIER: {
            int t = cJSON_IsString(m) ? -1 : -2;
            for (size_t i = 0; t == -1 && i < p->ntiers; i++)
                if (strcmp(p->tiers[i], m->valuestring) == 0)
                    t = (int)i;
            if (t < 0) {
                char list[300];
                tier_list(p, list, sizeof list);
                policy_errs_add(L->e, mp, "must be one of the agent_tiers: %s", list);
            } else if (t < p->floor_min_tier) {
                policy_errs_add(L->e, mp,
                                "'%s' is below the floor's min_agent_tier '%s': no rule can "
                                "take a customer below the floor",
                                m->valuestring, p->tiers[p->floor_min_tier]);
            } else {
                a->agent_tier = t;
            }
            break;
        }
        case PF_CHANNEL:
            (void)want_enum(L, m, mp, POLICY_CHANNELS, &a->channel);
            break;
        case PF_MAX_WAIT: {
            int w = 0;
            if (want_int(L, m, mp, 1, MAX_WAIT_LIMIT, &w) == 0) {
                if (w > p->floor_max_wait)
                    policy_errs_add(L->e, mp,
                                    "%d is above the floor's max_wait_seconds (%d): no rule can "
                                    "take a customer below the floor",
                                    w, p->floor_max_wait);
                a->max_wait = w;
            }
            break;
        }
        case PF_PACE:
            (void)want_enum(L, m, mp, POLICY_PACES, &a->pace);
            break;
        case PF_APOLOGY:
            (void)want_enum(L, m, mp, POLICY_APOLOGIES, &a->apology);
            break;
        case PF_TONE:
            if (!cJSON_IsString(m) || !is_ident(m->valuestring, 0) || strlen(m->valuestring) > 32)
                policy_errs_add(L->e, mp,
                                "must be a name of lower-case letters, digits and _ "
                                "(at most 32 bytes)");
            else if (!(a->tone = strdup(m->valuestring)))
                nomem(L, mp);
            break;
        case PF_OFFER_TYPES:
            parse_offer_types(L, m, mp, a);
            break;
        case PF_COMPENSATION:
            parse_compensation(L, m, mp, a);
            break;
        case PF_OWNERSHIP:
            if (!cJSON_IsBool(m))
                policy_errs_add(L->e, mp, "must be a boolean");
            else
                a->ownership = cJSON_IsTrue(m);
            break;
        case PF_FOLLOW_UP:
            parse_follow_up(L, m, mp, a);
            break;
        case PF_COUNT:
            break;
        }
        if (L->e->n == before)
            a->has |= 1u << f;
    }
}

/* --- sections ---------------------------------------------------------------- */

static void parse_tiers(loader *L, const cJSON *root)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "agent_tiers");
    policy *p = L->p;
    size_t n = 0;
    if (v) {
        int sz = cJSON_GetArraySize(v);
        if (!cJSON_IsArray(v) || sz < 1 || sz > POLICY_MAX_TIERS) {
            policy_errs_add(L->e, "/agent_tiers",
                            "must be an array of 1 to %d tier names, lowest first",
                            POLICY_MAX_TIERS);
            v = NULL;
        } else {
            n = (size_t)sz;
        }
    }
    if (!v)
        n = 3;
    p->tiers = calloc(n, sizeof *p->tiers);
    if (!p->tiers) {
        nomem(L, "/agent_tiers");
        return;
    }
    if (!v) {
        for (size_t i = 0; i < n; i++)
            if ((p->tiers[p->ntiers] = strdup(DEFAULT_TIERS[i])))
                p->ntiers++;
        return;
    }
    size_t i = 0;
    for (const cJSON *it = v->child; it; it = it->next, i++) {
        char ptr[64];
        ptr_idx(ptr, sizeof ptr, "/agent_tiers", i);
        if (!cJSON_IsString(it) || !is_ident(it->valuestring, 0)) {
            policy_errs_add(L->e, ptr, "must be a name of lower-case letters, digits and _");
            continue;
        }
        for (size_t j = 0; j < p->ntiers; j++)
            if (strcmp(p->tiers[j], it->valuestring) == 0)
                policy_errs_add(L->e, ptr, "'%s' appears twice", it->valuestring);
        if ((p->tiers[p->ntiers] = strdup(it->valuestring)))
            p->ntiers++;
    }
}

static void parse_floor(loader *L, const cJSON *root)
{
    static const char *const members[] = {"max_wait_seconds", "min_agent_tier", "min_priority",
                                          NULL};
    policy *p = L->p;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "floor");
    p->floor_max_wait = MAX_WAIT_LIMIT;
    if (!f) {
        policy_errs_add(L->e, "",
                        "needs \"floor\": the service floor every customer gets "
                        "(max_wait_seconds, min_agent_tier)");
        return;
    }
    if (want_object(L, f, "/floor") != 0)
        return;
    only_members(L, f, "/floor", members);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(f, "max_wait_seconds");
    if (!w)
        policy_errs_add(L->e, "/floor", "needs \"max_wait_seconds\"");
    else
        (void)want_int(L, w, "/floor/max_wait_seconds", 1, MAX_WAIT_LIMIT, &p->floor_max_wait);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(f, "min_agent_tier");
    if (!t) {
        policy_errs_add(L->e, "/floor", "needs \"min_agent_tier\"");
    } else {
        int idx = -1;
        for (size_t i = 0; cJSON_IsString(t) && i < p->ntiers; i++)
            if (strcmp(p->tiers[i], t->valuestring) == 0)
                idx = (int)i;
        if (idx < 0) {
            char list[300];
            tier_list(p, list, sizeof list);
            policy_errs_add(L->e, "/floor/min_agent_tier", "must be one of the agent_tiers: %s",
                            list);
        } else {
            p->floor_min_tier = idx;
        }
    }
    const cJSON *mp = cJSON_GetObjectItemCaseSensitive(f, "min_priority");
    if (mp)
        (void)want_int(L, mp, "/floor/min_priority", 0, 100, &p->floor_min_priority);
}

static void parse_guards(loader *L, const cJSON *root)
{
    static const char *const members[] = {"distress", "compensation_max_cap", NULL};
    static const char *const dmembers[] = {"sentiment_below", "anger_above", "fear_above", NULL};
    policy *p = L->p;
    p->distress_sentiment_below = -0.3;
    p->distress_anger_above = 0.5;
    p->distress_fear_above = 0.5;
    p->comp_max_cap = 0;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(root, "guards");
    if (!g) {
        policy_errs_add(L->e, "",
                        "needs \"guards\" (distress thresholds, "
                        "compensation_max_cap)");
        return;
    }
    if (want_object(L, g, "/guards") != 0)
        return;
    only_members(L, g, "/guards", members);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(g, "distress");
    if (d && want_object(L, d, "/guards/distress") == 0) {
        only_members(L, d, "/guards/distress", dmembers);
        const cJSON *v;
        /* Thresholds may be tightened, never switched off: a distressed
         * customer is one with sentiment below -0.1 at the least, anger or
         * fear above 0.8 at the most. */
        if ((v = cJSON_GetObjectItemCaseSensitive(d, "sentiment_below")))
            (void)want_num(L, v, "/guards/distress/sentiment_below", -0.9, 0.5,
                           &p->distress_sentiment_below);
        if ((v = cJSON_GetObjectItemCaseSensitive(d, "anger_above")))
            (void)want_num(L, v, "/guards/distress/anger_above", 0, 0.8, &p->distress_anger_above);
        if ((v = cJSON_GetObjectItemCaseSensitive(d, "fear_above")))
            (void)want_num(L, v, "/guards/distress/fear_above", 0, 0.8, &p->distress_fear_above);
    }
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(g, "compensation_max_cap");
    if (!cap)
        policy_errs_add(L->e, "/guards", "needs \"compensation_max_cap\"");
    else
        (void)want_num(L, cap, "/guards/compensation_max_cap", 0, MAX_COMP_CAP, &p->comp_max_cap);
}

static void parse_defaults(loader *L, const cJSON *root)
{
    policy *p = L->p;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "defaults");
    if (!d) {
        policy_errs_add(L->e, "", "needs \"defaults\"");
        return;
    }
    size_t before = L->e->n;
    parse_action(L, d, "/defaults", &p->defaults);
    if (L->e->n != before || !cJSON_IsObject(d))
        return;
    static const policy_field required[] = {PF_QUEUE, PF_PRIORITY, PF_AGENT_TIER, PF_CHANNEL,
                                            PF_PACE,  PF_APOLOGY,  PF_TONE};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!(p->defaults.has & (1u << required[i])))
            policy_errs_add(L->e, "/defaults", "needs \"%s\"", POLICY_FIELD_NAMES[required[i]]);
    static const policy_field forbidden[] = {PF_PRIORITY_BOOST, PF_FOLLOW_UP};
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++)
        if (p->defaults.has & (1u << forbidden[i])) {
            char ptr[128];
            ptr_key(ptr, sizeof ptr, "/defaults", POLICY_FIELD_NAMES[forbidden[i]]);
            policy_errs_add(L->e, ptr, "belongs in a rule, not in the defaults");
        }
    if (p->defaults.has & (1u << PF_COMPENSATION)) {
        if (p->defaults.comp_eligible)
            policy_errs_add(L->e, "/defaults/guidance.compensation",
                            "compensation follows the case: the default must not be eligible");
    }
    /* Fill what the defaults may leave out. */
    if (!(p->defaults.has & (1u << PF_MAX_WAIT)))
        p->defaults.max_wait = p->floor_max_wait;
    if (!(p->defaults.has & (1u << PF_COMPENSATION))) {
        p->defaults.comp_eligible = 0;
        p->defaults.comp_cap = 0;
        if (!(p->defaults.comp_basis = strdup("none")))
            nomem(L, "/defaults");
    }
    p->defaults.has = (1u << PF_COUNT) - 1;
}

/* Whether the rule sets field f, in its "set" or in a variant. */
static int rule_sets(const policy_rule *r, int f)
{
    if (r->set.has & (1u << f))
        return 1;
    for (size_t i = 0; i < r->nvariants; i++)
        if (r->variants[i].set.has & (1u << f))
            return 1;
    return 0;
}

static void parse_variants(loader *L, const cJSON *v, const char *ptr, policy_rule *r)
{
    static const char *const members[] = {"name", "set", NULL};
    int n = cJSON_GetArraySize(v);
    if (!cJSON_IsArray(v) || n < 2 || n > POLICY_MAX_VARIANTS) {
        policy_errs_add(L->e, ptr, "must be an array of 2 to %d variants", POLICY_MAX_VARIANTS);
        return;
    }
    r->variants = calloc((size_t)n, sizeof *r->variants);
    r->variant_names = calloc((size_t)n, sizeof *r->variant_names);
    if (!r->variants || !r->variant_names) {
        nomem(L, ptr);
        return;
    }
    size_t i = 0;
    for (const cJSON *it = v->child; it; it = it->next, i++) {
        char vp[256], p[256];
        ptr_idx(vp, sizeof vp, ptr, i);
        if (want_object(L, it, vp) != 0)
            continue;
        only_members(L, it, vp, members);
        policy_variant *var = &r->variants[r->nvariants];
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        ptr_key(p, sizeof p, vp, "name");
        if (!cJSON_IsString(name) || !is_ident(name->valuestring, 0)) {
            policy_errs_add(L->e, name ? p : vp,
                            "needs \"name\": lower-case letters, digits and _ (at most 64)");
            continue;
        }
        for (size_t j = 0; j < r->nvariants; j++)
            if (strcmp(r->variants[j].name, name->valuestring) == 0)
                policy_errs_add(L->e, p, "variant '%s' appears twice", name->valuestring);
        if (!(var->name = strdup(name->valuestring))) {
            nomem(L, p);
            continue;
        }
        r->variant_names[r->nvariants] = var->name;
        r->nvariants++;
        const cJSON *set = cJSON_GetObjectItemCaseSensitive(it, "set");
        ptr_key(p, sizeof p, vp, "set");
        if (!set)
            policy_errs_add(L->e, vp, "needs \"set\"");
        else
            parse_action(L, set, p, &var->set);
    }
}

/* The "id" member of a rule or an offer: lower-case letters, digits and _.
 * NULL (with the error recorded) when missing or malformed. */
static char *read_id(loader *L, const cJSON *j, const char *ptr)
{
    char p[256];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "id");
    ptr_key(p, sizeof p, ptr, "id");
    if (!cJSON_IsString(v) || !is_ident(v->valuestring, 0)) {
        policy_errs_add(L->e, v ? p : ptr,
                        "needs \"id\": lower-case letters, digits and _ (at most 64)");
        return NULL;
    }
    char *id = strdup(v->valuestring);
    if (!id)
        nomem(L, p);
    return id;
}

static void parse_rule(loader *L, const cJSON *j, const char *ptr, policy_rule *r)
{
    static const char *const members[] = {"id",  "code",     "reason",  "priority",    "when",
                                          "set", "variants", "success", "description", NULL};
    if (want_object(L, j, ptr) != 0)
        return;
    only_members(L, j, ptr, members);
    char p[256];
    r->id = read_id(L, j, ptr);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "code");
    ptr_key(p, sizeof p, ptr, "code");
    if (!cJSON_IsString(v) || !is_ident(v->valuestring, 1))
        policy_errs_add(L->e, v ? p : ptr,
                        "needs \"code\": the reason code, upper-case letters, digits and _");
    else if (!(r->code = strdup(v->valuestring)))
        nomem(L, p);
    v = cJSON_GetObjectItemCaseSensitive(j, "reason");
    ptr_key(p, sizeof p, ptr, "reason");
    const char *s = v ? want_str(L, v, p, 1, MAX_REASON_TEXT) : NULL;
    if (!v)
        policy_errs_add(L->e, ptr, "needs \"reason\": a short text for the agent and the audit");
    else if (s && !(r->reason = strdup(s)))
        nomem(L, p);
    v = cJSON_GetObjectItemCaseSensitive(j, "priority");
    ptr_key(p, sizeof p, ptr, "priority");
    if (!v)
        policy_errs_add(L->e, ptr, "needs \"priority\" (0 to 1000; higher wins a field)");
    else
        (void)want_int(L, v, p, 0, 1000, &r->priority);
    v = cJSON_GetObjectItemCaseSensitive(j, "when");
    ptr_key(p, sizeof p, ptr, "when");
    if (v)
        r->when = parse_cond(L, v, p, 0);
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(j, "set");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(j, "variants");
    if (!set && !vars)
        policy_errs_add(L->e, ptr, "needs \"set\" or \"variants\"");
    if (set) {
        ptr_key(p, sizeof p, ptr, "set");
        parse_action(L, set, p, &r->set);
    }
    if (vars) {
        ptr_key(p, sizeof p, ptr, "variants");
        parse_variants(L, vars, p, r);
    }
    v = cJSON_GetObjectItemCaseSensitive(j, "success");
    ptr_key(p, sizeof p, ptr, "success");
    if (v && !vars)
        policy_errs_add(L->e, p, "only a rule with \"variants\" has a success definition");
    else if (v)
        r->success = parse_cond(L, v, p, 1);
    /* Anger is not rewarded: the case decides compensation and a place in
     * the queue, never emotion or sentiment. (A field whose value did not
     * parse is not in set.has, so the JSON is asked as well.) */
    static const char queue[] =
        "a place in the queue must follow the case (urgency, effort, value, vulnerability)";
    static const struct {
        int field;
        const char *follow;
    } rewards[] = {
        {PF_COMPENSATION, "compensation must follow the case (intent, effort, value, caps)"},
        {PF_PRIORITY, queue},
        {PF_PRIORITY_BOOST, queue},
        {PF_MAX_WAIT, queue},
    };
    if (!r->when || !policy_cond_uses_affect(r->when))
        return;
    const char *sig[32];
    size_t n = 0;
    policy_cond_signals(r->when, sig, 32, &n);
    const char *which = "emotion or sentiment";
    for (size_t i = 0; i < n; i++)
        if (policy_path_is_affect(sig[i]))
            which = sig[i];
    ptr_key(p, sizeof p, ptr, "when");
    for (size_t k = 0; k < sizeof rewards / sizeof rewards[0]; k++) {
        const char *name = POLICY_FIELD_NAMES[rewards[k].field];
        int sets =
            rule_sets(r, rewards[k].field) || cJSON_GetObjectItemCaseSensitive(set, name) != NULL;
        for (const cJSON *it = vars && cJSON_IsArray(vars) ? vars->child : NULL; it; it = it->next)
            sets |= cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "set"),
                                                     name) != NULL;
        if (sets)
            policy_errs_add(L->e, p,
                            "this rule sets %s and its condition reads %s: %s, never emotion "
                            "or sentiment",
                            name, which, rewards[k].follow);
    }
}

static void parse_rules(loader *L, const cJSON *root)
{
    policy *p = L->p;
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(root, "rules");
    if (!rules)
        return;
    int n = cJSON_GetArraySize(rules);
    if (!cJSON_IsArray(rules) || n > POLICY_MAX_RULES) {
        policy_errs_add(L->e, "/rules", "must be an array of at most %d rules", POLICY_MAX_RULES);
        return;
    }
    p->rules = calloc((size_t)n + 1, sizeof *p->rules);
    if (!p->rules) {
        nomem(L, "/rules");
        return;
    }
    size_t i = 0;
    for (const cJSON *it = rules->child; it; it = it->next, i++) {
        char ptr[64];
        ptr_idx(ptr, sizeof ptr, "/rules", i);
        policy_rule *r = &p->rules[p->nrules++];
        parse_rule(L, it, ptr, r);
        for (size_t k = 0; r->id && k + 1 < p->nrules; k++)
            if (p->rules[k].id && strcmp(p->rules[k].id, r->id) == 0)
                policy_errs_add(L->e, ptr, "rule id '%s' appears twice (first at /rules/%zu)",
                                r->id, k);
    }
    /* Stable order: priority high first, file order among equals. */
    for (size_t a = 1; a < p->nrules; a++) {
        policy_rule tmp = p->rules[a];
        size_t b = a;
        while (b > 0 && p->rules[b - 1].priority < tmp.priority) {
            p->rules[b] = p->rules[b - 1];
            b--;
        }
        p->rules[b] = tmp;
    }
}

static const char *const DEFAULT_BUCKET[] = {"situation.intent.label", "situation.emotion.label",
                                             "situation.urgency.level", NULL};

/* "learning": {"bucket": [paths], "success": condition, "control_share": x};
 * every member optional (defaults: intent/emotion/urgency buckets, success =
 * outcome.resolved is true, no control group). */
static void parse_learning(loader *L, const cJSON *root)
{
    static const char *const members[] = {"bucket", "success", "control_share", NULL};
    policy *p = L->p;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "learning");
    const cJSON *bucket = NULL, *success = NULL, *share = NULL;
    if (l && want_object(L, l, "/learning") == 0) {
        only_members(L, l, "/learning", members);
        bucket = cJSON_GetObjectItemCaseSensitive(l, "bucket");
        success = cJSON_GetObjectItemCaseSensitive(l, "success");
        share = cJSON_GetObjectItemCaseSensitive(l, "control_share");
    }
    if (share)
        want_num(L, share, "/learning/control_share", 0, 0.5, &p->control_share);
    if (bucket) {
        int n = cJSON_GetArraySize(bucket);
        if (!cJSON_IsArray(bucket) || n < 1 || n > POLICY_MAX_BUCKET_PATHS) {
            policy_errs_add(L->e, "/learning/bucket", "must be an array of 1 to %d paths",
                            POLICY_MAX_BUCKET_PATHS);
            return;
        }
        size_t i = 0;
        for (const cJSON *it = bucket->child; it; it = it->next, i++) {
            char ptr[64];
            ptr_idx(ptr, sizeof ptr, "/learning/bucket", i);
            const char *path = want_str(L, it, ptr, 1, POLICY_MAX_STRING);
            if (path && !policy_path_is_label(path))
                policy_errs_add(L->e, ptr,
                                "'%s' is not a path of a classified event that holds a label "
                                "(e.g. situation.intent.label)",
                                path);
            else if (path && !(p->bucket_paths[p->nbucket_paths++] = strdup(path)))
                nomem(L, ptr);
        }
    } else {
        for (const char *const *d = DEFAULT_BUCKET; *d; d++)
            if (!(p->bucket_paths[p->nbucket_paths++] = strdup(*d)))
                nomem(L, "/learning/bucket");
    }
    cJSON *dflt = NULL;
    if (!success) {
        dflt = cJSON_Parse("{\"path\":\"outcome.resolved\",\"op\":\"eq\",\"value\":true}");
        success = dflt;
    }
    p->success = parse_cond(L, success, "/learning/success", 1);
    cJSON_Delete(dflt);
}

static void parse_offer(loader *L, const cJSON *j, const char *ptr, policy_offer *o)
{
    static const char *const members[] = {"id",    "type", "propensity", "propensity_path", "value",
                                          "lever", "when", "weights",    "description",     NULL};
    static const char *const wmembers[] = {"when", "factor", NULL};
    if (want_object(L, j, ptr) != 0)
        return;
    only_members(L, j, ptr, members);
    char p[256];
    o->id = read_id(L, j, ptr);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "type");
    ptr_key(p, sizeof p, ptr, "type");
    if (!v)
        policy_errs_add(L->e, ptr, "needs \"type\" (cross_sell, upsell, retention)");
    else
        (void)want_enum(L, v, p, POLICY_OFFER_TYPES, &o->type);
    o->propensity = 1;
    o->value = 1;
    o->lever = 1;
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "propensity"))) {
        ptr_key(p, sizeof p, ptr, "propensity");
        (void)want_num(L, v, p, 0, 1, &o->propensity);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "propensity_path"))) {
        ptr_key(p, sizeof p, ptr, "propensity_path");
        if (!cJSON_IsString(v) || strncmp(v->valuestring, "context.", 8) != 0 ||
            strlen(v->valuestring) > POLICY_MAX_STRING)
            policy_errs_add(L->e, p,
                            "must be a path under context. (e.g. "
                            "context.profile.propensity_upgrade)");
        else if (!(o->propensity_path = strdup(v->valuestring)))
            nomem(L, p);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "value"))) {
        ptr_key(p, sizeof p, ptr, "value");
        (void)want_num(L, v, p, 0, 1e9, &o->value);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "lever"))) {
        ptr_key(p, sizeof p, ptr, "lever");
        (void)want_num(L, v, p, 0, 100, &o->lever);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "when"))) {
        ptr_key(p, sizeof p, ptr, "when");
        o->when = parse_cond(L, v, p, 0);
    }
    v = cJSON_GetObjectItemCaseSensitive(j, "weights");
    if (!v)
        return;
    ptr_key(p, sizeof p, ptr, "weights");
    int n = cJSON_GetArraySize(v);
    if (!cJSON_IsArray(v) || n > MAX_WEIGHTS) {
        policy_errs_add(L->e, p, "must be an array of at most %d {when, factor}", MAX_WEIGHTS);
        return;
    }
    o->weights = calloc((size_t)n + 1, sizeof *o->weights);
    if (!o->weights) {
        nomem(L, p);
        return;
    }
    size_t i = 0;
    for (const cJSON *it = v->child; it; it = it->next, i++) {
        char wp[256], q[300];
        ptr_idx(wp, sizeof wp, p, i);
        if (want_object(L, it, wp) != 0)
            continue;
        only_members(L, it, wp, wmembers);
        policy_weight *w = &o->weights[o->nweights++];
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(it, "factor");
        ptr_key(q, sizeof q, wp, "factor");
        if (!f)
            policy_errs_add(L->e, wp, "needs \"factor\"");
        else
            (void)want_num(L, f, q, 0, 100, &w->factor);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "when");
        ptr_key(q, sizeof q, wp, "when");
        if (!c)
            policy_errs_add(L->e, wp, "needs \"when\"");
        else
            w->when = parse_cond(L, c, q, 0);
    }
}

static void parse_offers(loader *L, const cJSON *root)
{
    policy *p = L->p;
    const cJSON *offers = cJSON_GetObjectItemCaseSensitive(root, "offers");
    if (!offers)
        return;
    int n = cJSON_GetArraySize(offers);
    if (!cJSON_IsArray(offers) || n > POLICY_MAX_OFFERS) {
        policy_errs_add(L->e, "/offers", "must be an array of at most %d offers",
                        POLICY_MAX_OFFERS);
        return;
    }
    p->offers = calloc((size_t)n + 1, sizeof *p->offers);
    if (!p->offers) {
        nomem(L, "/offers");
        return;
    }
    size_t i = 0;
    for (const cJSON *it = offers->child; it; it = it->next, i++) {
        char ptr[64];
        ptr_idx(ptr, sizeof ptr, "/offers", i);
        policy_offer *o = &p->offers[p->noffers++];
        parse_offer(L, it, ptr, o);
        for (size_t k = 0; o->id && k + 1 < p->noffers; k++)
            if (p->offers[k].id && strcmp(p->offers[k].id, o->id) == 0)
                policy_errs_add(L->e, ptr, "offer id '%s' appears twice", o->id);
    }
}

void policy_free(policy *p)
{
    if (!p)
        return;
    free(p->version);
    for (size_t i = 0; i < p->ntiers; i++)
        free(p->tiers[i]);
    free(p->tiers);
    action_fini(&p->defaults);
    for (size_t i = 0; i < p->nrules; i++) {
        policy_rule *r = &p->rules[i];
        free(r->id);
        free(r->code);
        free(r->reason);
        policy_cond_free(r->when);
        action_fini(&r->set);
        for (size_t k = 0; k < r->nvariants; k++) {
            free(r->variants[k].name);
            action_fini(&r->variants[k].set);
        }
        free(r->variants);
        free(r->variant_names);
        policy_cond_free(r->success);
    }
    free(p->rules);
    for (size_t i = 0; i < p->noffers; i++) {
        policy_offer *o = &p->offers[i];
        free(o->id);
        free(o->propensity_path);
        policy_cond_free(o->when);
        for (size_t k = 0; k < o->nweights; k++)
            policy_cond_free(o->weights[k].when);
        free(o->weights);
    }
    free(p->offers);
    for (size_t i = 0; i < p->nbucket_paths; i++)
        free(p->bucket_paths[i]);
    policy_cond_free(p->success);
    free(p);
}

const char *policy_version(const policy *p)
{
    return p ? p->version : NULL;
}

void policy_floor(const policy *p, int *max_wait_seconds, const char **min_agent_tier,
                  int *min_priority)
{
    *max_wait_seconds = p->floor_max_wait;
    *min_agent_tier = p->tiers[p->floor_min_tier];
    *min_priority = p->floor_min_priority;
}

int policy_tier_rank(const policy *p, const char *tier)
{
    for (size_t i = 0; tier && i < p->ntiers; i++)
        if (strcmp(p->tiers[i], tier) == 0)
            return (int)i;
    return -1;
}

attune_err policy_load(const char *json, size_t len, policy **out, problem_field *errs,
                       size_t max_errs, size_t *n_errs)
{
    policy_errs e = {.v = errs, .max = errs ? max_errs : 0, .n = 0};
    *out = NULL;
    *n_errs = 0;
    if (len > POLICY_MAX_BYTES) {
        policy_errs_add(&e, "", "the policy is %zu bytes; at most %d", len, POLICY_MAX_BYTES);
        *n_errs = e.n;
        return ATTUNE_ERR_LIMIT;
    }
    cJSON *root = NULL;
    char msg[256];
    attune_err rc = json_parse(json, len, POLICY_MAX_JSON_DEPTH, &root, msg, sizeof msg);
    if (rc != ATTUNE_OK) {
        policy_errs_add(&e, "", "%s", msg);
        *n_errs = e.n;
        return rc;
    }
    policy *p = calloc(1, sizeof *p);
    if (!p) {
        cJSON_Delete(root);
        policy_errs_add(&e, "", "out of memory");
        *n_errs = e.n;
        return ATTUNE_ERR_NOMEM;
    }
    loader L = {.e = &e, .nodes = 0, .p = p};
    if (!cJSON_IsObject(root)) {
        policy_errs_add(&e, "", "a policy is a JSON object");
    } else {
        static const char *const members[] = {"$schema", "version",  "description", "agent_tiers",
                                              "floor",   "guards",   "defaults",    "offers",
                                              "rules",   "learning", NULL};
        only_members(&L, root, "", members);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
        if (!v)
            policy_errs_add(&e, "", "needs \"version\", a string naming this revision");
        else if (want_str(&L, v, "/version", 1, 64) && !(p->version = strdup(v->valuestring)))
            nomem(&L, "/version");
        parse_tiers(&L, root);
        parse_floor(&L, root);
        parse_guards(&L, root);
        parse_defaults(&L, root);
        parse_rules(&L, root);
        parse_offers(&L, root);
        parse_learning(&L, root);
    }
    cJSON_Delete(root);
    *n_errs = e.n;
    if (e.n) {
        policy_free(p);
        return ATTUNE_ERR_INVALID;
    }
    *out = p;
    return ATTUNE_OK;
}
