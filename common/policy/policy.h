/* policy: attune's treatment policy engine, a pure C library (no I/O).
 * A policy file (JSON, docs/policy.md, docs/schemas/policy.schema.json) is
 * loaded and validated once; policy_decide() then turns one classified
 * interaction into a routing decision and a CRM decision.
 *
 * Ownership in one sentence: a policy owns everything it loaded and is
 * read-only after policy_load(), so any number of threads may call
 * policy_decide() on the same policy at once; the cJSON trees it returns
 * belong to the caller (cJSON_Delete), and the input tree is only borrowed.
 *
 * Guards no rule can override (enforced in policy_decide, and checked by the
 * validator where a file could contradict them):
 *   - the service floor: max_wait_seconds never above floor.max_wait_seconds,
 *     agent tier never below floor.min_agent_tier, priority never below
 *     floor.min_priority;
 *   - anger is not rewarded: compensation is decided with emotion and
 *     sentiment hidden, and a rule whose compensation depends on them is
 *     rejected by the validator;
 *   - no cross-sell or upsell to a distressed or vulnerable customer or one
 *     without marketing consent;
 *   - staff protection: threat -> protection_flow, abuse -> warning_script;
 *     neither gets an offer or compensation. */
#ifndef ATTUNE_POLICY_H
#define ATTUNE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "problem.h"

/* Limits on a policy file; more is an error naming the limit. */
#define POLICY_MAX_BYTES (1024 * 1024)
#define POLICY_MAX_JSON_DEPTH 32
#define POLICY_MAX_RULES 256
#define POLICY_MAX_OFFERS 64
#define POLICY_MAX_VARIANTS 8
#define POLICY_MAX_COND_DEPTH 8
#define POLICY_MAX_COND_NODES 4096 /* over the whole policy */
#define POLICY_MAX_LIST 64         /* values of one in / not_in list, skills of one action */
#define POLICY_MAX_STRING 128      /* bytes of any string value or id */
#define POLICY_MAX_TIERS 8

/* Limits on one decision. */
#define POLICY_MAX_SKILLS 16
#define POLICY_MAX_REASONS 48

typedef struct policy policy;

/* What a variant chooser is asked: pick one of n (>= 1) variants of a rule
 * for this interaction, whose situation falls in bucket (policy_bucket). */
typedef struct {
    const char *rule_id;
    const char *const *names;
    size_t n;
    const char *interaction_id;
    const char *bucket;
} policy_variant_query;

/* A chooser's answer. method is a static string ("hash", "thompson",
 * "control"); sampled is the success rate the chooser drew for the chosen
 * variant, or -1 when it drew none. */
typedef struct {
    size_t index; /* an out-of-range answer is taken modulo n */
    const char *method;
    double sampled;
} policy_variant_pick;

/* Called from policy_decide, so it must be thread-safe when decide is used
 * so. */
typedef void (*policy_variant_fn)(void *arg, const policy_variant_query *q,
                                  policy_variant_pick *out);

typedef struct {
    int64_t now_ms;           /* decided_at and follow-up due dates */
    const char *event_id;     /* the input event's id: the decision id derives from it (NULL: the
                                 interaction id) */
    const char *event_source; /* and its source (NULL: none): two producers may use one id */
    policy_variant_fn choose_variant; /* NULL: policy_variant_default */
    void *choose_arg;
} policy_env;

/* Parses and validates a policy. On success *out belongs to the caller
 * (policy_free) and *n_errs is 0. On failure *out is NULL, the first
 * max_errs errors (JSON pointer into the file + message) are in errs and
 * *n_errs counts all of them (it may exceed max_errs). errs may be NULL
 * when max_errs is 0. Returns ATTUNE_ERR_PARSE (not JSON), ATTUNE_ERR_LIMIT
 * (too large or deep) or ATTUNE_ERR_INVALID. */
ATTUNE_MUST_CHECK attune_err policy_load(const char *json, size_t len, policy **out,
                                         problem_field *errs, size_t max_errs, size_t *n_errs);

/* NULL is a no-op. */
void policy_free(policy *p);

/* The file's "version"; lives as long as p. */
const char *policy_version(const policy *p);

/* The service floor: the wait bound, the lowest agent tier (a string that
 * lives as long as p) and the lowest priority. */
void policy_floor(const policy *p, int *max_wait_seconds, const char **min_agent_tier,
                  int *min_priority);

