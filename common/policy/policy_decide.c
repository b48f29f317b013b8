/* policy_decide: one classified interaction -> a routing decision and a CRM
 * decision. Rules first (the highest-priority matching rule sets each
 * field; priority boosts, skills and follow-ups add up), compensation in a
 * pass of its own with emotion and sentiment hidden, then the guards, which
 * no rule can override: staff protection, the compensation cap, the sales
 * offer guard with offer arbitration, and the service floor. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hash.h"
#include "json.h"
#include "policy/policy_int.h"
#include "ts.h"

#define MAX_FOLLOW_UPS 8
/* A rule's reason (at most 200 bytes), its variant note and the paths of
 * its signals: room for all of them in practice; a signal that does not
 * fit is left out whole (rule_reason), never cut. */
#define REASON_TEXT 640
#define MAX_TREND 10

/* Fields reasons are given for, beyond the policy_field ones. */
enum { RF_OFFER = PF_COUNT, RF_PROTECTION, RF_COUNT };

static const char *reason_field_name(int f)
{
    switch (f) {
    case PF_PRIORITY_BOOST:
        return "routing.priority";
    case PF_OFFER_TYPES:
    case RF_OFFER:
        return "guidance.offer";
    case PF_FOLLOW_UP:
        return "crm.follow_ups";
    case RF_PROTECTION:
        return "guidance.protection";
    default:
        return POLICY_FIELD_NAMES[f];
    }
}

typedef struct {
    int field;
    int guard; /* 1: a guard changed the field; always reported */
    const char *code;
    char text[REASON_TEXT];
} reason;

typedef struct {
    const char *type;
    int hours;
    const char *code; /* the rule's, or a guard's */
    const char *text;
} follow_up;

typedef enum { PROT_NONE = 0, PROT_WARNING, PROT_FLOW } protection;
static const char *const PROTECTION_NAMES[] = {"none", "warning_script", "protection_flow"};

typedef struct {
    const char *queue;
    int priority;
    int boost;
    const char *skills[POLICY_MAX_SKILLS * 2];
    size_t nskills;
    int tier, channel, max_wait, pace, apology;
    const char *tone;
    unsigned offer_types;
    int comp_eligible;
    double comp_cap;
    const char *comp_basis;
    int ownership;
    follow_up fu[MAX_FOLLOW_UPS];
    size_t nfu;
    protection prot;
    const policy_offer *offer;
    double offer_score;
    unsigned set;                 /* fields a rule has set */
    const policy_rule *tier_rule; /* the rule whose agent tier holds */
    reason reasons[POLICY_MAX_REASONS];
    size_t nreasons;
} treatment;

static reason *add_reason(treatment *t, int field, int guard, const char *code)
{
    if (t->nreasons >= POLICY_MAX_REASONS)
        return NULL;
    reason *r = &t->reasons[t->nreasons++];
    r->field = field;
    r->guard = guard;
    r->code = code;
    r->text[0] = '\0';
    return r;
}

/* Forgets the rules' reasons for a field whose value a later rule replaces. */
static void drop_reasons(treatment *t, int field)
{
    size_t k = 0;
    for (size_t i = 0; i < t->nreasons; i++)
        if (t->reasons[i].field != field || t->reasons[i].guard)
            t->reasons[k++] = t->reasons[i];
    t->nreasons = k;
}

/* "<reason> (signals: a, b)" for a rule. */
static void rule_reason(treatment *t, int field, const policy_rule *rule,
                        const policy_variant_pick *variant)
{
    reason *r = add_reason(t, field, 0, rule->code);
    if (!r)
        return;
    const char *sig[64];
    size_t n = 0;
    policy_cond_signals(rule->when, sig, sizeof sig / sizeof sig[0], &n);
    size_t o = 0;
    int w = snprintf(r->text, sizeof r->text, "%s", rule->reason);
    o = w > 0 ? (size_t)w : 0;
    if (variant && o < sizeof r->text) {
        const char *name = rule->variants[variant->index].name;
        if (variant->sampled >= 0)
            w = snprintf(r->text + o, sizeof r->text - o, " [variant %s by %s, sampled %.3f]", name,
                         variant->method, variant->sampled);
        else
            w = snprintf(r->text + o, sizeof r->text - o, " [variant %s by %s]", name,
                         variant->method);
        o += w > 0 ? (size_t)w : 0;
    }
    size_t shown = 0;
    for (; shown < n && o < sizeof r->text; shown++) {
        /* (room kept for ", ...)" should a later one not fit) */
        const size_t need = strlen(shown ? ", " : " (signals: ") + strlen(sig[shown]) + 7;
        if (o + need > sizeof r->text)
            break;
        w = snprintf(r->text + o, sizeof r->text - o, "%s%s",
                     shown ? ", " : " (signals: ", sig[shown]);
        o += w > 0 ? (size_t)w : 0;
    }
    if (n && o < sizeof r->text)
        snprintf(r->text + o, sizeof r->text - o, "%s)",
                 shown < n ? (shown ? ", ..." : " (...") : "");
    if (!n && o < sizeof r->text)
        snprintf(r->text + o, sizeof r->text - o, " (applies to every contact)");
}

static void add_skill(treatment *t, const char *s)
{
    for (size_t i = 0; i < t->nskills; i++)
        if (strcmp(t->skills[i], s) == 0)
            return;
    if (t->nskills < sizeof t->skills / sizeof t->skills[0])
        t->skills[t->nskills++] = s;
}

/* Applies the fields of a that no higher rule has set (compensation aside:
 * it has its own pass). */
static void apply(treatment *t, const policy_action *a, const policy_rule *rule,
                  const policy_variant_pick *variant)
{
    for (int f = 0; f < PF_COUNT; f++) {
        unsigned bit = 1u << f;
        if (!(a->has & bit) || f == PF_COMPENSATION)
            continue;
        int additive = f == PF_PRIORITY_BOOST || f == PF_SKILLS || f == PF_FOLLOW_UP;
        /* the agent tier is the most senior one a matching rule asks for: a
         * rule ranked higher never sends a less skilled agent (a key account
         * that is also a repeat contact keeps its expert) */
        int raises = f == PF_AGENT_TIER && (t->set & bit) && a->agent_tier > t->tier &&
                     rule != t->tier_rule; /* (a rule's variant overlays its own set) */
        if ((t->set & bit) && !additive && !raises)
            continue;
        if (raises)
            drop_reasons(t, f);
        switch ((policy_field)f) {
        case PF_QUEUE:
            t->queue = a->queue;
            break;
        case PF_PRIORITY:
            t->priority = a->priority;
            break;
        case PF_PRIORITY_BOOST:
            t->boost += a->priority_boost;
            break;
        case PF_SKILLS:
            for (size_t i = 0; i < a->nskills; i++)
                add_skill(t, a->skills[i]);
            break;
        case PF_AGENT_TIER:
            t->tier = a->agent_tier;
            t->tier_rule = rule;
            break;
        case PF_CHANNEL:
            t->channel = a->channel;
            break;
        case PF_MAX_WAIT:
            t->max_wait = a->max_wait;
            break;
        case PF_PACE:
            t->pace = a->pace;
            break;
        case PF_APOLOGY:
            t->apology = a->apology;
            break;
        case PF_TONE:
            t->tone = a->tone;
            break;
        case PF_OFFER_TYPES:
            t->offer_types = a->offer_types;
            break;
        case PF_OWNERSHIP:
            t->ownership = a->ownership;
            break;
        case PF_FOLLOW_UP:
            if (t->nfu < MAX_FOLLOW_UPS)
                t->fu[t->nfu++] =
                    (follow_up){a->follow_up_type, a->follow_up_hours, rule->code, rule->reason};
            break;
        case PF_COMPENSATION:
        case PF_COUNT:
            break;
        }
        t->set |= bit;
        rule_reason(t, f, rule, variant);
    }
}

