/* ids: random identifiers (UUID v4) and W3C trace context (traceparent). */
#ifndef ATTUNE_IDS_H
#define ATTUNE_IDS_H

#define IDS_UUID_LEN 37        /* 36 chars + NUL */
#define IDS_TRACEPARENT_LEN 56 /* 55 chars + NUL */

void ids_uuid4(char out[IDS_UUID_LEN]);
/* 1 when s is a well-formed version-00 traceparent with non-zero ids. */
int ids_traceparent_valid(const char *s);
/* A new trace: random trace id and span id, sampled flag set. */
void ids_traceparent_new(char out[IDS_TRACEPARENT_LEN]);
/* The same trace as parent (which must be valid) with a new span id, so each
 * stage appears as a child span. */
void ids_traceparent_child(const char *parent, char out[IDS_TRACEPARENT_LEN]);

#endif
