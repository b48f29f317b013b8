/* retry: the pure rules of attune-deliver's retries (docs/deliver.md): which
 * HTTP answers are retried, how long to wait before the next attempt
 * (exponential backoff with full jitter, or the endpoint's Retry-After), and
 * whether a failure counts against the endpoint for the circuit breaker. No
 * I/O, no clocks: time and randomness come in as arguments. */
#ifndef ATTUNE_DELIVER_RETRY_H
#define ATTUNE_DELIVER_RETRY_H

#include <stdint.h>

typedef enum {
    RETRY_DELIVERED, /* 2xx */
    RETRY_AGAIN,     /* transport error, 408, 429, 5xx */
    RETRY_REJECT,    /* any other status: retrying cannot help */
} retry_verdict;

/* status is the HTTP status, or 0 when no answer came (connect refused,
 * reset, timeout). */
retry_verdict retry_classify(long status);

/* 1 when the outcome says the endpoint itself is failing (no answer, or a
 * 5xx): those count toward opening the breaker. 429 and 408 do not: the
 * endpoint answered and asked us to slow down. */
int retry_endpoint_failed(long status);
/* 1 when a failure says the endpoint as a whole is down or busy (no answer,
 * 429, 502, 503, 504) rather than that this decision failed (a 500, say):
 * only those are forgiven to a decision that then waits for the breaker. */
int retry_endpoint_down(long status);

/* 1 for the statuses whose Retry-After is honoured (429, 503). */
int retry_honours_retry_after(long status);

/* The wait before attempt number attempts + 1, after attempts (>= 1) failed:
 * uniform in [0, min(max_ms, base_ms * 2^(attempts-1))] ("full jitter"),
 * drawn from rnd. */
long retry_backoff_ms(long attempts, long base_ms, long max_ms, uint32_t rnd);

/* Parses a Retry-After value, delta-seconds ("120") or an HTTP-date ("Wed,
 * 21 Oct 2015 07:28:00 GMT"), into a wait in ms from now_s (Unix seconds),
 * cut to max_ms. A date in the past is a wait of 0. Returns 0 and sets *out,
 * or -1 when the value is neither form. */
int retry_after_parse(const char *value, int64_t now_s, long max_ms, long *out);

/* xorshift64*: a small per-thread generator for jitter (not for secrets).
 * *state must not be 0. */
uint32_t retry_rand(uint64_t *state);

#endif
