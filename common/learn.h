/* learn: what attune learns from outcomes and how attune-decide uses it.
 * Success and failure counts per rule, situation bucket and variant; a
 * Thompson-sampling variant chooser over them (a policy_variant_fn); and
 * their Redis layout (docs/redis.md):
 *
 *   attune:learn:rule:<rule_id>          hash "<bucket>|<variant>|s" and
 *                                        "...|f": success / failure counts
 *   attune:learn:decision:<decision_id>  hash bucket, choices
 *                                        ("rule:variant,..."), picks
 *                                        ("rule:variant:method:sampled,...");
 *                                        expires
 *   attune:learn:seen:<h(source)>:<id>   an outcome event already applied
 *   attune:learn:counted:<decision_id>   a decision already counted
 *
 * A learn_counts owns its entries. A learn_chooser borrows its counts and
 * keeps random state: one chooser per thread. */
#ifndef ATTUNE_LEARN_H
#define ATTUNE_LEARN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "policy/policy.h"
#include "redis.h"

#define LEARN_KEY_PREFIX "attune:learn:"
#define LEARN_KEY_MAX 512

typedef struct learn_counts learn_counts;

learn_counts *learn_counts_new(void);
void learn_counts_free(learn_counts *c);
/* Forgets every entry (before a fresh load). */
void learn_counts_clear(learn_counts *c);
/* Adds to the counts of (rule, bucket, variant). -1 when out of memory. */
int learn_counts_add(learn_counts *c, const char *rule, const char *bucket, const char *variant,
                     long successes, long failures);
/* The counts of (rule, bucket, variant); 0 and 0 when never seen. */
void learn_counts_get(const learn_counts *c, const char *rule, const char *bucket,
                      const char *variant, long *successes, long *failures);

/* Calls fn for every entry, ordered by rule, bucket, variant. -1 when out
 * of memory (fn not called). */
typedef void (*learn_counts_fn)(void *arg, const char *rule, const char *bucket,
                                const char *variant, long successes, long failures);
int learn_counts_each(const learn_counts *c, learn_counts_fn fn, void *arg);

typedef struct {
    const learn_counts *counts;
    double control_share;
    uint64_t seed;
} learn_chooser;

/* A chooser over counts (borrowed). Read-only afterwards, so threads may
 * share it. */
void learn_chooser_init(learn_chooser *ch, const learn_counts *counts, double control_share,
                        uint64_t seed);
/* A policy_variant_fn (arg: learn_chooser). With probability control_share
 * a uniform pick (method "control"); otherwise each variant's success rate
 * is drawn from Beta(1 + successes, 1 + failures) and the highest draw wins
 * (method "thompson", sampled = that draw). The draws are seeded by the
 * chooser's seed, the interaction id and the rule id: an event decided
 * again on the same counts (a retried batch, a replay) gets the same pick
 * and so the same decision under the same decision id. */
void learn_choose(void *arg, const policy_variant_query *q, policy_variant_pick *out);

/* An event decided before (a retried batch whose first outcome is unknown,
 * a replay): the picks its decision recorded, and the chooser for rules
 * they do not name. Both borrowed. */
typedef struct {
    const learn_chooser *chooser;
    const char *picks; /* a decision record's picks, or NULL */
} learn_again;

/* A policy_variant_fn (arg: learn_again): the recorded pick of the rule,
 * variant, method and draw alike, when the record names one of its
 * variants; else learn_choose. The counts move between two deliveries of
 * an event, so without the record its second decision could pick another
 * variant under the same decision id than the first, and the outcome would
 * be learned for the variant the customer did not get. */
void learn_choose_again(void *arg, const policy_variant_query *q, policy_variant_pick *out);

/* A draw from Beta(a, b), a and b >= 1, with the chooser's random state. */
double learn_beta(uint64_t *rng, double a, double b);
/* A uniform draw in (0, 1). */
double learn_uniform(uint64_t *rng);

/* Replaces c's entries with the counts of the given rules read from Redis,
 * in one round trip. On error c is unchanged. */
attune_err learn_counts_load(redis_client *rc, const char *const *rules, size_t n, learn_counts *c,
                             char *errstr, size_t errstr_size) ATTUNE_MUST_CHECK;

/* Queues (pipelining; *replies counts the replies to read) the record of a
 * decision's learning facts: its bucket, choices ("rule:variant,...") and
 * picks (see learn_picks_write) kept for ttl_s seconds, for its outcome to
 * find and for the event, decided again, to pick the same. A record that
 * is there already (the event's first decision) is kept. */
attune_err learn_remember_decision(redis_client *rc, const char *decision_id, const char *bucket,
                                   const char *choices, const char *picks, long ttl_s,
                                   int *replies) ATTUNE_MUST_CHECK;

/* Writes a decision's policy.choices (an array of {rule, variant, method,
 * sampled}) as a record's picks, "rule:variant:method:sampled,..." (rule
 * ids and variant names are identifiers, so ':' and ',' cannot occur in
 * them), and its choices, "rule:variant,...". Each is "" when there are
 * none; an entry that does not fit one of them is left out of both. */
void learn_picks_write(const cJSON *choices, char *picks, size_t picks_size, char *list,
                       size_t list_size);

/* Queues the read of the picks of decision_id's record: one reply, a string
 * or nil. */
attune_err learn_recall_decision(redis_client *rc, const char *decision_id) ATTUNE_MUST_CHECK;

/* Judges an outcome for the variants of one rule: 1 success, 0 failure,
 * -1 undetermined (see policy_rule_success). */
typedef int (*learn_judge_fn)(const char *rule_id, void *ud);

/* Queues the application of one outcome: unless the outcome event (its
 * CloudEvent source and id) was applied before, record_json is pushed on
 * the customer's outcome list (capped at keep), the CSAT (0: none) updates
 * the customer's CSAT summary, and each choice ("rule:variant,...") in
 * bucket that judge can judge, and that no earlier outcome of the decision
 * counted, gets a success or a failure. One reply, read with
 * learn_apply_result. */
attune_err learn_apply_outcome(redis_client *rc, const char *outcome_source, const char *outcome_id,
                               const char *decision_id, const char *customer_id,
                               const char *record_json, long keep, int csat, learn_judge_fn judge,
                               void *judge_ud, const char *bucket, const char *choices,
                               long ttl_s) ATTUNE_MUST_CHECK;

/* What one reply of learn_apply_outcome says: status 0 the outcome was
 * applied before, 1 applied now; the choices it counted, and those it
 * could not judge (their rule's success definition reads a fact the outcome
 * does not report) and that no earlier outcome counted. Returns -1 for a
 * reply that is none of these (a key of the wrong type, a Redis error). */
int learn_apply_result(const redisReply *r, long long *counted, long long *undetermined);

#endif
