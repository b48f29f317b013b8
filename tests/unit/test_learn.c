/* Unit tests of learn: the counts table, the Beta sampler, the
 * Thompson-sampling chooser with and without a control group, and the
 * replay of a decision's recorded picks. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "learn.h"

static void test_counts_table(void **state)
{
    (void)state;
    learn_counts *c = learn_counts_new();
    assert_non_null(c);
    /* Enough entries to make the table grow several times. */
    for (int i = 0; i < 1000; i++) {
        char bucket[32];
        snprintf(bucket, sizeof bucket, "b%d", i);
        assert_int_equal(learn_counts_add(c, "rule", bucket, "a", i, 1), 0);
        assert_int_equal(learn_counts_add(c, "rule", bucket, "a", 1, 0), 0);
    }
    long s, f;
    learn_counts_get(c, "rule", "b500", "a", &s, &f);
    assert_int_equal(s, 501);
    assert_int_equal(f, 1);
    learn_counts_get(c, "rule", "b500", "b", &s, &f);
    assert_int_equal(s + f, 0);
    learn_counts_get(c, "other", "b500", "a", &s, &f);
    assert_int_equal(s + f, 0);
    learn_counts_clear(c);
    learn_counts_get(c, "rule", "b1", "a", &s, &f);
    assert_int_equal(s + f, 0);
    learn_counts_free(c);
    learn_counts_free(NULL);
}

static void test_beta_moments(void **state)
{
    (void)state;
    uint64_t rng = 42;
    const double a = 8, b = 4;
    const int n = 40000;
    double sum = 0, sq = 0;
    for (int i = 0; i < n; i++) {
        double x = learn_beta(&rng, a, b);
        assert_true(x > 0 && x < 1);
        sum += x;
        sq += x * x;
    }
    double mean = sum / n, var = sq / n - mean * mean;
    double want_mean = a / (a + b), want_var = a * b / ((a + b) * (a + b) * (a + b + 1));
    assert_true(fabs(mean - want_mean) < 0.005);
    assert_true(fabs(var - want_var) < 0.002);
    /* Beta(1, 1) is uniform. */
    sum = 0;
    for (int i = 0; i < n; i++)
        sum += learn_beta(&rng, 1, 1);
    assert_true(fabs(sum / n - 0.5) < 0.01);
}

static int pick_share(learn_chooser *ch, size_t want, int rounds, int *control)
{
    const char *names[] = {"a", "b"};
    int hits = 0;
    *control = 0;
    for (int i = 0; i < rounds; i++) {
        char iid[32];
        snprintf(iid, sizeof iid, "i-%d", i);
        policy_variant_query q = {"rule", names, 2, iid, "bucket"};
        policy_variant_pick p = {0, NULL, -1};
        learn_choose(ch, &q, &p);
        assert_true(p.index < 2);
        if (strcmp(p.method, "control") == 0) {
            (*control)++;
            assert_true(p.sampled < 0);
        } else {
            assert_string_equal(p.method, "thompson");
            assert_true(p.sampled > 0 && p.sampled < 1);
        }
        hits += p.index == want;
    }
    return hits;
}

static void test_thompson_chooser(void **state)
{
    (void)state;
    learn_counts *c = learn_counts_new();
    learn_chooser ch;
    int control;
    /* Nothing learned: both variants get their chance. */
    learn_chooser_init(&ch, c, 0, 7);
    int b = pick_share(&ch, 1, 2000, &control);
    assert_true(b > 800 && b < 1200);
    assert_int_equal(control, 0);
    /* b resolves 70 of 100, a 40 of 100: b wins nearly always. */
    assert_int_equal(learn_counts_add(c, "rule", "bucket", "a", 40, 60), 0);
    assert_int_equal(learn_counts_add(c, "rule", "bucket", "b", 70, 30), 0);
    b = pick_share(&ch, 1, 2000, &control);
    assert_true(b > 1950);
    /* Counts of another bucket do not leak into this one. */
    assert_int_equal(learn_counts_add(c, "rule", "other", "a", 1000, 0), 0);
    b = pick_share(&ch, 1, 2000, &control);
    assert_true(b > 1950);
    /* A control share of 0.3: about 30% uniform picks, half of them a. */
    learn_chooser_init(&ch, c, 0.3, 11);
    b = pick_share(&ch, 1, 4000, &control);
    assert_true(control > 1000 && control < 1400);
    int a_share = 4000 - b;
    assert_true(a_share > control / 2 - 150 && a_share < control / 2 + 150);
    /* The same interaction and rule on the same counts: the same pick,
     * whichever chooser (a retried batch, another replica); another
     * interaction draws afresh. */
    learn_chooser x, y;
    learn_chooser_init(&x, c, 0.3, 0);
    learn_chooser_init(&y, c, 0.3, 0);
    const char *names[] = {"a", "b"};
    int differ = 0;
    for (int i = 0; i < 200; i++) {
        char iid[32];
        snprintf(iid, sizeof iid, "int-%d", i);
        policy_variant_query q = {"rule", names, 2, iid, "bucket"};
        policy_variant_pick px, py, pz;
        learn_choose(&x, &q, &px);
        learn_choose(&y, &q, &py);
        learn_choose(&x, &q, &pz);
        assert_int_equal(px.index, py.index);
        assert_int_equal(px.index, pz.index);
        assert_string_equal(px.method, py.method);
        differ |= px.sampled != py.sampled;
        q.interaction_id = "other";
        learn_choose(&x, &q, &pz);
        differ |= pz.sampled != px.sampled ? 2 : 0;
    }
    assert_int_equal(differ, 2);
    learn_counts_free(c);
}

