/* event: the CloudEvents 1.0 envelope in structured JSON mode, the way every
 * attune event travels over HTTP and Kafka. Event types and the Kafka
 * content-type live here. Functions taking `cJSON *data` take ownership of
 * it; returned trees belong to the caller. */
#ifndef ATTUNE_EVENT_H
#define ATTUNE_EVENT_H

#include <cJSON.h>

#include "err.h"
#include "problem.h"

#define EVENT_CONTENT_TYPE "application/cloudevents+json"
#define EVENT_BATCH_CONTENT_TYPE "application/cloudevents-batch+json"
#define EVENT_TYPE_INTERACTION "attune.interaction.v1"
#define EVENT_TYPE_ENRICHED "attune.interaction.enriched.v1"
#define EVENT_TYPE_CLASSIFIED "attune.interaction.classified.v1"
#define EVENT_SOURCE_INGEST "/attune/ingest"

#define EVENT_MAX_ID 256
#define EVENT_MAX_SOURCE 1024
#define EVENT_MAX_TYPE 256
/* Context attributes besides data (specversion, id, ... and extensions). */
#define EVENT_MAX_ATTRIBUTES 64
#define EVENT_MAX_ATTRIBUTE_NAME 64
/* Bytes of any other string attribute: subject, dataschema, an extension. */
#define EVENT_MAX_ATTRIBUTE_BYTES 4096

/* Checks the required context attributes (specversion 1.0, id, source,
 * type), the optional ones attune reads (time, datacontenttype,
 * traceparent), that type equals want_type when want_type is not NULL, and
 * that data is a JSON object; then the limits on every other attribute
 * (extensions included): at most EVENT_MAX_ATTRIBUTES besides data, names
 * of at most EVENT_MAX_ATTRIBUTE_NAME bytes, values a string of at most
 * EVENT_MAX_ATTRIBUTE_BYTES, a number, a boolean or null. On failure pf
 * names the attribute, under ptr_prefix; ATTUNE_ERR_LIMIT for a count or a
 * length over its limit, ATTUNE_ERR_INVALID otherwise. */
attune_err event_validate(const cJSON *ce, const char *want_type, const char *ptr_prefix,
                          problem_field *pf) ATTUNE_MUST_CHECK;

/* A new event. time_ms 0 means now; traceparent NULL or invalid starts a new
 * trace. Takes data. NULL on allocation failure. */
cJSON *event_new(const char *id, const char *source, const char *type, long long time_ms,
                 const char *traceparent, cJSON *data);

/* The next stage's event: same id, source, time and subject as in, the given
 * type, data replaced, and a child span of in's traceparent. Takes data. */
cJSON *event_derive(const cJSON *in, const char *type, cJSON *data);

#endif