/* pick is NULL for a rule without variants. */
static void apply_rule(treatment *t, const policy_rule *r, const policy_variant_pick *pick)
{
    if (pick)
        apply(t, &r->variants[pick->index].set, r, pick);
    apply(t, &r->set, r, pick);
}

/* The compensation of a, if it has one. */
static const policy_action *comp_of(const policy_rule *r, int variant)
{
    if (variant >= 0 && (r->variants[variant].set.has & (1u << PF_COMPENSATION)))
        return &r->variants[variant].set;
    if (r->set.has & (1u << PF_COMPENSATION))
        return &r->set;
    return NULL;
}

/* --- helpers over the input ---------------------------------------------- */

static double num_at(const cJSON *data, const char *path, double dflt)
{
    const cJSON *v = policy_path_get(data, path, 0);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : dflt;
}

static const char *str_at(const cJSON *data, const char *path)
{
    const cJSON *v = policy_path_get(data, path, 0);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int true_at(const cJSON *data, const char *path)
{
    return cJSON_IsTrue(policy_path_get(data, path, 0));
}

void policy_variant_default(void *arg, const policy_variant_query *q, policy_variant_pick *out)
{
    (void)arg;
    uint64_t h = hash_fnv1a(q->interaction_id ? q->interaction_id : "");
    h = hash_fnv1a_more(h, "\x1f");
    h = hash_fnv1a_more(h, q->rule_id ? q->rule_id : "");
    out->index = q->n ? (size_t)(h % q->n) : 0;
    out->method = "hash";
    out->sampled = -1;
}

/* The event a decision answers: its CloudEvent id, else the interaction
 * id. */
static const char *decided_event_id(const cJSON *data, const policy_env *env)
{
    const char *interaction_id = str_at(data, "interaction_id");
    return env->event_id ? env->event_id : interaction_id ? interaction_id : "";
}

void policy_event_decision_id(const policy *p, const cJSON *data, const policy_env *env,
                              char out[37])
{
    policy_decision_id(env->event_source, decided_event_id(data, env), p->version, out);
}

void policy_decision_id(const char *event_source, const char *event_id, const char *policy_version,
                        char out[37])
{
    /* (no source: the bytes of the id alone, as before sources counted) */
    const char *src = event_source ? event_source : "";
    const size_t sl = strlen(src);
    /* attune's namespace (a fixed, random UUID). */
    static const unsigned char ns[16] = {0x6f, 0x1c, 0x2a, 0x4e, 0x93, 0x57, 0x4b, 0x0d,
                                         0xa8, 0x61, 0x3e, 0x0c, 0x55, 0xd2, 0x9b, 0x17};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, ns, sizeof ns) == 1 &&
             (sl == 0 ||
              (EVP_DigestUpdate(ctx, src, sl) == 1 && EVP_DigestUpdate(ctx, "\x1f", 1) == 1)) &&
             EVP_DigestUpdate(ctx, event_id, strlen(event_id)) == 1 &&
             EVP_DigestUpdate(ctx, "\n", 1) == 1 &&
             EVP_DigestUpdate(ctx, policy_version, strlen(policy_version)) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 16;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        /* FNV-1a over the same bytes, twice seeded: still deterministic. */
        uint64_t a = hash_fnv1a_more(hash_fnv1a_more(hash_fnv1a(src), event_id), policy_version);
        uint64_t b = hash_fnv1a_more(
            hash_fnv1a_more(hash_fnv1a_more(0x84222325cbf29ce4ULL, src), event_id), policy_version);
        for (int i = 0; i < 8; i++) {
            md[i] = (unsigned char)(a >> (8 * i));
            md[8 + i] = (unsigned char)(b >> (8 * i));
        }
    }
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[md[i] >> 4];
        out[o++] = hex[md[i] & 15];
    }
    out[o] = '\0';
}

/* --- guards ----------------------------------------------------------------- */

static void guard_protection(treatment *t, const cJSON *data)
{
    const char *lvl = str_at(data, "situation.threat.level");
    if (!lvl || (strcmp(lvl, "threat") != 0 && strcmp(lvl, "abuse") != 0))
        return;
    int threat = strcmp(lvl, "threat") == 0;
    t->prot = threat ? PROT_FLOW : PROT_WARNING;
    reason *r = add_reason(t, RF_PROTECTION, 1, threat ? "PROTECTION_THREAT" : "PROTECTION_ABUSE");
    if (r)
        snprintf(r->text, sizeof r->text, "%s",
                 threat ? "threat toward staff: supervisor joins, the agent may end the contact, "
                          "a note goes to the CRM (signals: situation.threat.level)"
                        : "abuse toward staff: warning script, supervisor on call (signals: "
                          "situation.threat.level)");
    add_skill(t, "supervisor");
    if ((r = add_reason(t, PF_SKILLS, 1, threat ? "PROTECTION_THREAT" : "PROTECTION_ABUSE")))
        snprintf(r->text, sizeof r->text,
                 "a supervisor for the %s toward staff (signals: situation.threat.level)",
                 threat ? "threat" : "abuse");
    if (t->comp_eligible) {
        t->comp_eligible = 0;
        t->comp_cap = 0;
        t->comp_basis = "staff_protection";
        if ((r = add_reason(t, PF_COMPENSATION, 1, "NO_CONCESSION_ON_ABUSE")))
            snprintf(r->text, sizeof r->text,
                     "no concession under threat or abuse (signals: situation.threat.level)");
    }
    if (t->offer_types) {
        t->offer_types = 0;
        if ((r = add_reason(t, RF_OFFER, 1, "NO_CONCESSION_ON_ABUSE")))
            snprintf(r->text, sizeof r->text,
                     "no offer under threat or abuse (signals: situation.threat.level)");
    }
    /* the contact is dealt with now, a supervisor at hand: no agent is
     * sent to call back someone who threatened or abused staff */
    if (strcmp(POLICY_CHANNELS[t->channel], "callback") == 0) {
        t->channel = 0;
        if ((r = add_reason(t, PF_CHANNEL, 1, "NO_CALLBACK_ON_ABUSE")))
            snprintf(r->text, sizeof r->text,
                     "no callback under threat or abuse: the contact is handled now, with a "
                     "supervisor (signals: situation.threat.level)");
    }
    if (threat && t->nfu < MAX_FOLLOW_UPS)
        t->fu[t->nfu++] = (follow_up){"protection_review", 24, "PROTECTION_THREAT",
                                      "review the threat toward staff"};
}

static void guard_compensation(const policy *p, treatment *t)
{
    if (!t->comp_eligible) {
        t->comp_cap = 0;
        return;
    }
    if (t->comp_cap > p->comp_max_cap) {
        reason *r = add_reason(t, PF_COMPENSATION, 1, "COMPENSATION_CAPPED");
        if (r)
            snprintf(r->text, sizeof r->text, "cap %g lowered to the policy cap %g", t->comp_cap,
                     p->comp_max_cap);
        t->comp_cap = p->comp_max_cap;
    }
}

/* The message, or a contact of the last 90 days, names a vulnerability
 * (situation.vulnerable of the decision; the sales guards). */
static int vulnerability_named(const cJSON *data)
{
    return true_at(data, "situation.urgency.vulnerable") ||
           num_at(data, "signals.recent_vulnerable", 0) > 0;
}

/* Distress, vulnerability (flagged in the profile or named in the message),
 * danger, consent: no sales offer (cross-sell, upsell); danger or a
 * vulnerability named: no retention offer either. Sentiment alone misses a
 * bereaved "thank you, sadly my husband died this morning". */
