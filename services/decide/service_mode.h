/* service_mode: attune-decide as a Kafka stage: classified interactions in,
 * routing decisions (key interaction_id) and CRM decisions (key customer_id)
 * out, the compact interaction record written back to Redis, the policy
 * reloaded without a restart. */
#ifndef ATTUNE_DECIDE_SERVICE_MODE_H
#define ATTUNE_DECIDE_SERVICE_MODE_H

#include "config.h"

#define EVENT_TYPE_DECISION_ROUTING "attune.decision.routing.v1"
#define EVENT_TYPE_DECISION_CRM "attune.decision.crm.v1"

/* Loads the policy (policy_path, NULL: ATTUNE_POLICY_FILE or the shipped
 * default) and runs until SIGTERM/SIGINT. Returns the
 * exit code (2 when the policy cannot be loaded at start). */
int decide_service_run(const config *cfg, const char *policy_path);

#endif
