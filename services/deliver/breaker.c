#include "breaker.h"

void breaker_init(breaker *b, long threshold, int64_t cooldown_ms, int64_t cooldown_max_ms)
{
    b->threshold = threshold > 0 ? threshold : 1;
    b->cooldown_base_ms = cooldown_ms;
    b->cooldown_max_ms = cooldown_max_ms > cooldown_ms ? cooldown_max_ms : cooldown_ms;
    b->cooldown_ms = cooldown_ms;
    b->state = BREAKER_CLOSED;
    b->failures = 0;
    b->open_until = 0;
    b->probing = 0;
}

breaker_ticket breaker_acquire(breaker *b, int64_t now_ms, int64_t *wait_ms)
{
    *wait_ms = 0;
    switch (b->state) {
    case BREAKER_CLOSED:
        return BREAKER_GO;
    case BREAKER_OPEN:
        if (now_ms < b->open_until) {
            *wait_ms = b->open_until - now_ms;
            return BREAKER_WAIT;
        }
        b->state = BREAKER_HALF_OPEN;
        b->probing = 1;
        return BREAKER_PROBE;
    case BREAKER_HALF_OPEN:
    default:
        /* One probe at a time: a dead endpoint gets one request per
         * cooldown, not one per worker. */
        *wait_ms = BREAKER_PROBE_POLL_MS;
        return BREAKER_WAIT;
    }
}

static void open_for(breaker *b, int64_t now_ms, int64_t cooldown_ms)
{
    b->cooldown_ms = cooldown_ms;
    b->state = BREAKER_OPEN;
    b->open_until = now_ms + cooldown_ms;
    b->probing = 0;
    b->failures = 0;
}

int breaker_report(breaker *b, int64_t now_ms, int probe, int failed)
{
    if (!failed) {
        b->state = BREAKER_CLOSED;
        b->failures = 0;
        b->probing = 0;
        b->cooldown_ms = b->cooldown_base_ms;
        return 0;
    }
    if (probe && b->state == BREAKER_HALF_OPEN && b->probing) {
        int64_t next =
            b->cooldown_ms > b->cooldown_max_ms / 2 ? b->cooldown_max_ms : b->cooldown_ms * 2;
        open_for(b, now_ms, next);
        return 1;
    }
    if (b->state != BREAKER_CLOSED)
        return 0;
    if (++b->failures >= b->threshold) {
        open_for(b, now_ms, b->cooldown_base_ms);
        return 1;
    }
    return 0;
}

void breaker_hold(breaker *b, int64_t until_ms)
{
    if (b->state == BREAKER_OPEN && until_ms > b->open_until)
        b->open_until = until_ms;
}

void breaker_release_probe(breaker *b, int64_t now_ms)
{
    if (b->state != BREAKER_HALF_OPEN)
        return;
    b->state = BREAKER_OPEN;
    b->open_until = now_ms;
    b->probing = 0;
}

breaker_state breaker_get_state(const breaker *b)
{
    return b->state;
}