static void guard_sales(const policy *p, treatment *t, const cJSON *data, int *distressed)
{
    double sent = num_at(data, "situation.sentiment.score", 0);
    double anger = num_at(data, "situation.emotion.scores.anger", 0);
    double fear = num_at(data, "situation.emotion.scores.fear", 0);
    *distressed = sent < p->distress_sentiment_below || anger > p->distress_anger_above ||
                  fear > p->distress_fear_above;
    int vulnerable = true_at(data, "context.profile.vulnerable");
    int vulnerable_text = vulnerability_named(data);
    const char *level = str_at(data, "situation.urgency.level");
    int danger = level && strcmp(level, "critical") == 0;
    int consent = true_at(data, "context.profile.marketing_consent");
    reason *r = NULL;
    /* nor a retention pitch to someone in danger or vulnerable: a bereaved
     * customer closing a late husband's account is let go with care, not
     * offered a discount to stay */
    const unsigned retention = 1u << POLICY_OFFER_RETENTION;
    if ((t->offer_types & retention) && (vulnerable || vulnerable_text || danger)) {
        t->offer_types &= ~retention;
        if ((r = add_reason(t, RF_OFFER, 1, "NO_RETENTION_VULNERABLE")))
            snprintf(r->text, sizeof r->text,
                     "no retention offer to a vulnerable customer or one in danger (signals: %s)",
                     danger       ? "situation.urgency.level"
                     : vulnerable ? "context.profile.vulnerable"
                                  : "situation.urgency.vulnerable, signals.recent_vulnerable");
    }
    if (!(t->offer_types & POLICY_SALES_TYPES))
        return;
    if (*distressed) {
        if ((r = add_reason(t, RF_OFFER, 1, "NO_SALES_DISTRESSED")))
            snprintf(r->text, sizeof r->text,
                     "no sales offer to a distressed customer: sentiment %.2f (below %.2f?), "
                     "anger %.2f, fear %.2f (above %.2f/%.2f?) (signals: "
                     "situation.sentiment.score, situation.emotion.scores)",
                     sent, p->distress_sentiment_below, anger, fear, p->distress_anger_above,
                     p->distress_fear_above);
    } else if (vulnerable || vulnerable_text || danger) {
        if ((r = add_reason(t, RF_OFFER, 1, "NO_SALES_VULNERABLE")))
            snprintf(r->text, sizeof r->text,
                     "no sales offer to a vulnerable customer or one in danger (signals: %s)",
                     vulnerable        ? "context.profile.vulnerable"
                     : vulnerable_text ? "situation.urgency.vulnerable, signals.recent_vulnerable"
                                       : "situation.urgency.level");
    } else if (!consent) {
        if ((r = add_reason(t, RF_OFFER, 1, "NO_SALES_NO_CONSENT")))
            snprintf(r->text, sizeof r->text,
                     "no sales offer without marketing consent (signals: "
                     "context.profile.marketing_consent)");
    }
    if (*distressed || vulnerable || vulnerable_text || danger || !consent)
        t->offer_types &= ~POLICY_SALES_TYPES;
}

/* priority = propensity x context weight x value x business lever, among
 * the offers whose type is allowed and whose condition holds. */
static void arbitrate(const policy *p, treatment *t, const cJSON *data)
{
    size_t eligible = 0;
    double best_prop = 0, best_w = 0;
    for (size_t i = 0; i < p->noffers; i++) {
        const policy_offer *o = &p->offers[i];
        if (!(t->offer_types & (1u << o->type)) || !policy_cond_eval(o->when, data, 0))
            continue;
        double prop = o->propensity;
        if (o->propensity_path) {
            const cJSON *v = policy_path_get(data, o->propensity_path, 0);
            double d = NAN;
            if (cJSON_IsNumber(v))
                d = v->valuedouble;
            else if (cJSON_IsString(v))
                d = strtod(v->valuestring, NULL);
            if (isfinite(d))
                prop = d < 0 ? 0 : d > 1 ? 1 : d;
        }
        double w = 1;
        for (size_t k = 0; k < o->nweights; k++)
            if (policy_cond_eval(o->weights[k].when, data, 0))
                w *= o->weights[k].factor;
        double score = prop * w * o->value * o->lever;
        eligible++;
        if (score > 0 && (!t->offer || score > t->offer_score)) {
            t->offer = o;
            t->offer_score = score;
            best_prop = prop;
            best_w = w;
        }
    }
    if (t->offer) {
        reason *r = add_reason(t, RF_OFFER, 0, "OFFER_ARBITRATION");
        if (r)
            snprintf(r->text, sizeof r->text,
                     "%s scored %.4g = propensity %.3g x context weight %.3g x value %.4g x "
                     "lever %.3g, best of %zu eligible offer(s)",
                     t->offer->id, t->offer_score, best_prop, best_w, t->offer->value,
                     t->offer->lever, eligible);
    }
}

static void guard_floor(const policy *p, treatment *t)
{
    reason *r;
    if (t->max_wait > p->floor_max_wait || t->max_wait <= 0) {
        t->max_wait = p->floor_max_wait;
        if ((r = add_reason(t, PF_MAX_WAIT, 1, "FLOOR_WAIT_BOUND")))
            snprintf(r->text, sizeof r->text, "the service floor bounds every wait at %d s",
                     p->floor_max_wait);
    }
    if (t->tier < p->floor_min_tier) {
        t->tier = p->floor_min_tier;
        if ((r = add_reason(t, PF_AGENT_TIER, 1, "FLOOR_AGENT_TIER")))
            snprintf(r->text, sizeof r->text, "the service floor requires at least a %s agent",
                     p->tiers[p->floor_min_tier]);
    }
    int prio = t->priority + t->boost;
    int clamped = prio < p->floor_min_priority ? p->floor_min_priority : prio > 100 ? 100 : prio;
    if (clamped != prio && clamped == p->floor_min_priority && p->floor_min_priority > 0 &&
        (r = add_reason(t, PF_PRIORITY, 1, "FLOOR_PRIORITY")))
        snprintf(r->text, sizeof r->text, "the service floor keeps priority at %d or more",
                 p->floor_min_priority);
    t->priority = clamped;
    t->boost = 0;
}

/* --- output ----------------------------------------------------------------- */

static int differs(const policy *p, const treatment *t, int f)
{
    const policy_action *d = &p->defaults;
    switch (f) {
    case PF_QUEUE:
        return strcmp(t->queue, d->queue) != 0;
    case PF_PRIORITY:
    case PF_PRIORITY_BOOST:
        return t->priority != d->priority;
    case PF_SKILLS:
        return t->nskills != d->nskills;
    case PF_AGENT_TIER:
        return t->tier != d->agent_tier;
    case PF_CHANNEL:
        return t->channel != d->channel;
    case PF_MAX_WAIT:
        return t->max_wait != d->max_wait;
    case PF_PACE:
        return t->pace != d->pace;
    case PF_APOLOGY:
        return t->apology != d->apology;
    case PF_TONE:
        return strcmp(t->tone, d->tone) != 0;
    case PF_OFFER_TYPES:
    case RF_OFFER:
        return t->offer != NULL;
    case PF_COMPENSATION:
        return t->comp_eligible != d->comp_eligible || t->comp_cap != d->comp_cap ||
               strcmp(t->comp_basis, d->comp_basis) != 0;
    case PF_OWNERSHIP:
        return t->ownership != d->ownership;
    case PF_FOLLOW_UP:
        return t->nfu > 0;
    case RF_PROTECTION:
        return t->prot != PROT_NONE;
    }
    return 0;
}

/* Builders that remember an allocation failure instead of checking each call. */
typedef struct {
    int failed;
} jb;

static cJSON *obj(jb *b, cJSON *parent, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || (parent && !cJSON_AddItemToObject(parent, name, o))) {
        cJSON_Delete(o);
        b->failed = 1;
        return NULL;
    }
    return o;
}

static cJSON *arr(jb *b, cJSON *parent, const char *name)
{
    cJSON *o = cJSON_CreateArray();
    if (!o || !parent || !cJSON_AddItemToObject(parent, name, o)) {
        cJSON_Delete(o);
        b->failed = 1;
        return NULL;
    }
    return o;
}