/* The rank of an agent tier (0 the lowest), -1 when p has no such tier. */
int policy_tier_rank(const policy *p, const char *tier);

/* Decides for one classified event's data object (the interaction fields,
 * context and situation). On success *routing_data and *crm_data are new
 * trees owned by the caller; on failure both are NULL and errstr says why
 * (ATTUNE_ERR_INVALID: data is not an object, or has no situation object;
 * ATTUNE_ERR_NOMEM). Never copies the customer's text. env may be NULL
 * (now_ms 0, default variant choice). */
ATTUNE_MUST_CHECK attune_err policy_decide(const policy *p, const cJSON *data,
                                           const policy_env *env, cJSON **routing_data,
                                           cJSON **crm_data, char *errstr, size_t errstr_size);

/* The remembered preference that the message contradicts, which the
 * decision drops: "avoid_channel" when the message asks for the channel
 * the customer once turned down ("email only" once, "I'd rather you phoned
 * me" now), "channel" when it turns down the one once asked for; NULL when
 * none. With lasting, only what the message states for good counts (what
 * the memory drops): a request for this contact only ("could someone ring
 * me back?") overrides the memory in this decision and leaves it be. */
const char *policy_stale_preference(const cJSON *data, int lasting);

/* The record attune-decide remembered for the interaction of data (in
 * context.recent, where each contact has one), NULL when none: what its
 * earlier lines told. */
const cJSON *policy_contact_record(const cJSON *data);

/* Whether the message states preference name for this contact only
 * (listed in situation.preferences.for_now): not one to remember. */
int policy_pref_for_now(const cJSON *data, const char *name);

/* The default variant chooser: an FNV-1a hash of interaction_id and rule_id,
 * modulo n, so a reprocessed event gets the same variant (method "hash"). */
void policy_variant_default(void *arg, const policy_variant_query *q, policy_variant_pick *out);

/* --- learning (docs/policy.md, "learning") -------------------------------
 * A policy's "learning" section says which situation buckets variants are
 * compared in, what counts as success in an outcome, and the share of
 * decisions that pick a variant uniformly at random as a control group. */

#define POLICY_MAX_BUCKET_PATHS 6
#define POLICY_BUCKET_MAX 256 /* bytes of a bucket name, NUL included */

/* The bucket of a classified event's data: the values at the policy's
 * bucket paths joined by '/', "-" for an absent one, e.g.
 * "complaint/anger/high". Cut to fit out (POLICY_BUCKET_MAX bytes is
 * always enough). */
void policy_bucket(const policy *p, const cJSON *data, char *out, size_t size);

/* Success of one outcome (the data of an attune.outcome.v1 event) by the
 * policy's definition: 1 when it holds, 0 when it does not and every field
 * it reads is present, -1 otherwise (undetermined: the outcome does not
 * say enough yet). */
int policy_outcome_success(const policy *p, const cJSON *outcome);

/* The same for the variants of one rule: by the rule's own success
 * definition when it has one (an offer's variants are judged by the offer
 * taken, a pace's by the contact resolved), else by the policy's. A rule
 * the policy no longer has, or has without variants, is undetermined (-1):
 * its choice is not counted. */
int policy_rule_success(const policy *p, const char *rule_id, const cJSON *outcome);

/* The share of decisions (0 to 0.5) whose variants are picked uniformly at
 * random, for an unbiased comparison. */
double policy_control_share(const policy *p);

/* The ids of the rules that have variants (what learning keeps counts
 * for); returns how many there are, filling at most max of them. The
 * strings live as long as p. */
size_t policy_variant_rules(const policy *p, const char **ids, size_t max);

/* Whether rule rule_id (NULL: any rule) has a variant named variant. */
int policy_has_variant(const policy *p, const char *rule_id, const char *variant);

/* A UUID (version 5 layout, SHA-1) of the event (its source, when not NULL
 * or empty, and its id: a CloudEvent is identified by both) and
 * policy_version in attune's namespace: the same event decided by the same
 * policy always gets the same decision id, two events never share one. out
 * has room for 37 bytes. */
void policy_decision_id(const char *event_source, const char *event_id, const char *policy_version,
                        char out[37]);
/* The decision id policy_decide gives the decision of data under env and
 * p: of env's event source and id, else of the interaction id. */
void policy_event_decision_id(const policy *p, const cJSON *data, const policy_env *env,
                              char out[37]);

#endif
