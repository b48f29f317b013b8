/* cond: the condition language of attune policies (docs/policy.md).
 *
 *   {"all": [C, ...]}   every C holds (1 to POLICY_MAX_LIST items)
 *   {"any": [C, ...]}   at least one C holds
 *   {"not": C}          C does not hold
 *   {"path": "situation.urgency.level", "op": "in", "value": ["high", "critical"]}
 *
 * Operators: eq, ne, lt, le, gt, ge (numbers; eq/ne also strings and
 * booleans), in, not_in (a list of strings or numbers), between (an
 * inclusive [low, high] pair of numbers) and exists (no value). Paths are
 * dotted names inside a classified event's data: situation.*, context.*
 * and the interaction fields (channel, kind, wait_seconds, queue, language,
 * attributes.*); a learning success definition reads outcome.* instead.
 * A comparison on an absent or null value is false (so is
 * not_in); only `not` turns it around.
 *
 * A parsed condition owns its memory (policy_cond_free) and is read-only
 * afterwards: evaluation allocates nothing and is thread-safe. */
#ifndef ATTUNE_POLICY_COND_H
#define ATTUNE_POLICY_COND_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "problem.h"

typedef struct policy_cond policy_cond;

/* Where validation errors go: the first max in v, n counts all. */
typedef struct {
    problem_field *v;
    size_t max;
    size_t n;
} policy_errs;

/* snprintf into out, truncating silently (JSON pointers for messages). */
void policy_ptrf(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void policy_errs_add(policy_errs *e, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses json (found at JSON pointer `pointer` of the file, for messages).
 * *nodes counts the nodes parsed so far over the whole policy and is
 * checked against POLICY_MAX_COND_NODES. Returns the condition, or NULL
 * after adding at least one error to e. */
policy_cond *policy_cond_parse(const cJSON *json, const char *pointer, policy_errs *e,
                               size_t *nodes);

void policy_cond_free(policy_cond *c);

/* Hides situation.emotion.* and situation.sentiment.* from the evaluation:
 * they read as absent (how compensation is decided). */
#define POLICY_COND_HIDE_AFFECT 1u

/* 1 when c holds over data (a classified event's data object), else 0. A
 * NULL condition holds. */
int policy_cond_eval(const policy_cond *c, const cJSON *data, unsigned flags);

/* 1 when a path of c reads emotion or sentiment. */
int policy_cond_uses_affect(const policy_cond *c);

/* Adds the distinct paths c reads to names[*n..max) (borrowed strings that
 * live as long as c), in the order they appear. */
void policy_cond_signals(const policy_cond *c, const char **names, size_t max, size_t *n);

/* Looks a dotted path up in data: the value, or NULL when absent or null.
 * With POLICY_COND_HIDE_AFFECT, emotion and sentiment are absent. */
const cJSON *policy_path_get(const cJSON *data, const char *path, unsigned flags);

/* 1 when path is a known path of a classified event that holds a string
 * (what a learning bucket is made of). */
int policy_path_is_label(const char *path);

/* 1 when path reads emotion or sentiment. */
int policy_path_is_affect(const char *path);

/* Writes "a, b, c" of a NULL-terminated list into out (cut at size), for
 * error messages that name the allowed values. */
void policy_enum_list(const char *const *values, char *out, size_t size);

#endif
