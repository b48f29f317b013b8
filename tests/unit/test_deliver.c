/* Unit tests of attune-deliver's pure parts: which answers are retried, the
 * backoff bounds, Retry-After parsing, the circuit breaker's state machine,
 * HMAC-SHA256 (RFC 4231 vectors) and the signature header, the progress
 * table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "breaker.h"
#include "progress.h"
#include "retry.h"
#include "sign.h"
#include "hmac.h"

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(retry_classify(200), RETRY_DELIVERED);
    assert_int_equal(retry_classify(204), RETRY_DELIVERED);
    assert_int_equal(retry_classify(0), RETRY_AGAIN);
    assert_int_equal(retry_classify(408), RETRY_AGAIN);
    assert_int_equal(retry_classify(429), RETRY_AGAIN);
    assert_int_equal(retry_classify(500), RETRY_AGAIN);
    assert_int_equal(retry_classify(503), RETRY_AGAIN);
    assert_int_equal(retry_classify(599), RETRY_AGAIN);
    assert_int_equal(retry_classify(400), RETRY_REJECT);
    assert_int_equal(retry_classify(401), RETRY_REJECT);
    assert_int_equal(retry_classify(404), RETRY_REJECT);
    assert_int_equal(retry_classify(409), RETRY_REJECT);
    assert_int_equal(retry_classify(301), RETRY_REJECT);
    assert_int_equal(retry_classify(100), RETRY_REJECT);
    /* The breaker counts only what says the endpoint itself fails. */
    assert_true(retry_endpoint_failed(0));
    assert_true(retry_endpoint_failed(500));
    assert_false(retry_endpoint_failed(429));
    assert_false(retry_endpoint_failed(408));
    assert_false(retry_endpoint_failed(400));
    assert_true(retry_honours_retry_after(429));
    assert_true(retry_honours_retry_after(503));
    assert_false(retry_honours_retry_after(500));
}

static void test_backoff_bounds(void **state)
{
    (void)state;
    uint64_t rng = 42;
    for (long attempts = 1; attempts <= 70; attempts++) {
        long cap = 200;
        for (long i = 1; i < attempts && cap < 30000; i++)
            cap = cap * 2 > 30000 ? 30000 : cap * 2;
        for (int k = 0; k < 200; k++) {
            long d = retry_backoff_ms(attempts, 200, 30000, retry_rand(&rng));
            assert_true(d >= 0 && d <= cap);
        }
        /* The top of the range is reachable: full jitter, not a fraction. */
        assert_int_equal(retry_backoff_ms(attempts, 200, 30000, (uint32_t)cap), cap);
    }
    assert_int_equal(retry_backoff_ms(1, 200, 30000, 0), 0);
    assert_int_equal(retry_backoff_ms(1000000, 1, 3600000, UINT32_MAX), UINT32_MAX % 3600001);
    /* A base above the maximum is cut to it. */
    assert_true(retry_backoff_ms(1, 5000, 100, UINT32_MAX) <= 100);
}

