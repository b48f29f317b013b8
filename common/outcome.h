/* outcome: what happened after a decision (the data of attune.outcome.v1,
 * docs/schemas/outcome.schema.json): validation, shared by ingest (which
 * accepts outcomes) and attune-learn (which reads them back from Kafka).
 * Borrowed views only; nothing here allocates. */
#ifndef ATTUNE_OUTCOME_H
#define ATTUNE_OUTCOME_H

#include <cJSON.h>

#include "err.h"
#include "problem.h"

#define EVENT_TYPE_OUTCOME "attune.outcome.v1"
#define OUTCOME_MAX_HANDLE_TIME_S 2592000 /* 30 days */

/* The boolean outcome fields; the rest are csat (1 to 5) and
 * handle_time_seconds. */
extern const char *const outcome_flags[]; /* NULL-terminated */

/* Validates data: decision_id, interaction_id and customer_id are required,
 * plus at least one of resolved, csat, offer_accepted, handle_time_seconds,
 * churned, abuse_reported; occurred_at is optional. Unknown members are
 * rejected, which also keeps free text (and so personal data) out. On
 * failure pf names the field under ptr_prefix. */
attune_err outcome_validate(const cJSON *data, const char *ptr_prefix,
                            problem_field *pf) ATTUNE_MUST_CHECK;

#endif
