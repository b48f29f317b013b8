/* service_mode: attune-classify as a Kafka stage: enriched interactions in,
 * classified interactions out (docs/schemas/classified.schema.json). */
#ifndef ATTUNE_CLASSIFY_SERVICE_MODE_H
#define ATTUNE_CLASSIFY_SERVICE_MODE_H

#include "classify/classify.h"
#include "config.h"

/* Runs until SIGTERM/SIGINT; c is borrowed. Returns the exit code. */
int classify_service_run(const config *cfg, const classify *c);

#endif