static void put_str(jb *b, cJSON *o, const char *name, const char *s)
{
    if (!o || !(s ? cJSON_AddStringToObject(o, name, s) : cJSON_AddNullToObject(o, name)))
        b->failed = 1;
}

static void put_num(jb *b, cJSON *o, const char *name, double d)
{
    if (!o || !cJSON_AddNumberToObject(o, name, d))
        b->failed = 1;
}

static void put_bool(jb *b, cJSON *o, const char *name, int v)
{
    if (!o || !cJSON_AddBoolToObject(o, name, v))
        b->failed = 1;
}

static void put_copy(jb *b, cJSON *o, const char *name, const cJSON *v)
{
    cJSON *c = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
    if (!o || !c || !cJSON_AddItemToObject(o, name, c)) {
        cJSON_Delete(c);
        b->failed = 1;
    }
}

static void push_str(jb *b, cJSON *a, const char *s)
{
    cJSON *c = cJSON_CreateString(s);
    if (!a || !c || !cJSON_AddItemToArray(a, c)) {
        cJSON_Delete(c);
        b->failed = 1;
    }
}

static double round4(double d)
{
    return round(d * 10000) / 10000;
}

static void put_situation(jb *b, cJSON *o, const cJSON *data, int distressed)
{
    cJSON *s = obj(b, o, "situation");
    put_str(b, s, "intent", str_at(data, "situation.intent.label"));
    put_num(b, s, "intent_confidence", round4(num_at(data, "situation.intent.confidence", 0)));
    cJSON *se = obj(b, s, "sentiment");
    put_num(b, se, "score", round4(num_at(data, "situation.sentiment.score", 0)));
    put_str(b, se, "label", str_at(data, "situation.sentiment.label"));
    cJSON *em = obj(b, s, "emotion");
    put_str(b, em, "label", str_at(data, "situation.emotion.label"));
    put_num(b, em, "anger", round4(num_at(data, "situation.emotion.scores.anger", 0)));
    put_num(b, em, "fear", round4(num_at(data, "situation.emotion.scores.fear", 0)));
    cJSON *u = obj(b, s, "urgency");
    put_str(b, u, "level", str_at(data, "situation.urgency.level"));
    put_num(b, u, "score", round4(num_at(data, "situation.urgency.score", 0)));
    put_num(b, s, "effort", round4(num_at(data, "situation.urgency.effort", 0)));
    put_str(b, s, "threat", str_at(data, "situation.threat.level"));
    put_bool(b, s, "distressed", distressed);
    put_bool(b, s, "vulnerable", vulnerability_named(data));
}

static void put_context(jb *b, cJSON *o, const cJSON *data)
{
    cJSON *c = obj(b, o, "context");
    const char *status = str_at(data, "context.status");
    put_str(b, c, "status", status ? status : "unavailable");
    put_str(b, c, "tier", str_at(data, "context.profile.tier"));
    put_str(b, c, "segment", str_at(data, "context.profile.segment"));
    put_str(b, c, "payer", str_at(data, "context.profile.payer"));
    put_num(b, c, "value", num_at(data, "context.profile.value", 0));
    put_bool(b, c, "marketing_consent", true_at(data, "context.profile.marketing_consent"));
    put_bool(b, c, "vulnerable", true_at(data, "context.profile.vulnerable"));
    put_copy(b, c, "contacts_24h", policy_path_get(data, "context.contacts_24h", 0));
    put_copy(b, c, "contacts_7d", policy_path_get(data, "context.contacts_7d", 0));
}

/* Preferences: stated now (situation.preferences) over the learned ones
 * (context.preferences), the language also from the interaction and profile. */
static const char *pref(const cJSON *data, const char *name, int *stated)
{
    char path[64];
    snprintf(path, sizeof path, "situation.preferences.%s", name);
    const char *s = str_at(data, path);
    if (s) {
        *stated = 1;
        return s;
    }
    snprintf(path, sizeof path, "context.preferences.%s", name);
    s = str_at(data, path);
    if (!s && strcmp(name, "language") == 0) {
        s = str_at(data, "language");
        if (!s)
            s = str_at(data, "context.profile.language");
    }
    return s;
}

static const char *const PREF_NAMES[] = {"channel",  "avoid_channel", "contact_time",
                                         "language", "pace",          NULL};

static void put_preferences(jb *b, cJSON *o, const char *name, const cJSON *data, int only_stated)
{
    cJSON *pr = obj(b, o, name);
    for (size_t i = 0; PREF_NAMES[i]; i++) {
        int stated = 0;
        const char *v = pref(data, PREF_NAMES[i], &stated);
        if (v && (!only_stated || (stated && !policy_pref_for_now(data, PREF_NAMES[i]))) &&
            strlen(v) <= POLICY_MAX_STRING)
            put_str(b, pr, PREF_NAMES[i], v);
    }
}

static void put_offer(jb *b, cJSON *o, const treatment *t)
{
    cJSON *of = obj(b, o, "offer");
    put_str(b, of, "type", t->offer ? POLICY_OFFER_TYPES[t->offer->type] : "none");
    if (t->offer) {
        put_str(b, of, "id", t->offer->id);
        put_num(b, of, "score", round4(t->offer_score));
    }
}

static void put_compensation(jb *b, cJSON *o, const treatment *t)
{
    cJSON *c = obj(b, o, "compensation");
    put_bool(b, c, "eligible", t->comp_eligible);
    put_num(b, c, "cap", t->comp_cap);
    put_str(b, c, "basis", t->comp_basis);
}

/* The policy block: version, the variants chosen, and the learning facts
 * an outcome needs (bucket, how each variant was picked). */
static void put_policy(jb *b, cJSON *o, const policy *p, const char *variant, const cJSON *variants,
                       const char *bucket, const cJSON *choices)
{
    cJSON *po = obj(b, o, "policy");
    put_str(b, po, "version", p->version);
    put_str(b, po, "variant", variant);
    put_copy(b, po, "variants", variants);
    put_str(b, po, "bucket", bucket);
    put_copy(b, po, "choices", choices);
}

/* Asks the chooser and keeps its answer in range. */
static void pick_variant(policy_variant_fn choose, void *arg, const policy_rule *r,
                         const char *interaction_id, const char *bucket, policy_variant_pick *out)
{
    policy_variant_query q = {r->id, r->variant_names, r->nvariants,
                              interaction_id ? interaction_id : "", bucket};
    *out = (policy_variant_pick){0, "hash", -1};
    choose(arg, &q, out);
    out->index %= r->nvariants;
    /* the draw as the decision prints it (put_choice), so that the reason's
     * text and a replay of the recorded pick (learn_choose_again) read the
     * same number */
    if (out->sampled >= 0)
        out->sampled = round4(out->sampled);
    if (!out->method)
        out->method = "custom";
}

/* Whether the guards undid everything variant action a set: the customer
 * got nothing of it (an offer the sales guard took away, say), so it is no
 * choice to learn from. An offer counts as got when one of its types
 * survived the guards. */
static int variant_undone(const treatment *t, const policy_action *a)
{
    int any = 0;
    for (int f = 0; f < PF_COUNT; f++) {
        if (!(a->has & (1u << f)))
            continue;
        any = 1;
        if (f == PF_OFFER_TYPES) {
            if (a->offer_types & t->offer_types)
                return 0;
            continue;
        }
        int guarded = 0;
        for (size_t k = 0; k < t->nreasons && !guarded; k++)
            guarded = t->reasons[k].guard && t->reasons[k].field == f;
        if (!guarded)
            return 0;
    }
    return any;
}