static void test_retry_after(void **state)
{
    (void)state;
    long ms = -1;
    const int64_t date = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
    assert_int_equal(retry_after_parse("1", 0, 300000, &ms), 0);
    assert_int_equal(ms, 1000);
    assert_int_equal(retry_after_parse(" 120 ", 0, 300000, &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(retry_after_parse("0", 0, 300000, &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(retry_after_parse("3600", 0, 300000, &ms), 0);
    assert_int_equal(ms, 300000);
    assert_int_equal(retry_after_parse("99999999999999999999999", 0, 5000, &ms), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", date - 10, 300000, &ms), 0);
    assert_int_equal(ms, 10000);
    assert_int_equal(retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", date + 10, 300000, &ms), 0);
    assert_int_equal(ms, 0);
    /* The obsolete RFC 850 form is still an HTTP-date. */
    assert_int_equal(retry_after_parse("Wednesday, 21-Oct-15 07:28:00 GMT", date - 2, 300000, &ms),
                     0);
    assert_int_equal(ms, 2000);
    assert_int_equal(retry_after_parse("", 0, 300000, &ms), -1);
    assert_int_equal(retry_after_parse("12s", 0, 300000, &ms), -1);
    assert_int_equal(retry_after_parse("-5", 0, 300000, &ms), -1);
    assert_int_equal(retry_after_parse("soon", 0, 300000, &ms), -1);
    assert_int_equal(retry_after_parse(NULL, 0, 300000, &ms), -1);
}

static void test_breaker_opens_after_consecutive_failures(void **state)
{
    (void)state;
    breaker b;
    int64_t wait = 0;
    breaker_init(&b, 3, 1000, 5000);
    assert_int_equal(breaker_acquire(&b, 0, &wait), BREAKER_GO);
    assert_int_equal(breaker_report(&b, 0, 0, 1), 0);
    assert_int_equal(breaker_report(&b, 0, 0, 1), 0);
    /* An answer in between resets the count: not consecutive. */
    assert_int_equal(breaker_report(&b, 0, 0, 0), 0);
    assert_int_equal(breaker_report(&b, 0, 0, 1), 0);
    assert_int_equal(breaker_report(&b, 0, 0, 1), 0);
    assert_int_equal(breaker_get_state(&b), BREAKER_CLOSED);
    assert_int_equal(breaker_report(&b, 100, 0, 1), 1);
    assert_int_equal(breaker_get_state(&b), BREAKER_OPEN);
    /* Open: nothing goes until the cooldown has passed. */
    assert_int_equal(breaker_acquire(&b, 600, &wait), BREAKER_WAIT);
    assert_int_equal(wait, 500);
    /* A failure of a request already in flight changes nothing. */
    assert_int_equal(breaker_report(&b, 700, 0, 1), 0);
    assert_int_equal(breaker_acquire(&b, 1099, &wait), BREAKER_WAIT);
    assert_int_equal(wait, 1);
    /* Then exactly one probe. */
    assert_int_equal(breaker_acquire(&b, 1100, &wait), BREAKER_PROBE);
    assert_int_equal(breaker_get_state(&b), BREAKER_HALF_OPEN);
    assert_int_equal(breaker_acquire(&b, 1100, &wait), BREAKER_WAIT);
    assert_int_equal(wait, BREAKER_PROBE_POLL_MS);
    /* The probe fails: open again, the cooldown doubled. */
    assert_int_equal(breaker_report(&b, 1200, 1, 1), 1);
    assert_int_equal(breaker_get_state(&b), BREAKER_OPEN);
    assert_int_equal(breaker_acquire(&b, 1200, &wait), BREAKER_WAIT);
    assert_int_equal(wait, 2000);
    assert_int_equal(breaker_acquire(&b, 3200, &wait), BREAKER_PROBE);
    assert_int_equal(breaker_report(&b, 3200, 1, 1), 1);
    assert_int_equal(breaker_acquire(&b, 3200, &wait), BREAKER_WAIT);
    assert_int_equal(wait, 4000);
    assert_int_equal(breaker_acquire(&b, 7200, &wait), BREAKER_PROBE);
    assert_int_equal(breaker_report(&b, 7200, 1, 1), 1);
    assert_int_equal(breaker_acquire(&b, 7200, &wait), BREAKER_WAIT);
    assert_int_equal(wait, 5000); /* capped */
    /* The probe succeeds: closed, and the cooldown starts over. */
    assert_int_equal(breaker_acquire(&b, 12200, &wait), BREAKER_PROBE);
    assert_int_equal(breaker_report(&b, 12200, 1, 0), 0);
    assert_int_equal(breaker_get_state(&b), BREAKER_CLOSED);
    assert_int_equal(breaker_acquire(&b, 12200, &wait), BREAKER_GO);
    for (int i = 0; i < 2; i++)
        assert_int_equal(breaker_report(&b, 12300, 0, 1), 0);
    assert_int_equal(breaker_report(&b, 12300, 0, 1), 1);
    assert_int_equal(breaker_acquire(&b, 12300, &wait), BREAKER_WAIT);
    assert_int_equal(wait, 1000);
}

static void test_breaker_any_answer_closes(void **state)
{
    (void)state;
    breaker b;
    int64_t wait = 0;
    breaker_init(&b, 1, 100, 100);
    assert_int_equal(breaker_report(&b, 0, 0, 1), 1);
    assert_int_equal(breaker_acquire(&b, 100, &wait), BREAKER_PROBE);
    /* The probe got a 429 or a 400: the endpoint is reachable. */
    assert_int_equal(breaker_report(&b, 110, 1, 0), 0);
    assert_int_equal(breaker_get_state(&b), BREAKER_CLOSED);
    /* The cooldown never grows past its maximum, even when max < base. */
    breaker_init(&b, 1, 500, 100);
    assert_int_equal(breaker_report(&b, 0, 0, 1), 1);
    assert_int_equal(breaker_acquire(&b, 0, &wait), BREAKER_WAIT);
    assert_int_equal(wait, 500);
}

static void test_breaker_probe_given_back(void **state)
{
    (void)state;
    breaker b;
    int64_t wait = 0;
    breaker_init(&b, 1, 100, 1000);
    assert_int_equal(breaker_report(&b, 0, 0, 1), 1);
    assert_int_equal(breaker_acquire(&b, 100, &wait), BREAKER_PROBE);
    /* The probe sent nothing: another may go at once, same cooldown. */
    breaker_release_probe(&b, 150);
    assert_int_equal(breaker_get_state(&b), BREAKER_OPEN);
    assert_int_equal(breaker_acquire(&b, 150, &wait), BREAKER_PROBE);
    assert_int_equal(b.cooldown_ms, 100);
    /* Down or busy, or the decision's own failure. */
    assert_true(retry_endpoint_down(0) && retry_endpoint_down(503) && retry_endpoint_down(429));
    assert_true(retry_endpoint_down(502) && retry_endpoint_down(504));
    assert_false(retry_endpoint_down(500) || retry_endpoint_down(501) || retry_endpoint_down(200));
}

/* An endpoint's Retry-After holds an open breaker's probe back, never
 * brings it forward, and does nothing to a closed breaker. */
static void test_breaker_holds_for_retry_after(void **state)
{
    (void)state;
    breaker b;
    int64_t wait = 0;
    breaker_init(&b, 1, 100, 1000);
    breaker_hold(&b, 5000); /* closed: nothing to hold */
    assert_int_equal(breaker_acquire(&b, 0, &wait), BREAKER_GO);
    assert_int_equal(breaker_report(&b, 0, 0, 1), 1);
    breaker_hold(&b, 2000);
    assert_int_equal(breaker_acquire(&b, 150, &wait), BREAKER_WAIT);
    assert_int_equal(wait, 1850);
    breaker_hold(&b, 1000); /* shorter: the longer stays */
    assert_int_equal(breaker_acquire(&b, 1500, &wait), BREAKER_WAIT);
    assert_int_equal(wait, 500);
    assert_int_equal(breaker_acquire(&b, 2000, &wait), BREAKER_PROBE);
    assert_int_equal(b.cooldown_ms, 100); /* the cooldown itself is unchanged */
}

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    char out[HMAC_SHA256_HEX_LEN + 1];
    unsigned char key1[20];
    memset(key1, 0x0b, sizeof key1);
    const hmac_part p1[] = {{"Hi There", 8}};
    assert_int_equal(hmac_sha256_hex(key1, sizeof key1, p1, 1, out), ATTUNE_OK);
    assert_string_equal(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* Test case 2, its data in three pieces: the MAC is of the concatenation. */
    const hmac_part p2[] = {{"what do ya", 10}, {" want ", 6}, {"for nothing?", 12}};
    assert_int_equal(hmac_sha256_hex("Jefe", 4, p2, 3, out), ATTUNE_OK);
    assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_signature_header(void **state)
{
    (void)state;
    char out[SIGN_HEADER_MAX];
    const char body[] = "{\"id\":\"a\"}";
    assert_int_equal(sign_header("whsec-test", 10, 1700000000, body, strlen(body), out, sizeof out),
                     ATTUNE_OK);
    /* Python: hmac.new(b"whsec-test", b"1700000000." + body, sha256). */
    assert_string_equal(
        out, "t=1700000000,v1=d4dd0b6596000ae097b77725700bfa5351452d095abb19f5a20f184344cb7c97");
    assert_int_equal(sign_header("k", 1, 1, body, strlen(body), out, 10), ATTUNE_ERR_LIMIT);
}

static void test_progress_table(void **state)
{
    (void)state;
    progress p;
    assert_int_equal(progress_init(&p, 4), ATTUNE_OK);
    progress_reserve(&p, 4);
    progress_entry *a = progress_get(&p, 0, 10);
    a->attempts = 3;
    a->done = 1;
    progress_entry *b = progress_get(&p, 1, 10);
    assert_ptr_not_equal(a, b);
    assert_int_equal(b->attempts, 0);
    assert_ptr_equal(progress_get(&p, 0, 10), a);
    assert_int_equal(progress_get(&p, 0, 10)->attempts, 3);
    /* Past half full, a reserve forgets everything (costs only repeats). */
    for (int64_t off = 0; off < 14; off++)
        (void)progress_get(&p, 2, off);
    progress_reserve(&p, 4);
    assert_int_equal(progress_get(&p, 0, 10)->done, 0);
    progress_clear(&p);
    assert_int_equal(p.count, 0);
    progress_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_breaker_opens_after_consecutive_failures),
        cmocka_unit_test(test_breaker_any_answer_closes),
        cmocka_unit_test(test_breaker_probe_given_back),
        cmocka_unit_test(test_breaker_holds_for_retry_after),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_signature_header),
        cmocka_unit_test(test_progress_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
