/* sender: one HTTP POST at a time to the configured endpoint, on one
 * persistent curl easy handle (its connection is kept alive and reused).
 * A sender belongs to one thread at a time; several senders run in
 * parallel. It borrows the option strings, which must outlive it. */
#ifndef ATTUNE_DELIVER_SENDER_H
#define ATTUNE_DELIVER_SENDER_H

#include <curl/curl.h>
#include <signal.h>
#include <stddef.h>

#include "err.h"

typedef struct {
    const char *url;
    const char *token;    /* secret; empty: no Authorization header */
    const char *hmac_key; /* secret; empty: no signature header */
    long timeout_ms;
    long connect_timeout_ms;
    /* While *running is 0 a request in flight is abandoned (shutdown).
     * May be NULL. */
    volatile sig_atomic_t *running;
} sender_opts;

typedef struct {
    long status;                  /* HTTP status; 0: no answer (see error) */
    char error[128];              /* curl's short text for a transport error */
    char detail[CURL_ERROR_SIZE]; /* curl's longer text of it, for logs */
    char retry_after[64];         /* the Retry-After value, "" when absent */
    double seconds;               /* time the attempt took */
    int aborted;                  /* cut short by shutdown: not an outcome */
} sender_result;

typedef struct sender sender;

attune_err sender_new(const sender_opts *opts, sender **out) ATTUNE_MUST_CHECK;
void sender_free(sender *s);

/* POSTs body (a CloudEvent, sent unchanged) with the Idempotency-Key,
 * optional traceparent (NULL: none), bearer token and signature headers.
 * ATTUNE_OK when an attempt was made, whatever its outcome (in *r);
 * an error only when the request could not be built. */
attune_err sender_post(sender *s, const char *body, size_t body_len, const char *idempotency_key,
                       const char *traceparent, sender_result *r) ATTUNE_MUST_CHECK;

#endif