/* {"rule", "variant", "method", "sampled"} of one choice. */
static void put_choice(jb *b, cJSON *choices, const policy_rule *r, const policy_variant_pick *pk)
{
    cJSON *c = obj(b, NULL, NULL);
    if (!c)
        return;
    if (!cJSON_AddItemToArray(choices, c)) {
        cJSON_Delete(c);
        b->failed = 1;
        return;
    }
    put_str(b, c, "rule", r->id);
    put_str(b, c, "variant", r->variants[pk->index].name);
    put_str(b, c, "method", pk->method);
    if (pk->sampled >= 0)
        put_num(b, c, "sampled", round4(pk->sampled));
}

static void put_follow_ups(jb *b, cJSON *o, const treatment *t, int64_t now_ms)
{
    cJSON *a = arr(b, o, "follow_ups");
    for (size_t i = 0; i < t->nfu; i++) {
        cJSON *f = obj(b, NULL, NULL);
        if (!f)
            return;
        if (!cJSON_AddItemToArray(a, f)) {
            cJSON_Delete(f);
            b->failed = 1;
            return;
        }
        char due[40];
        ts_format_rfc3339(now_ms + (int64_t)t->fu[i].hours * 3600000, due, sizeof due);
        put_str(b, f, "type", t->fu[i].type);
        put_num(b, f, "within_hours", t->fu[i].hours);
        put_str(b, f, "due_at", due);
        put_str(b, f, "code", t->fu[i].code);
        put_str(b, f, "text", t->fu[i].text);
    }
}

/* The sentiment trend: this contact against the scores of recent ones.
 * An event decided again (a batch consumed again) reads the recent list
 * as it is then (attune-decide reads it before deciding): the record of
 * this very decision, and those of contacts after this one, are left out,
 * so the trend stays the first decision's. */
static void put_trend(jb *b, cJSON *o, const cJSON *data, const char *decision_id)
{
    const char *now_text = str_at(data, "occurred_at");
    int64_t now = 0, then = 0;
    const int timed = now_text && ts_parse_rfc3339(now_text, &now) == 0;
    cJSON *tr = obj(b, o, "sentiment_trend");
    double cur = num_at(data, "situation.sentiment.score", 0);
    put_num(b, tr, "current", round4(cur));
    cJSON *prev = arr(b, tr, "previous");
    const cJSON *recent = policy_path_get(data, "context.recent", 0);
    double sum = 0;
    int n = 0;
    for (const cJSON *r = recent && cJSON_IsArray(recent) ? recent->child : NULL;
         r && n < MAX_TREND; r = r->next) {
        const char *rd = json_str(r, "decision_id"), *rt = json_str(r, "occurred_at");
        if ((rd && strcmp(rd, decision_id) == 0) ||
            (timed && rt && ts_parse_rfc3339(rt, &then) == 0 && then > now))
            continue;
        /* decide remembers each contact with its score as sentiment_score
         * (sentiment is its label) */
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "sentiment_score");
        if (!s)
            s = policy_path_get(r, "situation.sentiment.score", 0);
        /* (a score is in [-1, 1]; a record is data) */
        if (!cJSON_IsNumber(s) || !(fabs(s->valuedouble) <= 1))
            continue;
        cJSON *v = cJSON_CreateNumber(round4(s->valuedouble));
        if (!v || !prev || !cJSON_AddItemToArray(prev, v)) {
            cJSON_Delete(v);
            b->failed = 1;
            return;
        }
        sum += s->valuedouble;
        n++;
    }
    const char *dir = "unknown";
    /* (an event without text, an ended contact or an IVR step, has no
     * sentiment to compare: its 0 is no improvement) */
    const char *text = str_at(data, "text");
    if (n) {
        double avg = sum / n;
        put_num(b, tr, "previous_mean", round4(avg));
        if (text && *text)
            dir = cur - avg > 0.15 ? "improving" : avg - cur > 0.15 ? "worsening" : "stable";
    }
    put_str(b, tr, "direction", dir);
}

/* --- the contact so far (summary.contact) -------------------------------- */

#define CONTACT_MAX_INTENTS 5
#define CONTACT_LABEL_MAX 64
/* A latest line dated further ahead of the clock than this is not trusted
 * to order the contact's lines (occurred_at is the integrator's). */
#define CONTACT_SKEW_MS (5 * 60 * 1000)

/* A remembered sentiment score, held to [-1, 1] (a record is data: a huge
 * number would print as null once rounded). */
static double score_of(double v)
{
    return v < -1 ? -1 : v > 1 ? 1 : v;
}

static const char *const URGENCY_RANKS[] = {"low", "normal", "high", "critical", NULL};
static const char *const THREAT_RANKS[] = {"none", "profanity", "abuse", "threat", NULL};

/* The rank of a level among names (rising), -1 for none of them. */
static int level_rank(const char *const *names, const char *v)
{
    for (int i = 0; v && names[i]; i++)
        if (strcmp(names[i], v) == 0)
            return i;
    return -1;
}

typedef struct {
    double lines, first, last, lowest;
    const char *started_at, *last_line_at;
    const char *intents[CONTACT_MAX_INTENTS];
    int n_intents, urgency, threat, vulnerable;
} contact_sum;

/* Adds one line's readings (intent, urgency and threat labels, sentiment
 * score, vulnerability) to c. */
static void contact_add(contact_sum *c, const char *intent, const char *urgency, const char *threat,
                        double score, int vulnerable)
{
    c->first = c->lines > 0 ? c->first : score;
    c->lowest = c->lines > 0 && c->lowest < score ? c->lowest : score;
    c->last = score;
    c->lines++;
    /* ("other" names no need: "hi", "thanks") */
    int seen = !intent || strcmp(intent, "other") == 0 || strlen(intent) >= CONTACT_LABEL_MAX;
    for (int i = 0; i < c->n_intents && !seen; i++)
        seen = strcmp(c->intents[i], intent) == 0;
    if (!seen && c->n_intents < CONTACT_MAX_INTENTS)
        c->intents[c->n_intents++] = intent;
    const int u = level_rank(URGENCY_RANKS, urgency), t = level_rank(THREAT_RANKS, threat);
    c->urgency = u > c->urgency ? u : c->urgency;
    c->threat = t > c->threat ? t : c->threat;
    c->vulnerable |= vulnerable;
}

/* What the remembered record of this contact says of its lines: its
 * "contact" (written by the decision of its last event), or, in a record
 * from before there was one, its own line (a started or ended event is
 * none). */
static void contact_read(contact_sum *c, const cJSON *rec)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(rec, "contact");
    const char *started = json_str(k ? k : rec, k ? "started_at" : "occurred_at");
    const char *last = json_str(k ? k : rec, k ? "last_line_at" : "occurred_at");
    c->started_at = started && *started ? started : NULL;
    c->last_line_at = last && *last ? last : NULL;
    /* (the record keeps a vulnerability an earlier line named, also one
     * from before its contact was counted: customer_remember) */
    c->vulnerable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "vulnerable"));
    if (!cJSON_IsObject(k)) {
        const char *kind = json_str(rec, "kind");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, "sentiment_score");
        if (kind && (strcmp(kind, "message") == 0 || strcmp(kind, "transcript") == 0) &&
            cJSON_IsNumber(s) && isfinite(s->valuedouble))
            contact_add(c, json_str(rec, "intent"), json_str(rec, "urgency"),
                        json_str(rec, "threat"), score_of(s->valuedouble),
                        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "vulnerable")));
        return;
    }
    const double lines = num_at(k, "lines", 0);
    if (!(lines >= 1 && lines <= 1e9))
        return;
    c->lines = floor(lines);
    c->first = score_of(num_at(k, "sentiment.first", 0));
    c->last = score_of(num_at(k, "sentiment.last", 0));
    c->lowest = score_of(num_at(k, "sentiment.lowest", 0));
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(k, "intents");
    for (const cJSON *i = cJSON_IsArray(in) ? in->child : NULL;
         i && c->n_intents < CONTACT_MAX_INTENTS; i = i->next)
        if (cJSON_IsString(i) && i->valuestring[0] && strlen(i->valuestring) < CONTACT_LABEL_MAX)
            c->intents[c->n_intents++] = i->valuestring;
    c->urgency = level_rank(URGENCY_RANKS, json_str(k, "highest_urgency"));
    c->threat = level_rank(THREAT_RANKS, json_str(k, "highest_threat"));
    c->vulnerable |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "vulnerable"));
}

