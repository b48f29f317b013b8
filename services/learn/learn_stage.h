/* learn_stage: attune-learn as a Kafka stage. Outcomes in; per outcome, in
 * Redis: the customer's outcome history and CSAT summary, and (once per
 * decision, when the policy's success definition can tell) a success or a
 * failure for each variant the decision chose, in its situation bucket.
 * Nothing is produced but dead letters. */
#ifndef ATTUNE_LEARN_STAGE_H
#define ATTUNE_LEARN_STAGE_H

#include "config.h"

/* Runs until SIGTERM/SIGINT; returns the exit code (2: bad start-up). */
int learn_stage_run(const config *cfg);

#endif
