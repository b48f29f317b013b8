/* breaker: the circuit breaker of attune-deliver as a pure state machine.
 * Closed: requests flow; `threshold` consecutive endpoint failures open it.
 * Open: no request is sent until the cooldown has passed; then one probe goes
 * (half-open). The probe's success closes the breaker; its failure opens it
 * again with the cooldown doubled, up to cooldown_max_ms. Times are passed
 * in (ms, any monotonic origin). Not thread-safe: the caller holds a lock. */
#ifndef ATTUNE_DELIVER_BREAKER_H
#define ATTUNE_DELIVER_BREAKER_H

#include <stdint.h>

typedef enum { BREAKER_CLOSED = 0, BREAKER_OPEN = 1, BREAKER_HALF_OPEN = 2 } breaker_state;

typedef enum {
    BREAKER_GO,    /* send the request */
    BREAKER_PROBE, /* send it as the one probe; report it with probe = 1 */
    BREAKER_WAIT,  /* do not send; ask again after *wait_ms */
} breaker_ticket;

/* How often a caller waiting behind a probe in flight asks again. */
#define BREAKER_PROBE_POLL_MS 50

typedef struct {
    long threshold;
    int64_t cooldown_base_ms;
    int64_t cooldown_max_ms;
    int64_t cooldown_ms; /* the current one: doubles per failed probe */
    breaker_state state;
    long failures; /* consecutive, while closed */
    int64_t open_until;
    int probing; /* a probe is in flight (half-open) */
} breaker;

void breaker_init(breaker *b, long threshold, int64_t cooldown_ms, int64_t cooldown_max_ms);

/* May a request go now? */
breaker_ticket breaker_acquire(breaker *b, int64_t now_ms, int64_t *wait_ms);

/* Reports a request's outcome: failed = 1 when the endpoint failed (no
 * answer or a 5xx), 0 when it answered otherwise. Any answer closes the
 * breaker: the endpoint is reachable. Failures of requests that were
 * already in flight when it opened change nothing. Returns 1 when this
 * report opened the breaker. */
int breaker_report(breaker *b, int64_t now_ms, int probe, int failed);

/* An open breaker sends no probe before until_ms (the endpoint asked for
 * that long with Retry-After); a shorter hold, or a closed breaker, changes
 * nothing. */
void breaker_hold(breaker *b, int64_t until_ms);

/* Gives back a probe ticket that sent nothing (a local failure): the
 * breaker is open again with its cooldown unchanged and already over, so
 * another caller may probe at once. */
void breaker_release_probe(breaker *b, int64_t now_ms);

breaker_state breaker_get_state(const breaker *b);

#endif