const cJSON *policy_contact_record(const cJSON *data)
{
    const char *iid = str_at(data, "interaction_id");
    const cJSON *recent = policy_path_get(data, "context.recent", 0);
    for (const cJSON *r = iid && cJSON_IsArray(recent) ? recent->child : NULL; r; r = r->next) {
        const char *ri = json_str(r, "interaction_id");
        if (ri && strcmp(ri, iid) == 0)
            return r;
    }
    return NULL;
}

/* Whether the line of this event is counted in c already: the record is
 * this very decision's (a batch decided again), or the contact's latest
 * line came after it (an earlier line decided again once later ones were
 * counted; lines are counted in the order they occurred), unless that
 * latest line is dated ahead of the clock (clock_ms, 0: unknown) by more
 * than CONTACT_SKEW_MS: one line from a wrong clock does not stop the
 * count. */
static int contact_has_line(const contact_sum *c, const cJSON *rec, const char *decision_id,
                            const char *now, int64_t clock_ms)
{
    const char *rd = rec ? json_str(rec, "decision_id") : NULL;
    int64_t t = 0, last = 0;
    return (rd && strcmp(rd, decision_id) == 0) ||
           (c->lines > 0 && now && c->last_line_at && ts_parse_rfc3339(now, &t) == 0 &&
            ts_parse_rfc3339(c->last_line_at, &last) == 0 && t < last &&
            (clock_ms <= 0 || last <= clock_ms + CONTACT_SKEW_MS));
}

/* The contact so far (*out; 0 when the event has no interaction id) at
 * clock_ms (0: unknown): its
 * lines up to and including this event, from the
 * record attune-decide remembered for the interaction (in context.recent,
 * which decide reads again before deciding) and this event's readings.
 * An event without text (started, ended, an IVR step) adds no line; the
 * ended event's contact is the summary of the whole contact. A line
 * counted already (contact_has_line) is not counted again. */
static int contact_compute(const cJSON *data, const char *decision_id, int64_t clock_ms,
                           contact_sum *out)
{
    contact_sum c = {.urgency = -1, .threat = -1};
    *out = c;
    if (!str_at(data, "interaction_id"))
        return 0;
    const cJSON *rec = policy_contact_record(data);
    if (rec)
        contact_read(&c, rec);
    const char *text = str_at(data, "text"), *now = str_at(data, "occurred_at");
    if (text && !contact_has_line(&c, rec, decision_id, now, clock_ms)) {
        contact_add(&c, str_at(data, "situation.intent.label"),
                    str_at(data, "situation.urgency.level"), str_at(data, "situation.threat.level"),
                    num_at(data, "situation.sentiment.score", 0),
                    true_at(data, "situation.urgency.vulnerable"));
        c.last_line_at = now;
    }
    if (!c.started_at)
        c.started_at = now;
    *out = c;
    return 1;
}

/* The contact's signals a rule can test: signals.contact_lines, and once
 * it has a line contact_last_sentiment, contact_lowest_sentiment and
 * contact_highest_threat ("the customer leaves this contact unhappy"). */
static int contact_signals(cJSON *signals, const contact_sum *c)
{
    if (!cJSON_AddNumberToObject(signals, "contact_lines", c->lines))
        return 0;
    if (c->lines > 0 &&
        (!cJSON_AddNumberToObject(signals, "contact_last_sentiment", round4(c->last)) ||
         !cJSON_AddNumberToObject(signals, "contact_lowest_sentiment", round4(c->lowest))))
        return 0;
    return c->threat < 0 ||
           cJSON_AddStringToObject(signals, "contact_highest_threat", THREAT_RANKS[c->threat]);
}

/* summary.contact of the CRM decision (c: contact_compute's, NULL when
 * the event has no interaction). */
static void put_contact(jb *b, cJSON *sum, const cJSON *data, const contact_sum *cp)
{
    if (!cp)
        return;
    const contact_sum c = *cp;
    const char *now = str_at(data, "occurred_at");
    cJSON *o = obj(b, sum, "contact");
    put_num(b, o, "lines", c.lines);
    put_str(b, o, "started_at", c.started_at);
    if (c.lines > 0 && c.last_line_at)
        put_str(b, o, "last_line_at", c.last_line_at);
    cJSON *s = obj(b, o, "sentiment");
    if (c.lines > 0) {
        put_num(b, s, "first", round4(c.first));
        put_num(b, s, "last", round4(c.last));
        put_num(b, s, "lowest", round4(c.lowest));
    }
    cJSON *in = arr(b, o, "intents");
    for (int i = 0; i < c.n_intents; i++)
        push_str(b, in, c.intents[i]);
    put_str(b, o, "highest_urgency", c.urgency >= 0 ? URGENCY_RANKS[c.urgency] : NULL);
    put_str(b, o, "highest_threat", c.threat >= 0 ? THREAT_RANKS[c.threat] : NULL);
    put_bool(b, o, "vulnerable", c.vulnerable);
    const char *kind = str_at(data, "kind");
    const int ended = kind && strcmp(kind, "ended") == 0;
    put_bool(b, o, "ended", ended);
    int64_t t0 = 0, t1 = 0;
    if (ended && now && c.started_at && ts_parse_rfc3339(c.started_at, &t0) == 0 &&
        ts_parse_rfc3339(now, &t1) == 0 && t1 >= t0)
        put_num(b, o, "duration_s", (double)((t1 - t0) / 1000));
}

static void put_reasons(jb *b, cJSON *o, const policy *p, const treatment *t)
{
    cJSON *a = arr(b, o, "reasons");
    for (int f = 0; f < RF_COUNT && a; f++) {
        int d = differs(p, t, f);
        for (size_t i = 0; i < t->nreasons; i++) {
            const reason *r = &t->reasons[i];
            if (r->field != f || (!r->guard && !d))
                continue;
            cJSON *e = obj(b, NULL, NULL);
            if (!e)
                return;
            if (!cJSON_AddItemToArray(a, e)) {
                cJSON_Delete(e);
                b->failed = 1;
                return;
            }
            put_str(b, e, "code", r->code);
            put_str(b, e, "field", reason_field_name(f));
            put_str(b, e, "text", r->text);
        }
    }
}

static void language_skill(treatment *t, const cJSON *data, char *buf, size_t size)
{
    int stated = 0;
    const char *lang = pref(data, "language", &stated);
    if (!lang || strlen(lang) < 2 || strlen(lang) > 16)
        return;
    /* "pt-BR" -> "lang_pt" */
    size_t n = 0;
    while (n < 3 && lang[n] >= 'a' && lang[n] <= 'z')
        n++;
    if (n < 2)
        return;
    snprintf(buf, size, "lang_%.*s", (int)n, lang);
    size_t before = t->nskills;
    add_skill(t, buf);
    reason *r;
    if (t->nskills != before && (r = add_reason(t, PF_SKILLS, 0, "PREFERENCE_LANGUAGE")))
        snprintf(r->text, sizeof r->text,
                 "the customer's language is honoured (signals: situation.preferences.language, "
                 "context.preferences.language, language, context.profile.language)");
}

