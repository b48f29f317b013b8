/* policy_int: the loaded form of a policy, shared by the loader and the
 * decision code of common/policy/ only. */
#ifndef ATTUNE_POLICY_INT_H
#define ATTUNE_POLICY_INT_H

#include <stddef.h>

#include "policy/cond.h"
#include "policy/policy.h"

/* The treatment fields an action may set, in the order reasons list them. */
typedef enum {
    PF_QUEUE = 0,
    PF_PRIORITY,
    PF_PRIORITY_BOOST, /* additive: every matching rule adds */
    PF_SKILLS,         /* additive: union */
    PF_AGENT_TIER,
    PF_CHANNEL,
    PF_MAX_WAIT,
    PF_PACE,
    PF_APOLOGY,
    PF_TONE,
    PF_OFFER_TYPES,
    PF_COMPENSATION,
    PF_OWNERSHIP,
    PF_FOLLOW_UP, /* additive: every matching rule adds its task */
    PF_COUNT
} policy_field;

extern const char *const POLICY_FIELD_NAMES[PF_COUNT + 1]; /* NULL-terminated */
extern const char *const POLICY_CHANNELS[];    /* stay, callback, escalate_voice, self_service */
extern const char *const POLICY_PACES[];       /* brisk, standard, unhurried */
extern const char *const POLICY_APOLOGIES[];   /* none, brief, full */
extern const char *const POLICY_OFFER_TYPES[]; /* cross_sell, upsell, retention */
#define POLICY_OFFER_CROSS_SELL 0
#define POLICY_OFFER_UPSELL 1
#define POLICY_OFFER_RETENTION 2
#define POLICY_SALES_TYPES ((1u << POLICY_OFFER_CROSS_SELL) | (1u << POLICY_OFFER_UPSELL))

typedef struct {
    unsigned has; /* 1u << policy_field for each field set */
    char *queue;
    int priority;
    int priority_boost;
    char **skills;
    size_t nskills;
    int agent_tier; /* index into policy.tiers */
    int channel, pace, apology;
    int max_wait;
    char *tone;
    unsigned offer_types; /* 1u << POLICY_OFFER_* */
    int comp_eligible;
    double comp_cap;
    char *comp_basis;
    int ownership;
    char *follow_up_type;
    int follow_up_hours;
} policy_action;

typedef struct {
    char *name;
    policy_action set;
} policy_variant;

typedef struct {
    char *id;
    char *code;
    char *reason;
    int priority;
    policy_cond *when;
    policy_action set;
    policy_variant *variants;
    size_t nvariants;
    const char **variant_names; /* borrowed from variants, for the chooser */
    policy_cond *success;       /* its variants' success; NULL: the policy's */
} policy_rule;

typedef struct {
    policy_cond *when;
    double factor;
} policy_weight;

typedef struct {
    char *id;
    int type; /* POLICY_OFFER_* */
    double propensity;
    char *propensity_path; /* NULL: propensity alone */
    double value;
    double lever;
    policy_cond *when;
    policy_weight *weights;
    size_t nweights;
} policy_offer;

struct policy {
    char *version;
    char **tiers; /* lowest first */
    size_t ntiers;
    int floor_max_wait;
    int floor_min_tier;
    int floor_min_priority;
    double distress_sentiment_below;
    double distress_anger_above;
    double distress_fear_above;
    double comp_max_cap;
    policy_action defaults;
    policy_rule *rules; /* sorted: priority high first, then file order */
    size_t nrules;
    policy_offer *offers;
    size_t noffers;
    /* learning */
    char *bucket_paths[POLICY_MAX_BUCKET_PATHS];
    size_t nbucket_paths;
    policy_cond *success; /* over {"outcome": <outcome data>} */
    double control_share;
};

int policy_enum_index(const char *const *names, const char *s);

#endif