static void test_choose_again(void **state)
{
    (void)state;
    learn_counts *c = learn_counts_new();
    /* The counts favour b by far: a fresh pick is b. */
    assert_int_equal(learn_counts_add(c, "tone", "bucket", "a", 1, 99), 0);
    assert_int_equal(learn_counts_add(c, "tone", "bucket", "b", 99, 1), 0);
    assert_int_equal(learn_counts_add(c, "offer", "bucket", "a", 1, 99), 0);
    assert_int_equal(learn_counts_add(c, "offer", "bucket", "b", 99, 1), 0);
    learn_chooser ch;
    learn_chooser_init(&ch, c, 0, 3);
    const char *names[] = {"a", "b"};
    policy_variant_query q = {"tone", names, 2, "int-1", "bucket"};
    policy_variant_pick p;
    learn_again again = {&ch, NULL};
    learn_choose_again(&again, &q, &p);
    assert_int_equal(p.index, 1);
    /* The record says this event's decision picked a, by Thompson, having
     * drawn 0.8125: deciding it again picks the same, draw and all,
     * whatever the counts say now. */
    cJSON *choices = cJSON_Parse("[{\"rule\":\"pace\",\"variant\":\"slow\",\"method\":"
                                 "\"control\"},{\"rule\":\"tone\",\"variant\":\"a\","
                                 "\"method\":\"thompson\",\"sampled\":0.8125}]");
    assert_non_null(choices);
    char picks[256], list[128];
    learn_picks_write(choices, picks, sizeof picks, list, sizeof list);
    assert_string_equal(list, "pace:slow,tone:a");
    assert_string_equal(picks, "pace:slow:control:-1,tone:a:thompson:0.8125");
    again.picks = picks;
    learn_choose_again(&again, &q, &p);
    assert_int_equal(p.index, 0);
    assert_string_equal(p.method, "thompson");
    assert_true(p.sampled == 0.8125);
    /* A rule the record does not name, a variant the rule no longer has,
     * a record that cannot be read: a fresh pick. */
    q.rule_id = "offer";
    learn_choose_again(&again, &q, &p);
    assert_int_equal(p.index, 1);
    q.rule_id = "pace";
    learn_choose_again(&again, &q, &p); /* "slow" is not among a, b */
    assert_string_equal(p.method, "thompson");
    q.rule_id = "tone";
    static const char *const bad[] = {"tone:a",
                                      "tone:a:guess:0.5",
                                      "tone:a:thompson:2",
                                      "tone:a:thompson:",
                                      "tone:a:thompson:x",
                                      ",,tone",
                                      ""};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        again.picks = bad[k];
        learn_choose_again(&again, &q, &p);
        if (p.index != 1)
            fail_msg("\"%s\" replayed", bad[k]);
    }
    /* Picks that do not fit are left out whole, never cut, and of both
     * strings alike: what is replayed is what is learned. */
    learn_picks_write(choices, picks, 24, list, 12);
    assert_string_equal(picks, "pace:slow:control:-1");
    assert_string_equal(list, "pace:slow");
    learn_picks_write(choices, picks, 24, list, sizeof list);
    assert_string_equal(list, "pace:slow");
    learn_picks_write(choices, picks, sizeof picks, list, 12);
    assert_string_equal(picks, "pace:slow:control:-1");
    cJSON_Delete(choices);
    learn_counts_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_table),
        cmocka_unit_test(test_beta_moments),
        cmocka_unit_test(test_thompson_chooser),
        cmocka_unit_test(test_choose_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