static attune_err decide_view(const policy *p, const cJSON *data, const policy_env *env,
                              const char *did, const contact_sum *contact, cJSON **routing_data,
                              cJSON **crm_data, char *errstr, size_t errstr_size)
{
    *routing_data = NULL;
    *crm_data = NULL;
    if (!p || !cJSON_IsObject(data))
        return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "data is not an object");
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(data, "situation")))
        return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size,
                           "data has no situation object (not a classified event?)");
    policy_env dflt = {0};
    if (!env)
        env = &dflt;
    policy_variant_fn choose = env->choose_variant ? env->choose_variant : policy_variant_default;
    char bucket[POLICY_BUCKET_MAX];
    policy_bucket(p, data, bucket, sizeof bucket);
    const char *interaction_id = str_at(data, "interaction_id");
    const char *customer_id = str_at(data, "customer_id");

    treatment *t = calloc(1, sizeof *t);
    if (!t)
        return attune_errf(ATTUNE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    const policy_action *d = &p->defaults;
    t->queue = d->queue;
    t->priority = d->priority;
    for (size_t i = 0; i < d->nskills; i++)
        add_skill(t, d->skills[i]);
    t->tier = d->agent_tier;
    t->channel = d->channel;
    t->max_wait = d->max_wait;
    t->pace = d->pace;
    t->apology = d->apology;
    t->tone = d->tone;
    t->offer_types = d->offer_types;
    t->comp_eligible = d->comp_eligible;
    t->comp_cap = d->comp_cap;
    t->comp_basis = d->comp_basis;
    t->ownership = d->ownership;

    /* Rules, highest priority first. Each matching rule with variants gets
     * its own choice, so no rule's choice depends on another's. */
    int choice[POLICY_MAX_RULES];
    policy_variant_pick picks[POLICY_MAX_RULES];
    /* rules, in the order picked (once each: the compensation pass picks
     * only for a rule the first pass did not) */
    size_t picked[POLICY_MAX_RULES] = {0};
    size_t npicked = 0;
    const char *variant_label = NULL;
    char variant_buf[160];
    cJSON *variants = cJSON_CreateArray();
    cJSON *choices = cJSON_CreateArray();
    jb b = {.failed = variants == NULL || choices == NULL};
    for (size_t i = 0; i < p->nrules; i++) {
        const policy_rule *r = &p->rules[i];
        choice[i] = -2; /* not matched */
        if (!policy_cond_eval(r->when, data, 0))
            continue;
        choice[i] = -1;
        if (r->nvariants) {
            pick_variant(choose, env->choose_arg, r, interaction_id, bucket, &picks[i]);
            choice[i] = (int)picks[i].index;
            snprintf(variant_buf, sizeof variant_buf, "%s:%s", r->id, r->variants[choice[i]].name);
            if (!variant_label)
                variant_label = variant_buf;
            push_str(&b, variants, variant_buf);
            picked[npicked++] = i;
        }
        apply_rule(t, r, choice[i] >= 0 ? &picks[i] : NULL);
    }
    /* Compensation: the case alone decides, emotion and sentiment hidden.
     * The validator already rejects rules that would read them. */
    for (size_t i = 0; i < p->nrules; i++) {
        const policy_rule *r = &p->rules[i];
        int has = (r->set.has & (1u << PF_COMPENSATION)) != 0;
        for (size_t k = 0; k < r->nvariants; k++)
            has |= (r->variants[k].set.has & (1u << PF_COMPENSATION)) != 0;
        if (!has)
            continue;
        if (!policy_cond_eval(r->when, data, POLICY_COND_HIDE_AFFECT))
            continue;
        int v = choice[i] >= 0 ? choice[i] : -1;
        if (r->nvariants && v < 0) {
            pick_variant(choose, env->choose_arg, r, interaction_id, bucket, &picks[i]);
            v = (int)picks[i].index;
            picked[npicked++] = i;
        }
        const policy_action *a = comp_of(r, v);
        if (!a)
            continue;
        t->comp_eligible = a->comp_eligible;
        t->comp_cap = a->comp_eligible ? a->comp_cap : 0;
        t->comp_basis = a->comp_basis;
        rule_reason(t, PF_COMPENSATION, r, v >= 0 ? &picks[i] : NULL);
        break;
    }

    /* Guards. */
    int distressed = 0;
    char lang_skill[32];
    guard_protection(t, data);
    guard_compensation(p, t);
    guard_sales(p, t, data, &distressed);
    if (t->prot == PROT_NONE)
        arbitrate(p, t, data);
    language_skill(t, data, lang_skill, sizeof lang_skill);
    guard_floor(p, t);
    /* The choices outcomes are learned from: those the guards left
     * something of (the reasons still name every pick). */
    for (size_t k = 0; k < npicked; k++) {
        const policy_rule *r = &p->rules[picked[k]];
        const policy_variant_pick *pk = &picks[picked[k]];
        if (!variant_undone(t, &r->variants[pk->index].set))
            put_choice(&b, choices, r, pk);
    }

    /* The routing decision. */
    char at[40];
    const char *event_id = decided_event_id(data, env);
    ts_format_rfc3339(env->now_ms, at, sizeof at);
    cJSON *rt = obj(&b, NULL, NULL);
    put_str(&b, rt, "decision_id", did);
    put_str(&b, rt, "event_id", event_id);
    put_str(&b, rt, "interaction_id", interaction_id);
    put_str(&b, rt, "customer_id", customer_id);
    put_str(&b, rt, "decided_at", at);
    /* what the router needs to tell a live contact from one that is over */
    put_str(&b, rt, "channel", str_at(data, "channel"));
    put_str(&b, rt, "kind", str_at(data, "kind"));
    put_situation(&b, rt, data, distressed);
    put_context(&b, rt, data);
    cJSON *ro = obj(&b, rt, "routing");
    put_str(&b, ro, "queue", t->queue);
    put_num(&b, ro, "priority", t->priority);
    cJSON *sk = arr(&b, ro, "skills");
    for (size_t i = 0; i < t->nskills; i++)
        push_str(&b, sk, t->skills[i]);
    put_str(&b, ro, "agent_tier", p->tiers[t->tier]);
    put_str(&b, ro, "channel", POLICY_CHANNELS[t->channel]);
    put_num(&b, ro, "max_wait_seconds", t->max_wait);
    cJSON *g = obj(&b, rt, "guidance");
    put_str(&b, g, "pace", POLICY_PACES[t->pace]);
    put_str(&b, g, "apology", POLICY_APOLOGIES[t->apology]);
    put_str(&b, g, "tone", t->tone);
    put_offer(&b, g, t);
    put_compensation(&b, g, t);
    put_str(&b, g, "protection", PROTECTION_NAMES[t->prot]);
    put_bool(&b, g, "ownership", t->ownership);
    put_preferences(&b, g, "preferences", data, 0);
    put_policy(&b, rt, p, variant_label ? variant_label : "default", variants, bucket, choices);
    put_reasons(&b, rt, p, t);

    /* The CRM decision. */
    cJSON *crm = obj(&b, NULL, NULL);
    put_str(&b, crm, "decision_id", did);
    put_str(&b, crm, "event_id", event_id);
    put_str(&b, crm, "interaction_id", interaction_id);
    put_str(&b, crm, "customer_id", customer_id);
    put_str(&b, crm, "decided_at", at);
    cJSON *sum = obj(&b, crm, "summary");
    put_str(&b, sum, "channel", str_at(data, "channel"));
    put_str(&b, sum, "kind", str_at(data, "kind"));
    put_situation(&b, sum, data, distressed);
    put_contact(&b, sum, data, contact);
    cJSON *tr = obj(&b, sum, "treatment");
    put_str(&b, tr, "queue", t->queue);
    put_str(&b, tr, "agent_tier", p->tiers[t->tier]);
    put_str(&b, tr, "channel", POLICY_CHANNELS[t->channel]);
    put_str(&b, tr, "pace", POLICY_PACES[t->pace]);
    put_str(&b, tr, "apology", POLICY_APOLOGIES[t->apology]);
    put_offer(&b, tr, t);
    put_compensation(&b, tr, t);
    put_str(&b, tr, "protection", PROTECTION_NAMES[t->prot]);
    put_preferences(&b, crm, "preferences_learned", data, 1);
    put_trend(&b, crm, data, did);
    put_follow_ups(&b, crm, t, env->now_ms);
    cJSON *notes = arr(&b, crm, "notes");
    if (t->prot != PROT_NONE)
        push_str(&b, notes,
                 t->prot == PROT_FLOW
                     ? "staff_protection: threat toward staff; protection flow applied"
                     : "staff_protection: abuse toward staff; warning script given");
    put_policy(&b, crm, p, variant_label ? variant_label : "default", variants, bucket, choices);

    cJSON_Delete(variants);
    cJSON_Delete(choices);
    free(t);
    if (b.failed) {
        cJSON_Delete(rt);
        cJSON_Delete(crm);
        return attune_errf(ATTUNE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    *routing_data = rt;
    *crm_data = crm;
    return ATTUNE_OK;
}

/* What a recent contact is counted for (recent_count). */
typedef struct {
    const char *intent; /* its intent, when not NULL */
    const char *self;   /* not an earlier event of this interaction, when not NULL */
    int vulnerable;     /* it named a vulnerability */
} recent_match;

/* How many records of context.recent, in the days before this event's
 * occurred_at, match m. */
static int recent_count(const cJSON *data, int days, const recent_match *m)
{
    const cJSON *recent = policy_path_get(data, "context.recent", 0);
    const char *now_text = str_at(data, "occurred_at");
    int64_t now = 0, then = 0;
    if (!cJSON_IsArray(recent) || !now_text || ts_parse_rfc3339(now_text, &now) != 0)
        return 0;
    int n = 0;
    for (const cJSON *r = recent->child; r; r = r->next) {
        const char *ri = json_str(r, "intent"), *rt = json_str(r, "occurred_at"),
                   *rid = json_str(r, "interaction_id");
        if (m->intent && (!ri || strcmp(ri, m->intent) != 0))
            continue;
        if (m->self && rid && strcmp(rid, m->self) == 0)
            continue; /* an earlier event of this same interaction */
        if (m->vulnerable && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "vulnerable")))
            continue;
        if (rt && ts_parse_rfc3339(rt, &then) == 0 && then <= now &&
            now - then <= (int64_t)days * 86400 * 1000)
            n++;
    }
    return n;
}

/* How many of the customer's recent contacts in the 7 days before this one
 * were about the same intent: "repeat contact about the same issue" as a
 * number a rule can test (signals.repeat_same_intent). */
static int repeat_same_intent(const cJSON *data)
{
    const recent_match m = {.intent = str_at(data, "situation.intent.label"),
                            .self = str_at(data, "interaction_id")};
    return m.intent && *m.intent ? recent_count(data, 7, &m) : 0;
}

/* How many of the customer's recent contacts in the 90 days before this one
 * (or earlier events of this one) named a vulnerability: a bereavement or an
 * illness said once is known at the next contact
 * (signals.recent_vulnerable). */
static int recent_vulnerable(const cJSON *data)
{
    const recent_match m = {.vulnerable = 1};
    return recent_count(data, 90, &m);
}

int policy_pref_for_now(const cJSON *data, const char *name)
{
    const cJSON *now = policy_path_get(data, "situation.preferences.for_now", 0);
    for (const cJSON *m = cJSON_IsArray(now) ? now->child : NULL; m; m = m->next)
        if (cJSON_IsString(m) && strcmp(m->valuestring, name) == 0)
            return 1;
    return 0;
}

const char *policy_stale_preference(const cJSON *data, int lasting)
{
    const char *said = str_at(data, "situation.preferences.channel");
    const char *avoid = str_at(data, "situation.preferences.avoid_channel");
    const char *kept_avoid = str_at(data, "context.preferences.avoid_channel");
    const char *kept = str_at(data, "context.preferences.channel");
    if (said && kept_avoid && strcmp(said, kept_avoid) == 0 && !avoid &&
        !(lasting && policy_pref_for_now(data, "channel")))
        return "avoid_channel";
    if (avoid && kept && strcmp(avoid, kept) == 0 && !said &&
        !(lasting && policy_pref_for_now(data, "avoid_channel")))
        return "channel";
    return NULL;
}

/* Whether the message states a preference that the remembered ones say
 * otherwise, or contradicts one (stale: policy_stale_preference). */
static int restates_preferences(const cJSON *data, const char *stale)
{
    if (stale)
        return 1;
    for (size_t i = 0; PREF_NAMES[i]; i++) {
        char said_path[64], kept_path[64];
        snprintf(said_path, sizeof said_path, "situation.preferences.%s", PREF_NAMES[i]);
        snprintf(kept_path, sizeof kept_path, "context.preferences.%s", PREF_NAMES[i]);
        const char *said = str_at(data, said_path), *kept = str_at(data, kept_path);
        if (said && kept && strcmp(said, kept) != 0)
            return 1;
    }
    return 0;
}

/* Takes out of the remembered preferences (a copy) what this message says
 * anew or contradicts: the rules then read what the customer says now
 * ("email only" once, "could someone ring me back?" now is a callback). */
static void forget_restated(cJSON *kept, const cJSON *data, const char *stale)
{
    if (stale)
        cJSON_DeleteItemFromObjectCaseSensitive(kept, stale);
    for (size_t i = 0; PREF_NAMES[i]; i++) {
        char said_path[64];
        snprintf(said_path, sizeof said_path, "situation.preferences.%s", PREF_NAMES[i]);
        if (str_at(data, said_path))
            cJSON_DeleteItemFromObjectCaseSensitive(kept, PREF_NAMES[i]);
    }
}

attune_err policy_decide(const policy *p, const cJSON *data, const policy_env *env,
                         cJSON **routing_data, cJSON **crm_data, char *errstr, size_t errstr_size)
{
    *routing_data = NULL;
    *crm_data = NULL;
    if (!p || !cJSON_IsObject(data))
        return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "data is not an object");
    /* Rules read the input plus derived signals; the view borrows the
     * input's members (references), so nothing of the input is copied or
     * changed. */
    cJSON *view = cJSON_CreateObject();
    cJSON *signals = view ? cJSON_AddObjectToObject(view, "signals") : NULL;
    int ok = signals != NULL;
    const char *stale = policy_stale_preference(data, 0);
    const int restated = restates_preferences(data, stale);
    for (const cJSON *m = data->child; ok && m; m = m->next) {
        if (strcmp(m->string, "signals") == 0)
            continue;
        if (restated && strcmp(m->string, "context") == 0) {
            cJSON *ctx = cJSON_Duplicate(m, 1);
            ok = ctx != NULL && cJSON_AddItemToObject(view, "context", ctx);
            if (ok)
                forget_restated(cJSON_GetObjectItemCaseSensitive(ctx, "preferences"), data, stale);
            else
                cJSON_Delete(ctx);
            continue;
        }
        ok = cJSON_AddItemReferenceToObject(view, m->string, (cJSON *)m);
    }
    if (ok)
        ok = cJSON_AddNumberToObject(signals, "repeat_same_intent", repeat_same_intent(data)) !=
                 NULL &&
             cJSON_AddNumberToObject(signals, "recent_vulnerable", recent_vulnerable(data)) != NULL;
    /* the contact so far, for the rules (signals.contact_*) and the CRM
     * decision's summary.contact */
    char did[37];
    const policy_env none = {0};
    policy_event_decision_id(p, data, env ? env : &none, did);
    contact_sum contact;
    const int has_contact = contact_compute(data, did, env ? env->now_ms : 0, &contact);
    if (ok && has_contact)
        ok = contact_signals(signals, &contact);
    if (!ok) {
        cJSON_Delete(view);
        return attune_errf(ATTUNE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    attune_err err = decide_view(p, view, env, did, has_contact ? &contact : NULL, routing_data,
                                 crm_data, errstr, errstr_size);
    cJSON_Delete(view);
    return err;
}
