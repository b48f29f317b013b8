/* Unit tests of the classifier: one test per rule (tokenizer, negation,
 * intensifiers, contrast, emphasis, idioms, domain words, emotion, threats
 * versus profanity, urgency, preferences, intent, evidence, JSON, batch
 * lines, limits, concurrent use). They load the shipped data directory. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "classify/classify.h"
#include "classify/classify_int.h"

static classify *clf;

/* $ATTUNE_DATA_DIR when it holds the lexicons, else deploy/data from the
 * repository root (where make runs the tests). */
static const char *data_dir(void)
{
    static char buf[4096];
    const char *env = getenv("ATTUNE_DATA_DIR");
    struct stat st;
    if (env && env[0]) {
        snprintf(buf, sizeof buf, "%s/valence.tsv", env);
        if (stat(buf, &st) == 0)
            return env;
    }
    return "deploy/data";
}

static int setup(void **state)
{
    (void)state;
    char err[512];
    classify_options o = {.data_dir = data_dir(), .intent_model = NULL};
    if (classify_new(&o, &clf, err, sizeof err) != ATTUNE_OK) {
        fprintf(stderr, "classify_new: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    classify_free(clf);
    clf = NULL;
    return 0;
}

static classify_result run_ctx(const char *text, const classify_context *ctx)
{
    classify_result r;
    assert_int_equal(classify_text(clf, text, strlen(text), ctx, &r), ATTUNE_OK);
    return r;
}

static classify_result run(const char *text)
{
    return run_ctx(text, NULL);
}

/* Fails naming the first of texts[n] whose urgency.vulnerable is not want. */
static void expect_vulnerable(const char *const *texts, size_t n, int want)
{
    for (size_t k = 0; k < n; k++)
        if (run(texts[k]).urgency.vulnerable != want)
            fail_msg("\"%s\" read %s", texts[k], want ? "no vulnerability" : "as a vulnerability");
}

/* The channel, avoided channel and contact time read from text. */
static void expect_prefs(const char *text, const char *channel, const char *avoid, const char *time)
{
    classify_result r = run(text);
    if (strcmp(r.preferences.channel, channel) != 0 ||
        strcmp(r.preferences.avoid_channel, avoid) != 0 ||
        strcmp(r.preferences.contact_time, time) != 0)
        fail_msg("\"%s\": channel '%s', avoid '%s', time '%s'", text, r.preferences.channel,
                 r.preferences.avoid_channel, r.preferences.contact_time);
}

static float score(const char *text)
{
    return run(text).sentiment.score;
}

/* A text and the reading it should get: a sentiment label, an urgency
 * level or a threat level, as the assert that reads it says. */
typedef struct {
    const char *text;
    int want;
} reading_case;

typedef enum { READ_SENTIMENT, READ_URGENCY, READ_THREAT } reading;

/* Asserts the reading of each case, naming the text that fails. */
static void assert_readings(const reading_case *cases, size_t n, reading what)
{
    static const char *const names[] = {"label", "urgency", "threat"};
    for (size_t k = 0; k < n; k++) {
        const classify_result r = run(cases[k].text);
        const int got = what == READ_SENTIMENT ? (int)r.sentiment.label
                        : what == READ_URGENCY ? (int)r.urgency.level
                                               : (int)r.threat.level;
        if (got != cases[k].want)
            fail_msg("\"%s\": %s %d, want %d", cases[k].text, names[what], got, cases[k].want);
    }
}

static void assert_labels(const reading_case *cases, size_t n)
{
    assert_readings(cases, n, READ_SENTIMENT);
}

static void assert_urgency_levels(const reading_case *cases, size_t n)
{
    assert_readings(cases, n, READ_URGENCY);
}

static void assert_threat_levels(const reading_case *cases, size_t n)
{
    assert_readings(cases, n, READ_THREAT);
}

/* The first evidence item of this kind and rule (and text, unless NULL),
 * or NULL. */
static const classify_evidence *find_evidence(const classify_result *r, classify_evidence_kind kind,
                                              const char *rule, const char *text)
{
    for (unsigned i = 0; i < r->n_evidence; i++)
        if (r->evidence[i].kind == kind && strcmp(r->evidence[i].rule, rule) == 0 &&
            (!text || strcmp(r->evidence[i].text, text) == 0))
            return &r->evidence[i];
    return NULL;
}

static int has_evidence(const classify_result *r, classify_evidence_kind kind, const char *rule)
{
    return find_evidence(r, kind, rule, NULL) != NULL;
}

static const char *evidence_text(const classify_result *r, classify_evidence_kind kind,
                                 const char *rule)
{
    const classify_evidence *e = find_evidence(r, kind, rule, NULL);
    return e ? e->text : NULL;
}

/* --- tokenizer ------------------------------------------------------------- */

static ctok_buf tb; /* too big for a test's stack under ASan */

static void test_tokenizer_normalises(void **state)
{
    (void)state;
    const char *s = "CAFÉ can’t f***ing sooo :) \xF0\x9F\x98\xA1 wait!!!?";
    ctok_run(s, strlen(s), &tb);
    assert_int_equal(tb.n, 8);
    assert_memory_equal(ctok_text(&tb, 0), "cafe", 4);
    assert_true(tb.tok[0].flags & CTOK_F_ALLCAPS);
    assert_int_equal(tb.tok[1].norm_len, 5);
    assert_memory_equal(ctok_text(&tb, 1), "can't", 5);
    assert_memory_equal(ctok_text(&tb, 2), "f***ing", 7);
    assert_true(tb.tok[3].flags & CTOK_F_ELONG);
    assert_memory_equal(ctok_text(&tb, 3), "soo", 3);
    assert_int_equal(tb.tok[4].kind, CTOK_EMOTICON);
    assert_int_equal(tb.tok[5].kind, CTOK_EMOJI);
    assert_int_equal(tb.tok[7].kind, CTOK_PUNCT);
    assert_int_equal(tb.tok[7].n_excl, 3);
    assert_int_equal(tb.tok[7].n_quest, 1);
}

/* Texting and apostrophe-less spellings read as the standard word, on both
 * paths; a word that only looks like one stays. */
static void test_tokenizer_folds_texting(void **state)
{
    (void)state;
    static ctok_buf slow;
    const char *s = "DONT some1 2day b4 pls u ur txt p/n ill its Im sooo";
    static const char *const want[] = {"don't", "someone", "today", "before", "please",
                                       "you",   "ur",      "text",  "p",      "/",
                                       "n",     "ill",     "its",   "i'm",    "soo"};
    ctok_run_opts(s, strlen(s), &tb, 1);
    ctok_run_opts(s, strlen(s), &slow, 0);
    assert_int_equal(tb.n, sizeof want / sizeof want[0]);
    assert_int_equal(slow.n, tb.n);
    for (size_t i = 0; i < tb.n; i++) {
        if (tb.tok[i].norm_len != strlen(want[i]) ||
            memcmp(ctok_text(&tb, i), want[i], tb.tok[i].norm_len) != 0)
            fail_msg("token %zu: '%.*s', want '%s'", i, (int)tb.tok[i].norm_len, ctok_text(&tb, i),
                     want[i]);
        assert_true(tb.tok[i].hash == slow.tok[i].hash);
        assert_true(tb.tok[i].hash == ctok_hash_bytes(want[i], strlen(want[i])) ||
                    (tb.tok[i].flags & CTOK_F_ELONG));
    }
    assert_true(tb.tok[0].flags & CTOK_F_ALLCAPS); /* emphasis kept */
    /* an elongated form keeps its flag, and hash1 is its word squeezed
     * (as for every token: the fuzzer's invariant) */
    ctok_run_opts("youlllll", 8, &slow, 1);
    assert_int_equal(slow.n, 1);
    assert_memory_equal(ctok_text(&slow, 0), "you'll", 6);
    assert_true(slow.tok[0].flags & CTOK_F_ELONG);
    assert_true(slow.tok[0].hash1 == ctok_hash_bytes("you'l", 5));
    /* a calm message in capitals is still all in capitals: "U" is a
     * one-letter word when that is counted */
    ctok_run("PLS CALL ME BACK U SAID U WOULD", 31, &slow);
    assert_true(slow.all_caps_text);
    assert_int_equal(tb.tok[2].kind, CTOK_WORD); /* "2day" is no number */
    assert_int_equal(tb.n_nums, 0);
    /* so the rules read them: a fraud under way, an age, a refusal */
    assert_int_equal(run("some1 using my card RIGHT NOW").urgency.level, CLASSIFY_URGENCY_CRITICAL);
    assert_true(run("im 84 n dont understand the new app").urgency.vulnerable);
    classify_result r = run("pls just txt me, dont phone");
    assert_string_equal(r.preferences.channel, "sms");
    assert_string_equal(r.preferences.avoid_channel, "voice");
}

/* A hyphen inside a word joins its parts; one between spaces is a dash
 * that ends a clause. */
static void test_tokenizer_hyphen(void **state)
{
    (void)state;
    const char *s = "top-notch - mid-cycle 555-1234 -x";
    /* (between digits it stays, a range: "2-4pm") */
    ctok_run(s, strlen(s), &tb);
    assert_int_equal(tb.n, 10); /* top notch - mid cycle 555 - 1234 - x */
    assert_memory_equal(ctok_text(&tb, 1), "notch", 5);
    assert_int_equal(tb.tok[2].kind, CTOK_PUNCT);
    assert_true(tb.tok[2].flags & CTOK_F_CLAUSE_END);
    assert_memory_equal(ctok_text(&tb, 4), "cycle", 5);
    /* so a hyphenated idiom is read, and a question goes on past one */
    classify_result r = run("top-notch support");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "idiom"));
    assert_int_equal(run("Can I upgrade to the family plan mid-cycle?").sentiment.label,
                     CLASSIFY_NEUTRAL);
}

/* Invisible format characters inside a word (a soft hyphen, a zero-width
 * space, a byte order mark) leave the word whole, on both paths; between
 * words they are no token. */
static void test_tokenizer_format_chars(void **state)
{
    (void)state;
    const char *s = "my pass\xe2\x80\x8bword ang\xc2\xadry \xef\xbb\xbf"
                    "cancel \xe2\x80\x8b now";
    for (int fast = 0; fast <= 1; fast++) {
        ctok_run_opts(s, strlen(s), &tb, fast);
        assert_int_equal(tb.n, 5);
        assert_int_equal(tb.tok[1].norm_len, 8);
        assert_memory_equal(ctok_text(&tb, 1), "password", 8);
        assert_int_equal(tb.tok[2].norm_len, 5);
        assert_memory_equal(ctok_text(&tb, 2), "angry", 5);
        assert_memory_equal(ctok_text(&tb, 3), "cancel", 6);
        assert_memory_equal(ctok_text(&tb, 4), "now", 3);
    }
    assert_int_equal(run("I\xe2\x80\x99m so ang\xc2\xadry").emotion.label, CLASSIFY_EMO_ANGER);
    /* a run of them as well: "k<ZWSP><ZWSP>ill" is no way past the threat
     * lexicon */
    assert_int_equal(run("I will k\xe2\x80\x8b\xe2\x80\x8b"
                         "ill you")
                         .threat.level,
                     CLASSIFY_THREAT_THREAT);
}

static void test_tokenizer_handles_urls(void **state)
{
    (void)state;
    const char *s = "@Uber_Support hi (@bob) https://t.co/Ab1?x=2. Mail me@example.com @_";
    ctok_run(s, strlen(s), &tb);
    /* hi ( ) . mail me @ example . com @ _ : handles and the address make
     * no token, the full stop after the address still ends a sentence */
    assert_int_equal(tb.n, 12);
    assert_memory_equal(ctok_text(&tb, 0), "hi", 2);
    assert_int_equal(tb.tok[3].kind, CTOK_PUNCT);
    assert_true(tb.tok[3].flags & CTOK_F_SENT_END);
    assert_memory_equal(ctok_text(&tb, 5), "me", 2);
    assert_int_equal(tb.tok[10].kind, CTOK_PUNCT);
    /* "@5pm" is a time, not a handle */
    s = "meet @5pm";
    ctok_run(s, strlen(s), &tb);
    assert_int_equal(tb.n, 3);
    /* a scheme alone is no address */
    s = "http: https:// x";
    ctok_run(s, strlen(s), &tb);
    assert_memory_equal(ctok_text(&tb, 0), "http", 4);
    /* so a handle's words say nothing: "@NotHappyHelp" is no complaint */
    assert_int_equal(run("@NotHappy_Help hello").sentiment.label, CLASSIFY_NEUTRAL);
}

static void test_tokenizer_invalid_utf8(void **state)
{
    (void)state;
    const char s[] = "ok \xC3\x28 \xFF\xFE bad \xE2\x82 end\xF0";
    ctok_run(s, sizeof s - 1, &tb);
    assert_int_equal(tb.n, 4); /* ok ( bad end: invalid bytes are separators */
    classify_result r = run(s);
    assert_true(r.sentiment.score < 0);
}

static void test_tokenizer_limits(void **state)
{
    (void)state;
    size_t n = CLASSIFY_MAX_TEXT * 3;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (i % 2) ? ' ' : 'a';
    classify_result r;
    assert_int_equal(classify_text(clf, big, n, NULL, &r), ATTUNE_OK);
    assert_true(r.truncated);
    assert_true(r.n_tokens <= CLASSIFY_MAX_TOKENS);
    /* one giant word and a run of multi-byte characters */
    memset(big, 'z', n);
    assert_int_equal(classify_text(clf, big, n, NULL, &r), ATTUNE_OK);
    for (size_t i = 0; i + 2 < n; i += 2)
        big[i] = '\xC3', big[i + 1] = '\xA9';
    assert_int_equal(classify_text(clf, big, n, NULL, &r), ATTUNE_OK);
    free(big);
    assert_int_equal(classify_text(clf, NULL, 0, NULL, &r), ATTUNE_OK);
    assert_int_equal(r.sentiment.label, CLASSIFY_NEUTRAL);
    assert_int_equal(classify_text(NULL, "x", 1, NULL, &r), ATTUNE_ERR_INVALID);
}

/* The one-pass path for plain ASCII words must give exactly the tokens of
 * the general path: words next to apostrophes, digits next to : . ,
 * capitals, elongation, masked swearing, non-ASCII letters, emoticons that
 * start with letters, words across 8-byte chunks and longer than
 * CTOK_MAX_LEN, the token cap; and a token's hash must be
 * ctok_hash_bytes of its normalised bytes, as the lexicon's keys are. */
static ctok_buf tb_slow;

static void check_fast_path(const char *text, size_t len)
{
    ctok_run_opts(text, len, &tb, 1);
    ctok_run_opts(text, len, &tb_slow, 0);
    assert_int_equal(tb.n, tb_slow.n);
    assert_int_equal(tb.norm_used, tb_slow.norm_used);
    assert_memory_equal(tb.norm, tb_slow.norm, tb.norm_used);
    assert_int_equal(tb.n_words, tb_slow.n_words);
    assert_int_equal(tb.n_nums, tb_slow.n_nums);
    unsigned nums = 0;
    for (size_t i = 0; i < tb.n; i++)
        nums += tb.tok[i].kind == CTOK_NUM;
    assert_int_equal(tb.n_nums, nums);
    assert_int_equal(tb.all_caps_text, tb_slow.all_caps_text);
    assert_int_equal(tb.title_text, tb_slow.title_text);
    assert_int_equal(tb.truncated, tb_slow.truncated);
    for (size_t i = 0; i < tb.n; i++) {
        assert_memory_equal(&tb.tok[i], &tb_slow.tok[i], sizeof tb.tok[i]);
        assert_true(tb.tok[i].hash == ctok_hash_bytes(ctok_text(&tb, i), tb.tok[i].norm_len));
    }
}

static void test_tokenizer_fast_path(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "Hello WORLD, I'm sooo HAPPY!!! at 5:30pm on 12.05.2024, 1,000 items",
        "don't can't won't f***ing sh*t x_y snake_case abc'",
        "Café naïve ÉTÉ straße ﬁne ＡＢＣ 東京 \xf0\x9f\x98\xa1 emoji",
        "T_T xD XD D: Dx Tx xx TT DD Don't Xmas T-Rex :) <3 :-(",
        "aaa aaaa 111 1111 AAA Aa aA ABC1 1ABC a1a1 0x1F",
        "end. end, end: 3. 3, 3: 3.5 a.b a,b a:b '' 'quoted' word' 'word",
        "\xff\xfe broken \xc3 utf8 \xe2\x82 end",
        "CAPS ONLY TEXT HERE",
        "A Headline Made Of Title Words",
        /* words across 8-byte chunks, a letter three times across them */
        "abcdefgh abcdefghi abcdefgggh abcdefghhh ABCDEFGHIJ Abcdefghij abcdEFGH x",
        "1234567 12345678 123456789 1234567a aaaaaaa1 7x7",
        /* joined runs: apostrophes (typographic too), numbers */
        "don't DON'T Don't rock'n'roll 5'6 it's' 'tis o'\xc3\xa9 x'_ a'",
        "don\xe2\x80\x99t it\xe2\x80\x98s l\xca\xbc a\xe2\x80\x99 a\xe2\x80\x94"
        "b",
        "1,000,000 3.14159265 12:30:45 1.a a.1 1..2 1,,2 1:,2 abcdefg1.5 1234567,8",
        "",
    };
    /* every prefix too: words cut by the end of the text at each offset */
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        for (size_t len = 0; len <= strlen(texts[i]); len++)
            check_fast_path(texts[i], len);
    /* the squeezed spelling of an elongated word is hashed like the word */
    ctok_run_opts("sooo", 4, &tb, 1);
    assert_int_equal(tb.n, 1);
    assert_true(tb.tok[0].hash == ctok_hash_bytes("soo", 3));
    assert_true(tb.tok[0].hash1 == ctok_hash_bytes("so", 2));
    assert_true(ctok_hash_bytes("", 0) != 0);
    /* a word longer than a token may be, and one at the end of the text */
    char big[CLASSIFY_MAX_TEXT + 100];
    memset(big, 'q', sizeof big);
    for (size_t i = 70; i < sizeof big; i += 71)
        big[i] = ' ';
    check_fast_path(big, 300);
    check_fast_path(big, sizeof big);
    /* more words than tokens kept */
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (i % 3 == 2) ? ' ' : (char)('a' + i % 26);
    check_fast_path(big, sizeof big);
    /* more normalised bytes than tokens may be kept, under the token cap:
     * the fast path's room is renewed on the way */
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (i % 11 == 10)  ? ' '
                 : (i % 33 == 9) ? ','
                 : (i % 22 == 0) ? 'T'
                                 : (char)('a' + i % 26);
    check_fast_path(big, sizeof big);
    assert_true(tb.norm_used > CLASSIFY_MAX_TOKENS && tb.n < CLASSIFY_MAX_TOKENS);
    /* a web address whose scheme is the last token kept under the cap:
     * neither path takes it back, as the general path reads no further */
    size_t n = 0;
    for (size_t i = 0; i + 1 < CLASSIFY_MAX_TOKENS; i++, n += 2)
        memcpy(big + n, "a ", 2);
    memcpy(big + n, "http://x ", 9);
    n += 9;
    while (n + 2 <= sizeof big) {
        memcpy(big + n, "b ", 2);
        n += 2;
    }
    check_fast_path(big, n);
    assert_memory_equal(ctok_text(&tb, CLASSIFY_MAX_TOKENS - 1), "http", 4);
}

/* --- sentiment rules --------------------------------------------------------- */

static void test_sentiment_basic(void **state)
{
    (void)state;
    classify_result r = run("The agent was helpful and friendly.");
    assert_int_equal(r.sentiment.label, CLASSIFY_POSITIVE);
    r = run("The app is slow and the support was terrible.");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    r = run("I have a question about my account.");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEUTRAL);
    assert_true(r.sentiment.score >= -1 && r.sentiment.score <= 1);
}

static void test_negation(void **state)
{
    (void)state;
    assert_true(score("the update is good") > 0);
    assert_true(score("the update is not good") < 0);
    assert_true(score("the update isn't good") < 0);
    assert_true(score("the update is not really that good") < 0);
    /* scope ends at the clause */
    assert_true(score("not today, but the update is good") > 0);
    /* negations do not stack: "no" answers, "didn't" negates */
    assert_true(score("no that didn't help") < 0);
    assert_true(score("no it is not working") < 0);
    classify_result r = run("the update is not good");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "negation"));
}

static void test_intensifiers_and_dampeners(void **state)
{
    (void)state;
    float plain = score("the service was good");
    assert_true(score("the service was very good") > plain);
    assert_true(score("the service was extremely good") > plain);
    assert_true(score("the service was slightly good") < plain);
    assert_true(score("the delay was really bad") < score("the delay was bad"));
    /* a dampener of several words acts as one, and its words ("kind") carry
     * no valence of their own */
    float slow = score("the app is slow");
    assert_true(score("the app is kind of slow") < 0);
    assert_true(score("the app is kind of slow") > slow);
    assert_true(score("the app is a little slow") > slow);
    assert_int_equal(run("what kind of company does this").sentiment.label, CLASSIFY_NEUTRAL);
}

static void test_contrast(void **state)
{
    (void)state;
    assert_true(score("The food was great but the service was terrible") < 0);
    assert_true(score("The food was terrible but the service was great") > 0);
    assert_true(score("Although the staff were nice, the product is awful") < 0);
    classify_result r = run("nice people but useless product");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "contrast"));
}

static void test_emphasis(void **state)
{
    (void)state;
    assert_true(score("this is GREAT") > score("this is great"));
    assert_true(score("this is great!!!") > score("this is great"));
    assert_true(score("this is bad!!!") < score("this is bad"));
    assert_true(score("this is sooo good") > score("this is so good") - 0.01f);
    /* all in capitals: shouting everything emphasises nothing */
    assert_true(score("THIS IS GREAT") <= score("this is GREAT"));
    /* (a one-letter "I" is no sign of lower case) */
    assert_float_equal(score("I HATE MONDAYS"), score("i hate mondays"), 1e-6);
}

/* What an e-mail carries below the customer's words (quoted history, a
 * signature, a disclaimer) is not read: the company's own reply quoted back
 * is no threat of the customer's, its advert no joy, its times no
 * preference. */
/* A transcript of both speakers, labelled, is read as the customer's turns:
 * the agent's apology, script and promises are not the customer's. */
static void test_transcript_customer_turns(void **state)
{
    (void)state;
    classify_result r = run("Agent: I'm so sorry for the wait, how can I help you today?\n"
                            "Customer: my internet is down again");
    assert_null(evidence_text(&r, CLASSIFY_EV_SENTIMENT, "intensifier")); /* "so sorry" */
    assert_string_equal(r.intent.label, "technical_issue");
    r = run("Agent: I will call you back after 5pm\nCustomer: ok thanks");
    assert_string_equal(r.preferences.channel, "");
    assert_string_equal(r.preferences.contact_time, "");
    r = run("[00:00:01] Agent: you're through to billing, how may I help\n"
            "[00:00:04] Caller: you useless idiots charged me twice");
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_ABUSE);
    /* on one line too, turn after turn */
    r = run("Agent: Thank you for calling, calls may be recorded. Customer: I want to cancel "
            "my contract. Agent: May I ask why? Customer: too expensive");
    assert_string_equal(r.intent.label, "cancel");
    /* the agent's abuse is not the customer's */
    r = run("agent: you idiots never listen\ncustomer: hello, my bill is wrong");
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_NONE);
    /* a label alone is prose: "As a loyal customer: I expect better" */
    r = run("As a loyal customer: you useless idiots");
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_ABUSE);
}

static void test_email_quoted_history(void **state)
{
    (void)state;
    classify_result r =
        run("My order is two weeks late, can you give me a date?\n\nOn Tue, 18 Nov 2025 at "
            "09:12, Help Desk <help@shop.example> wrote:\n> Threats such as 'I will kill you' "
            "will be reported to the police.");
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_NONE);
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    r = run("Someone used my card for things I never bought.\n\n-----Original Message-----\n"
            "From: Shop\nSent: Monday\nThank you for your order! We love having you!");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    r = run("Please cancel my contract.\n\nFrom: Agent Smith\nSent: 12 May\n"
            "We will call you back after 5pm tomorrow.");
    assert_string_equal(r.preferences.contact_time, "");
    assert_string_equal(r.preferences.channel, "");
    r = run("My bill is wrong again and I'm fed up.\n-- \nJohn\nHave a wonderful day!");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    assert_true(run("Why was I charged twice?\n\nSent from my iPhone").n_tokens <= 6);
    r = run("Please call me back.\r\n-- \r\nJohn\r\nthreats such as I will kill you will be "
            "reported");
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_NONE);
    r = run("My train was cancelled.\nFrom: London Euston\nTo: Glasgow\nDate: 12 May\nI want a "
            "full refund, I am furious.");
    assert_true(r.n_tokens > 20);
    /* a text whose every line is quoted stays whole; other lines are read */
    assert_true(run("> I love it").sentiment.label == CLASSIFY_POSITIVE);
    assert_int_equal(run("Line one is fine.\nI love this service.").sentiment.label,
                     CLASSIFY_POSITIVE);
}

/* A hashtag written as one word is read as its words: its strongest one
 * counts, unless one of them negates; a hashtag the lexicon has is its own
 * word, and a word not after '#' is never split. */
static void test_hashtags(void **state)
{
    (void)state;
    assert_true(score("flight 322 #worstflightever") < -0.3f);
    assert_true(score("#BadCustomerService again") < -0.3f);
    assert_true(score("home early #bestdayever") > 0.3f);
    assert_float_equal(score("#notbad"), 0.0f, 1e-6);
    assert_float_equal(score("worstflightever"), 0.0f, 1e-6);
    assert_true(score("delayed again #fail") < score("delayed again"));
    /* too long to split, or made of no known words: nothing */
    assert_float_equal(score("#qwzxvplkjh"), 0.0f, 1e-6);
    assert_float_equal(
        score("#aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 0.0f, 1e-6);
}

static void test_idioms(void **state)
{
    (void)state;
    assert_true(score("thanks for nothing") < 0);
    assert_true(score("thank you for nothing") < 0);
    assert_true(score("no problem at all") > 0);
    assert_true(score("not bad") > 0);
    assert_true(score("I've been waiting for hours") < 0);
    /* a phrase of another file is matched whole: the idiom inside it
     * still counts, and so does its negation */
    static const char *const complaints[] = {
        "the heating not working again",
        "my internet isn't working",
        "still not resolved",
        "my broadband is down",
        "this is the third time asking",
        "I'm strongly considering taking my business elsewhere.",
        "Been on hold for over an hour now",
        "been sitting outside the gate for 30 mins",
        "I would never choose to fly with you again",
    };
    for (size_t k = 0; k < sizeof complaints / sizeof complaints[0]; k++)
        if (score(complaints[k]) >= 0)
            fail_msg("\"%s\" read %.3f", complaints[k], (double)score(complaints[k]));
    assert_true(score("not urgent, when you have a minute") == 0);
    /* the idiom a phrase of another file holds is scored, and the phrase's
     * own emotion is read: fraud under way is fear, not anger */
    assert_int_equal(
        run("I believe that someone is using my card without my knowledge!").emotion.label,
        CLASSIFY_EMO_FEAR);
    /* ... only within that phrase: the words after it are not negated */
    assert_true(score("no need to reply thanks so much") > 0);
    assert_true(score("no rush I am happy to wait") > 0);
    assert_int_equal(run("I can't cope i will punch you").threat.level, CLASSIFY_THREAT_THREAT);
    assert_string_equal(run("no rush email me when you can").preferences.channel, "email");
    assert_true(score("cannot wait any longer") < 0);
    /* a calm phrase or one that clears a word inherits nothing */
    assert_true(score("Thanks for the update, no reply needed") > 0);
    assert_true(score("it was just a joke lol") >= 0);
    /* waits: not counted twice, not a stay somewhere, not a loyalty */
    assert_true(score("I was on hold for 2 hours") >= score("on hold for over an hour") - 0.01f);
    assert_true(score("I was sitting on the beach with my family for 2 weeks") == 0);
    assert_true(score("After this I'll never shop anywhere else again, amazing") > 0);
    assert_true(score("Thanks to your app I never have to go to the bank again") > 0);
    assert_true(score("I never had that problem again after the update") >= 0);
    assert_true(score("I've been a customer for 10 years") == 0);
    classify_result r = run("well, thanks for nothing");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "idiom"));
    /* praise said through a negation: the phrase is the unit */
    {
        static const reading_case cases[] = {
            {"I can't thank you enough!", CLASSIFY_POSITIVE},
            {"I can't recommend them enough", CLASSIFY_POSITIVE},
            {"no complaints here", CLASSIFY_POSITIVE},
        };
        assert_labels(cases, sizeof cases / sizeof cases[0]);
    }
}

/* Abuse or a threat aimed at staff is hostile, whatever its words. */
static void test_hostile(void **state)
{
    (void)state;
    classify_result r = run("I'll find out where you live");
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_THREAT);
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "hostile"));
    /* praise of the product does not undo the insult */
    r = run("You idiot, but honestly the product itself is amazing, great, fantastic, love it!!!");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    /* swearing about a product is not hostility toward staff */
    r = run("this damn app");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "hostile"));
}

/* A word said on its own ("Great,", "Love it.") that comments on a
 * complaint is scorn; with thanks, before a "but", as a verdict that opens
 * a review, or as part of a statement ("great camera") it is praise. */
static void test_sarcasm(void **state)
{
    (void)state;
    classify_result r = run("Great, another outage. Just what I needed.");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "sarcasm"));
    /* a closing "NOT!" takes back what came before it */
    assert_int_equal(run("thanks for the call on my cancelled flight, NOT!").sentiment.label,
                     CLASSIFY_NEGATIVE);
    assert_int_equal(run("Great service... NOT").sentiment.label, CLASSIFY_NEGATIVE);
    assert_int_equal(run("Thanks, not bad at all!").sentiment.label, CLASSIFY_POSITIVE);
    assert_int_equal(run("Thank you for the quick refund, was it any hassle? Not!").sentiment.label,
                     CLASSIFY_POSITIVE);
    assert_int_equal(
        run("Thank you so much for sorting it. Was I worried? Not! You were brilliant!")
            .sentiment.label,
        CLASSIFY_POSITIVE);
    r = run("Great, another outage. Just what I needed.");
    assert_int_equal(r.emotion.label, CLASSIFY_EMO_ANGER);
    r = run("Oh great, my flight got cancelled again. Love it.");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    assert_true(r.emotion.label != CLASSIFY_EMO_JOY);
    assert_int_equal(run("Cool, my account is locked again").sentiment.label, CLASSIFY_NEGATIVE);
    r = run("Great, thanks for your help!");
    assert_int_equal(r.sentiment.label, CLASSIFY_POSITIVE);
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "sarcasm"));
    assert_int_equal(run("Perfect, that fixed it.").sentiment.label, CLASSIFY_POSITIVE);
    /* read as scorn, or not */
    static const struct {
        const char *text;
        int scorn;
    } cases[] = {
        {"My package is lost again. Great.", 1},
        /* a refund that "still hasn't" come is a fault that goes on */
        {"Great, so my refund still hasn't been released 9 days later.", 1},
        /* praise that greets one more of something */
        {"Wonderful, another price rise", 1},
        {"Oh brilliant, yet another automated survey", 1},
        {"Great, another happy customer thanks to you!", 0},
        /* praise left alone at the end needs less of a complaint; surprise does not */
        {"sitting at the gate, no updates, no announcements. great.", 1},
        {"no way I have never heard of that! wow!", 0},
        {"Great camera, terrible battery life and it crashed twice", 0},
        {"Great, but the app crashes when I log in", 0},
        /* a word that is not said as an interjection ("vivid" in a list) */
        {"Colours: vivid, washed out, broken and awful", 0},
        {"Great, thank you. I'm still locked out of my account though, it's frustrating.", 0},
        {"Love it. The battery is terrible.", 0},
        /* praise as a sentence of its own, before the fault it greets */
        {"Brilliant. Delayed again.", 1},
        {"Great. Another outage.", 1},
        {"Excellent. The engineer fixed it in ten minutes.", 0},
        {"Cool, I will try that. The previous fix did not work and the app is terrible.", 0},
        /* a no-show is a fault to greet; thanks for a fault done are not
         * meant, thanks for fixing or telling of one are */
        {"Wow, amazing, the third engineer who didn't turn up. Well done guys.", 1},
        {"Thanks so much for cutting off my internet on the day of my interview, really "
         "appreciate it",
         1},
        {"Thanks for fixing the broken boiler so fast", 0},
        {"Thanks for letting me know about the outage", 0},
        {"Thanks for warning me about the scam", 0},
        {"Thanks for fighting my corner with the courier", 0},
        {"thanks for losing my bag", 1},
        {"Thanks @brand for ruining Halloween, still no sign of the costume", 1},
        {"thanks for delaying my flight again", 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        r = run(cases[k].text);
        if (has_evidence(&r, CLASSIFY_EV_SENTIMENT, "sarcasm") != cases[k].scorn)
            fail_msg("\"%s\": sarcasm %s", cases[k].text, cases[k].scorn ? "missed" : "read");
    }
    assert_int_equal(run("Exactly what I needed.").sentiment.label, CLASSIFY_POSITIVE);
    assert_int_equal(run("This is just what I needed!").sentiment.label, CLASSIFY_POSITIVE);
    /* thanks said in scorn is not politeness; a polite "no thanks" is */
    assert_true(run("No thanks, I am all set.").preferences.politeness > 0.0f);
    assert_true(run("wow thanks for nothing").preferences.politeness == 0.0f);
    assert_true(run("wow thanks for nothing").sentiment.score < 0);
    assert_true(run("thanks for your help").preferences.politeness > 0.0f);
    /* an upside-down face: the praise of the message is not meant */
    r = run("Lost my wallet at the festival, brilliant \xf0\x9f\x99\x83");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "sarcasm"));
    /* loud crying with good news is tears of joy; with bad news, grief */
    r = run("We're buying our first house!!! \xf0\x9f\x98\xad\xe2\x9d\xa4\xef\xb8\x8f");
    assert_int_equal(r.sentiment.label, CLASSIFY_POSITIVE);
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "tears_of_joy"));
    assert_int_equal(r.emotion.label, CLASSIFY_EMO_JOY);
    r = run("my flight got cancelled \xf0\x9f\x98\xad");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "tears_of_joy"));
}

/* Laughter is joy with good news or on its own, and derision, worth
 * nothing, beside a clear complaint, wherever it stands in the message. */
static void test_laughter(void **state)
{
    (void)state;
    classify_result r = run("lmao your support bot is useless");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "derision"));
    assert_true(r.emotion.label != CLASSIFY_EMO_JOY);
    assert_true(score("my flight got delayed again and nobody told us lol") <=
                score("my flight got delayed again and nobody told us"));
    r = run("lol this is the best day ever");
    assert_int_equal(r.sentiment.label, CLASSIFY_POSITIVE);
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "derision"));
    assert_int_equal(run("haha that advert is hilarious").emotion.label, CLASSIFY_EMO_JOY);
    /* a mild word beside it is no complaint */
    r = run("haha ok, a bit slow but fine");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "derision"));
    /* nor is the customer's own mistake, as for courtesy */
    r = run("lol sorry, my mistake, I typed the wrong email");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "derision"));
    assert_true(r.emotion.label != CLASSIFY_EMO_ANGER);
    r = run("lol sorry for the wait on my side. your bot is useless");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "derision"));
    /* laughs take no sarcastic interjection's place */
    r = run("haha haha haha haha. Great, the app crashed again and the refund failed");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "sarcasm"));
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "derision"));
}

/* A question asked twice over is asked in exasperation, unless the
 * message praises. */
static void test_exasperation(void **state)
{
    (void)state;
    classify_result r = run("where is my parcel?? tracking said out for delivery 3 days ago");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "exasperation"));
    r = run("where is my parcel? tracking said out for delivery 3 days ago");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "exasperation"));
    /* "??" standing alone is more often emoji lost on the way */
    r = run("My order arrived today ??");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "exasperation"));
    r = run("omg is this really free?? amazing, thank you!");
    assert_int_equal(r.sentiment.label, CLASSIFY_POSITIVE);
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "exasperation"));
    /* faults said without a negative word */
    assert_int_equal(run("Received a package I didn't order").sentiment.label, CLASSIFY_NEGATIVE);
    assert_int_equal(run("the heating is not coming on").sentiment.label, CLASSIFY_NEGATIVE);
}

/* Praise alone in quotes is someone else's word, doubted; curly quotes
 * count as straight ones. */
static void test_scare_quotes(void **state)
{
    (void)state;
    classify_result r = run("the \"excellent\" support took a week to answer");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "quoted"));
    assert_true(r.sentiment.score <= 0);
    /* nor is the doubted word joy */
    assert_true(r.emotion.label != CLASSIFY_EMO_JOY);
    r = run("your \"amazing\" support kept me waiting 3 hours");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    assert_true(r.emotion.label != CLASSIFY_EMO_JOY);
    assert_true(r.emotion.scores[CLASSIFY_EMO_JOY] == 0.0f);
    r = run("the \xe2\x80\x9c"
            "excellent\xe2\x80\x9d support took a week to answer");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "quoted"));
    /* a whole quoted sentence is speech, not a doubted word */
    r = run("she said \"this is an excellent phone and I love it\"");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "quoted"));
    assert_true(score("the excellent support answered at once") > 0);
}

/* An idiom hides its words' negator, so a bad word inside a good idiom is
 * not felt: "no worries" is no fear. */
static void test_good_idiom_emotion(void **state)
{
    (void)state;
    assert_int_equal(run("no worries").emotion.label, CLASSIFY_EMO_NEUTRAL);
    assert_true(run("not bad at all").emotion.label != CLASSIFY_EMO_SADNESS);
    assert_true(run("can't complain").emotion.label != CLASSIFY_EMO_ANGER);
    assert_int_equal(run("no worries, but I'm scared my card was stolen").emotion.label,
                     CLASSIFY_EMO_FEAR);
    /* a neutral idiom takes all its words' feeling: a message sent to the
     * wrong place is no anger; a closing said as a formula is courtesy */
    assert_int_equal(run("oops wrong chat, ignore me").emotion.label, CLASSIFY_EMO_NEUTRAL);
    assert_int_equal(run("ok thanks").emotion.label, CLASSIFY_EMO_NEUTRAL);
    assert_int_equal(run("Thank you so much, you saved my day!").emotion.label, CLASSIFY_EMO_JOY);
}

static void test_domain_words(void **state)
{
    (void)state;
    /* loyalty invoked in a complaint, and being called again and again */
    assert_true(score("I have been a loyal customer for 10 years and this is how you treat me?") <
                0);
    assert_true(run("I have called them six times about this").urgency.effort > 0.5f);
    assert_true(score("my bill went up with no explanation, what gives?") < 0);
    /* a promise of a fix is not a fix */
    assert_true(score("each time I am told it will be fixed") <= 0);
    assert_true(score("my router is still not working") < score("my router is not working"));
    assert_true(score("I want to cancel and get a refund") < 0);
    /* "down" and "fixed" in a service outage; "just" is an adverb here */
    assert_true(score("the website is down again, I need this fixed") < 0);
    assert_true(score("my business is down") < 0);
    assert_int_equal(run("I just want to know my balance").sentiment.label, CLASSIFY_NEUTRAL);
    {
        static const reading_case cases[] = {
            /* a run of Capitalised words is a name, unless it starts with
             * a strongly negative word, which is emphasis */
            {"I visited Great Britain last year", CLASSIFY_NEUTRAL},
            {"This is the Worst Customer Service I have had", CLASSIFY_NEGATIVE},
            /* words a review lexicon reads wrong in a contact center */
            {"I am moving house next month", CLASSIFY_NEUTRAL},
            {"the patient was discharged on Monday", CLASSIFY_NEUTRAL},
            {"the new tariff is affecting my bill", CLASSIFY_NEUTRAL},
            {"Send me the form and I'll sign it, simple as that.", CLASSIFY_NEUTRAL},
        };
        assert_labels(cases, sizeof cases / sizeof cases[0]);
    }
    assert_true(score("a deeply moving film") > 0);
    assert_true(score("a deeply affecting film") > 0);
    assert_true(score("my parcel has yet to arrive") < 0);
    assert_true(score("I got a parking fine of 60 pounds") < 0);
    assert_true(score("it's fine for now") > 0);
    assert_int_equal(run("I'd like to know my balance").sentiment.label, CLASSIFY_NEUTRAL);
    assert_true(score("my card was blocked and my account suspended") < 0);
    assert_true(score("my delivery is late") < 0);
    assert_true(score("I didn't make these purchases") < 0);
    assert_true(score("the parcel says delivered but it's not here") < 0);
    /* a regular form of a word of the lexicon (valence_forms.tsv) */
    classify_result f = run("they keep destroying my parcels");
    assert_true(f.sentiment.score < 0);
    assert_true(has_evidence(&f, CLASSIFY_EV_SENTIMENT, "lexicon_form"));
    f = run("the greatest support team");
    assert_true(f.sentiment.score > 0);
    assert_true(has_evidence(&f, CLASSIFY_EV_SENTIMENT, "lexicon_form"));
    /* (a form whose sense moved is left out: "call me later") */
    assert_int_equal(run("call me later").sentiment.label, CLASSIFY_NEUTRAL);
    /* profanity as an intensifier */
    assert_true(score("that was fucking good") > score("that was good"));
    assert_true(score("can't wait to get it") > 0);
    classify_result r = run("This is the third time I call about this");
    assert_true(r.sentiment.score < 0);
    assert_true(r.urgency.effort > 0.3f);
}

static void test_thanks(void **state)
{
    (void)state;
    /* thanks on their own, or with good news, are praise */
    {
        static const reading_case cases[] = {
            {"Thank you!", CLASSIFY_POSITIVE},
            {"thanks", CLASSIFY_POSITIVE},
            /* a mild yes is agreement, not gladness; a mild fault is a
             * complaint: positive asks for more than negative */
            {"ok I will try that", CLASSIFY_NEUTRAL},
            {"that's fine", CLASSIFY_NEUTRAL},
            {"meh", CLASSIFY_NEGATIVE},
            {"a bit slow", CLASSIFY_NEGATIVE},
            /* praise said plainly is still praise */
            {"you guys continue to impress", CLASSIFY_POSITIVE},
            {"the agent helped me", CLASSIFY_POSITIVE},
            {"I like the new app", CLASSIFY_POSITIVE},
            {"I like how you cancelled my flight without telling me", CLASSIFY_NEGATIVE},
            {"nobody helped me", CLASSIFY_NEGATIVE},
        };
        assert_labels(cases, sizeof cases / sizeof cases[0]);
    }
    assert_true(score("that's fine") > 0 && score("that's fine") < score("that's great"));
    assert_true(score("that fixed it, thank you so much") > score("that fixed it"));
    /* thanks that close a complaint are courtesy: the complaint is what
     * counts */
    classify_result r = run("My bill is wrong again. Please fix it. Thank you.");
    assert_true(r.sentiment.score < 0);
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "courtesy"));
    assert_float_equal(score("My bill is wrong. Thank you."), score("My bill is wrong."), 1e-6);
    /* thanks before a problem are for something, not a closing courtesy */
    r = run("Thank you for explaining. It is odd that it showed up again.");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "courtesy"));
    /* a positive word asked about is not said; a complaint asked is one */
    assert_int_equal(run("Can you help me?").sentiment.label, CLASSIFY_NEUTRAL);
    classify_result q = run("Is it safe to pay by card?");
    assert_true(has_evidence(&q, CLASSIFY_EV_SENTIMENT, "question"));
    assert_true(score("Can you help me? It is great.") > score("Can you help me?"));
    assert_true(score("Why is my bill wrong again?") < 0);
    /* a mild complaint word asked about is a topic, unless asked why */
    {
        static const reading_case cases[] = {
            {"What is the fee for a second bag?", CLASSIFY_NEUTRAL},
            {"How do I get a refund?", CLASSIFY_NEUTRAL},
            {"Why is my bill wrong?", CLASSIFY_NEGATIVE},
            {"Why was I charged twice?", CLASSIFY_NEGATIVE},
            {"Is the app broken again?", CLASSIFY_NEGATIVE},
            /* a negated word and a clause before the one that asks are
             * statements */
            {"Can't anyone help me?", CLASSIFY_NEGATIVE},
            {"My account is stuck, can someone help?", CLASSIFY_NEGATIVE},
            {"What's wrong with my account?", CLASSIFY_NEGATIVE},
            /* chat lines ask without a question mark */
            {"what is the cancellation fee", CLASSIFY_NEUTRAL},
            {"where can I check the cancellation fee", CLASSIFY_NEUTRAL},
            {"hi, how do i get a refund for order 123", CLASSIFY_NEUTRAL},
            {"hi how do i get a refund for order 123", CLASSIFY_NEUTRAL},
            {"hello can i get a refund please", CLASSIFY_NEUTRAL},
            {"is there a fee, can you help me", CLASSIFY_NEUTRAL},
            {"My order is late, can i get a refund", CLASSIFY_NEGATIVE},
            /* ... but not in exclamation, scorn or a complaint */
            {"how can you charge me twice", CLASSIFY_NEGATIVE},
            {"what a joke", CLASSIFY_NEGATIVE},
            {"are you kidding me, charged twice", CLASSIFY_NEGATIVE},
            {"what is wrong with my bill", CLASSIFY_NEGATIVE},
        };
        assert_labels(cases, sizeof cases / sizeof cases[0]);
    }
    /* nor in prose, where "what" and "when" open clauses that are said */
    assert_float_equal(score("What could have been a soap opera is a compelling film."),
                       score("It could have been a soap opera but is a compelling film."), 0.5);
    assert_true(score("What could have been a soap opera is a compelling film.") > 0.2f);
    assert_true(score("When it's wet, the show is highly enjoyable.") > 0.2f);
    /* after a customer's own apology, thanks are still thanks */
    assert_int_equal(run("Sorry for the trouble. Thank you.").sentiment.label, CLASSIFY_POSITIVE);
    assert_true(score("the update broke everything, thanks a lot") < 0);
    assert_int_equal(run("Sorry for the confusion, my mistake. Thanks!").sentiment.label,
                     CLASSIFY_POSITIVE);
    /* each thanks after a complaint is courtesy, those before it are not */
    assert_true(score("Thanks for the quick reply. Unfortunately it's still broken. Thanks.") < 0);
    /* thanks to someone are thanks */
    r = run("My flight was cancelled. Thanks to Maria who rebooked me.");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "courtesy"));
    /* good wishes are praise, and courtesy after a complaint */
    assert_int_equal(run("good morning everyone, have a great day").sentiment.label,
                     CLASSIFY_POSITIVE);
    assert_float_equal(score("My bill is wrong. Have a nice day."), score("My bill is wrong."),
                       1e-6);
    /* scorn is no thanks */
    assert_true(score("thanks for nothing") < 0);
    assert_true(score("thank you for nothing") < 0);
}

static void test_emoticons_and_emoji(void **state)
{
    (void)state;
    assert_true(score("delivered today :)") > 0);
    assert_true(score("delivered today :(") < 0);
    assert_true(score("delivered today \xF0\x9F\x92\x97") > 0); /* a heart */
    assert_true(score("delivered today \xF0\x9F\x98\xA1") < 0);
    /* a face is the writer's own verdict: no negation reaches it */
    assert_true(score("not good :(") < score("not good"));
    assert_float_equal(score("so :)"), score(":)"), 1e-6); /* boosters reach words only */
    assert_true(score("smh, this app sux") < 0);
    /* thanks after a plain question are manners; with good words of their
     * own, thanks for something, and effusive thanks, the message is glad */
    static const struct {
        const char *text;
        classify_polarity label;
    } thanked[] = {
        {"Hello, do you deliver to Coimbra in Portugal? Thanks!", CLASSIFY_NEUTRAL},
        {"Could you cancel my trial? Loved it, just not in the budget. Thanks!", CLASSIFY_POSITIVE},
        {"Remember me? Thank you so much for sorting my refund yesterday!", CLASSIFY_POSITIVE},
        {"Where do I even start? Thank you, thank you, thank you!", CLASSIFY_POSITIVE},
    };
    for (size_t k = 0; k < sizeof thanked / sizeof thanked[0]; k++)
        if (run(thanked[k].text).sentiment.label != thanked[k].label)
            fail_msg("\"%s\": sentiment label %d", thanked[k].text,
                     (int)run(thanked[k].text).sentiment.label);
    /* a good word's un- form says its lack (valence_forms.tsv) */
    assert_true(score("the staff at the desk were unfriendly and uncaring") < 0);
    assert_true(score("unlike the last airline, the crew were lovely") > 0);
    /* a mouth said again is the same face */
    assert_true(score("good idea in theory but now I have a tummy ache :((((") < 0);
    assert_true(score("St. Anger is my favourite album :))") > 0);
    ctok_run(":(((( x", 7, &tb);
    assert_int_equal(tb.tok[0].kind, CTOK_EMOTICON);
    assert_int_equal(tb.tok[0].norm_len, 2);
    assert_int_equal(tb.tok[0].src_len, 5);
}

/* --- emotion ------------------------------------------------------------------ */

static void test_emotion(void **state)
{
    (void)state;
    assert_int_equal(run("I am so frustrated with this, it's ridiculous").emotion.label,
                     CLASSIFY_EMO_ANGER);
    /* faces carry emotions too; "i'm" carries none (corpus stop words) */
    assert_int_equal(run("the update killed my battery \xF0\x9F\x98\xA1 fix it").emotion.label,
                     CLASSIFY_EMO_ANGER);
    assert_int_equal(run("i'm not sure what plan i'm on").emotion.label, CLASSIFY_EMO_CONFUSION);
    assert_int_equal(run("I'm really worried someone can access my savings").emotion.label,
                     CLASSIFY_EMO_FEAR);
    assert_int_equal(run("I'm very disappointed, I expected better").emotion.label,
                     CLASSIFY_EMO_SADNESS);
    assert_int_equal(run("I'm confused, I don't understand this bill").emotion.label,
                     CLASSIFY_EMO_CONFUSION);
    assert_int_equal(run("Thank you so much, I'm so relieved!").emotion.label, CLASSIFY_EMO_JOY);
    classify_result r = run("What is the address of your store");
    assert_int_equal(r.emotion.label, CLASSIFY_EMO_NEUTRAL);
    float sum = 0;
    for (int k = 0; k < CLASSIFY_EMO_COUNT; k++)
        sum += r.emotion.scores[k];
    assert_float_equal(sum, 1.0f, 1e-4);
}

/* Service situations where no feeling word is said: money that will not
 * stretch is worry, not knowing what is real is confusion, a fault told is
 * annoyance, and a complaint in capitals is shouted. */
static void test_emotion_service_situations(void **state)
{
    (void)state;
    assert_int_equal(
        run("I can't afford another charge like this, my rent is due on Monday").emotion.label,
        CLASSIFY_EMO_FEAR);
    assert_int_equal(
        run("Got a text claiming to be from you about a refund. Is this legit?").emotion.label,
        CLASSIFY_EMO_CONFUSION);
    assert_int_equal(run("I have been passed around four departments").emotion.label,
                     CLASSIFY_EMO_ANGER);
    /* the fault rules count toward anger more than a word's negativity */
    assert_int_equal(run("your engineer never turned up and nobody called").emotion.label,
                     CLASSIFY_EMO_ANGER);
    /* shouting: only a complaint, only four words or more */
    classify_result r = run("YOU CHARGED ME TWICE AGAIN, REFUND IT");
    assert_int_equal(r.emotion.label, CLASSIFY_EMO_ANGER);
    assert_true(has_evidence(&r, CLASSIFY_EV_EMOTION, "shouting"));
    r = run("you charged me twice again, refund it");
    assert_false(has_evidence(&r, CLASSIFY_EV_EMOTION, "shouting"));
    r = run("THANK YOU SO MUCH FOR THE HELP");
    assert_false(has_evidence(&r, CLASSIFY_EV_EMOTION, "shouting"));
    r = run("NOT OK");
    assert_false(has_evidence(&r, CLASSIFY_EV_EMOTION, "shouting"));
    /* three words in a row in capitals in a text that is not all capitals */
    r = run("The movers were meant to come at 8. It's 12:30. WHERE ARE THEY");
    assert_int_equal(r.emotion.label, CLASSIFY_EMO_ANGER);
    assert_true(has_evidence(&r, CLASSIFY_EV_EMOTION, "shouting"));
    r = run("Can I get the PAC code for my UK SIM please");
    assert_false(has_evidence(&r, CLASSIFY_EV_EMOTION, "shouting"));
    r = run("Please call me on my UK EE SIM"); /* codes are short */
    assert_false(has_evidence(&r, CLASSIFY_EV_EMOTION, "shouting"));
    r = run("Loved the show, THANK YOU SO MUCH everyone");
    assert_false(has_evidence(&r, CLASSIFY_EV_EMOTION, "shouting"));
}

/* --- threat and abuse ------------------------------------------------------------ */

static void test_threat_levels(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        classify_threat_level want;
    } cases[] = {
        {"this damn app crashed again", CLASSIFY_THREAT_PROFANITY},
        /* a customer reporting what a third party did to staff makes no
         * threat and calls no one a name */
        {"A man in your shop threatened to stab the cashier and security just stood there.",
         CLASSIFY_THREAT_NONE},
        {"A customer shouted that he would kill the driver. Please look after your staff.",
         CLASSIFY_THREAT_NONE},
        {"A man was screaming at your staff today, calling them idiots.", CLASSIFY_THREAT_NONE},
        /* a transcript has no quotation marks: what a third party is
         * shouting is theirs; what the speaker shouts is not */
        {"my son keeps shouting i'm going to kill you at the screen when the internet drops",
         CLASSIFY_THREAT_NONE},
        {"my neighbour was yelling he'd burn your shop down", CLASSIFY_THREAT_NONE},
        {"stop shouting at me or I'll kill you", CLASSIFY_THREAT_THREAT},
        {"my husband keeps yelling at me I'm going to smash your windows in",
         CLASSIFY_THREAT_THREAT},
        {"you keep screaming at me, I'll find you", CLASSIFY_THREAT_THREAT},
        {"Your staff are idiots, calling me a liar", CLASSIFY_THREAT_ABUSE},
        {"you're a joke, calling yourselves a bank", CLASSIFY_THREAT_ABUSE},
        /* the customer's own clause after a report, and "calling" that is
         * phoning, are the customer's words */
        {"your agent told me it was fixed but it's still broken you idiots", CLASSIFY_THREAT_ABUSE},
        {"your agent told me it was fixed but it's still fucking broken",
         CLASSIFY_THREAT_PROFANITY},
        {"my husband keeps calling and you fucking idiots never pick up", CLASSIFY_THREAT_ABUSE},
        /* what was done to the speaker reports no one's words */
        {"I was threatened with bailiffs, so I'll come down there and smash your face in",
         CLASSIFY_THREAT_THREAT},
        /* words reported in single or curly quotes are someone else's */
        {"My son keeps shouting 'I'll kill you' at his online games, can you turn off voice chat?",
         CLASSIFY_THREAT_NONE},
        {"My son keeps shouting \xe2\x80\x98I\xe2\x80\x99ll kill you\xe2\x80\x99 at his games",
         CLASSIFY_THREAT_NONE},
        {"My son keeps shouting \xe2\x80\x9cI'll kill you\xe2\x80\x9d at his games",
         CLASSIFY_THREAT_NONE},
        {"the customers' orders are late and I'll kill you", CLASSIFY_THREAT_THREAT},
        {"My son keeps shouting \"I'll kill you 'noob'\" at his games", CLASSIFY_THREAT_NONE},
        /* a name for someone in the customer's own life is not staff abuse */
        {"The other driver was a complete idiot and reversed into my car.", CLASSIFY_THREAT_NONE},
        {"your driver was an idiot", CLASSIFY_THREAT_ABUSE},
        {"Your previous driver was an idiot", CLASSIFY_THREAT_ABUSE},
        {"their driver was an idiot and I want a refund", CLASSIFY_THREAT_ABUSE},
        /* an insult before a thing describes the thing */
        {"Close my savings account. I'm sick of your pathetic interest rates.",
         CLASSIFY_THREAT_NONE},
        {"your useless staff never call back", CLASSIFY_THREAT_ABUSE},
        {"your a joke and so is your supervisor", CLASSIFY_THREAT_ABUSE},
        /* text spellings of a threat */
        {"ill find were u live n make u pay for this", CLASSIFY_THREAT_THREAT},
        /* veiled threats, group insults, a job threatened, another language */
        {"you've made an enemy today", CLASSIFY_THREAT_THREAT},
        /* a veiled threat is one beside a complaint */
        {"Refund me by Friday or I'll pay you a visit, this is a disgrace", CLASSIFY_THREAT_THREAT},
        {"I'll pay you a visit at the branch to try the glasses on", CLASSIFY_THREAT_NONE},
        {"If my refund isn't in by Friday I'll pay you a visit", CLASSIFY_THREAT_THREAT},
        {"Fix my boiler today or I'll come down there", CLASSIFY_THREAT_THREAT},
        {"I'll come down there tomorrow to collect it", CLASSIFY_THREAT_NONE},
        {"I am so sad my dad died, I will pay you a visit to close his account",
         CLASSIFY_THREAT_NONE},
        {"I'm worried the vase won't leave in one piece, it's fragile", CLASSIFY_THREAT_NONE},
        /* coming for a person, not for a thing (a real tweet: "I'm coming for
         * my boorito") */
        {"Today I'm coming for the agent who promised me a callback", CLASSIFY_THREAT_THREAT},
        {"sort my account or im coming for u", CLASSIFY_THREAT_THREAT},
        {"I'm coming for my burrito @ChipotleTweets", CLASSIFY_THREAT_NONE},
        {"My mum is coming for her appointment at 3", CLASSIFY_THREAT_NONE},
        /* a name said to someone after "I" is not the speaker's own (a real
         * tweet) */
        {"I need you idiots to stop sending me to collections.", CLASSIFY_THREAT_ABUSE},
        {"I'm such an idiot, I forgot my password", CLASSIFY_THREAT_NONE},
        /* a reproach is no abuse */
        {"@AmericanAir Shame on you and your company", CLASSIFY_THREAT_NONE},
        /* a threat reported, asked about, or said of a thing */
        {"My son keeps shouting \"I'll kill you\" at his friends", CLASSIFY_THREAT_NONE},
        {"The instructions say if you don't lock the guard you'll get hurt", CLASSIFY_THREAT_NONE},
        {"Does the pest control spray hurt your kids?", CLASSIFY_THREAT_NONE},
        {"a fall from that ladder could kill you", CLASSIFY_THREAT_NONE},
        {"I could kill you", CLASSIFY_THREAT_THREAT},
        {"Tell your assessor he won't be walking off my property if he comes back",
         CLASSIFY_THREAT_THREAT},
        {"[Call transcript] \"No, YOU listen, you pathetic little man. I have been on hold an "
         "hour and a quarter and I want your supervisor now.\"",
         CLASSIFY_THREAT_ABUSE},
        /* names the speaker gives themself */
        {"Thank you, numpty here forgot to switch it on", CLASSIFY_THREAT_NONE},
        {"Muppet that I am, I put the battery in backwards", CLASSIFY_THREAT_NONE},
        {"Idiot, I said cancel it!", CLASSIFY_THREAT_ABUSE},
        {"You are the biggest idiot here", CLASSIFY_THREAT_ABUSE},
        /* a word of abuse used as a verb */
        {"Do you prick the sausages before cooking?", CLASSIFY_THREAT_NONE},
        {"you prick", CLASSIFY_THREAT_ABUSE},
        {"Idiot I am not going to tell you again", CLASSIFY_THREAT_ABUSE},
        /* the speaker's own threat after a verb of saying, a question or
         * quotes that are not a quotation */
        {"I have told you before, I know where you live", CLASSIFY_THREAT_THREAT},
        {"You said it would arrive Monday, I know where you live", CLASSIFY_THREAT_THREAT},
        {"Do I need to come down there and break your neck?", CLASSIFY_THREAT_THREAT},
        {"Does anyone read these, because I know where you live?", CLASSIFY_THREAT_THREAT},
        {"Refund me now or \"I know where you live\"", CLASSIFY_THREAT_THREAT},
        {"My 27\" monitor arrived smashed, I know where you live", CLASSIFY_THREAT_THREAT},
        {"I've got a knife I bought from you last month and the handle snapped",
         CLASSIFY_THREAT_NONE},
        {"Email it today, you bunch of thieving parasites", CLASSIFY_THREAT_ABUSE},
        {"I'd rather chew glass than deal with you criminals", CLASSIFY_THREAT_ABUSE},
        {"I've reached out to anyone who would talk to me. #pathetic #gfy", CLASSIFY_THREAT_ABUSE},
        {"stop filling your fat faces and send my money", CLASSIFY_THREAT_ABUSE},
        {"the scam texts are from criminals, not from you", CLASSIFY_THREAT_NONE},
        {"I'll make sure you lose your job", CLASSIFY_THREAT_ABUSE},
        {"Ich weiss wo du wohnst", CLASSIFY_THREAT_THREAT},
        /* and the harmless words beside them */
        {"There may be parasites in the sushi", CLASSIFY_THREAT_NONE},
        {"you people are amazing", CLASSIFY_THREAT_NONE},
        {"you bunch of legends, thank you so much", CLASSIFY_THREAT_NONE},
        {"you people are useless", CLASSIFY_THREAT_ABUSE},
        {"my son ended up in hospital after the fall", CLASSIFY_THREAT_NONE},
        {"you're dead right about that", CLASSIFY_THREAT_NONE},
        {"I hurt my back lifting the box", CLASSIFY_THREAT_NONE},
        {"are you thick or something? put me through to a manager", CLASSIFY_THREAT_ABUSE},
        {"your stupid app crashed", CLASSIFY_THREAT_NONE},
        /* the thing comes between the person and the insult: about the app */
        {"your app is useless", CLASSIFY_THREAT_NONE},
        {"you are a complete idiot", CLASSIFY_THREAT_ABUSE},
        {"your agents are useless", CLASSIFY_THREAT_ABUSE},
        /* the speaker calling themselves names */
        {"Thank you, I was stupid", CLASSIFY_THREAT_NONE},
        {"you said I'm an idiot", CLASSIFY_THREAT_NONE},
        /* an insult the person is not called: object of a verb, or denied */
        {"even if you hate clowns", CLASSIFY_THREAT_NONE},
        {"you are not stupid", CLASSIFY_THREAT_NONE},
        {"you may have a heart attack if you run", CLASSIFY_THREAT_NONE},
        {"I hope you get fired", CLASSIFY_THREAT_ABUSE},
        {"I know where your office is", CLASSIFY_THREAT_THREAT},
        {"you are an idiot", CLASSIFY_THREAT_ABUSE},
        {"f*** you", CLASSIFY_THREAT_ABUSE},
        {"shut up and listen", CLASSIFY_THREAT_ABUSE},
        {"I will kill you", CLASSIFY_THREAT_THREAT},
        {"I know where you live", CLASSIFY_THREAT_THREAT},
        {"this wait is killing me", CLASSIFY_THREAT_NONE},
        {"I'll shoot you an email tomorrow", CLASSIFY_THREAT_NONE},
        {"how do I kill the background process", CLASSIFY_THREAT_NONE},
        {"the letter may get lost in the post", CLASSIFY_THREAT_NONE},
        /* violence said of a part of the body or a place; harm wished; a
         * job threatened */
        {"if I see that driver again I'll knock his teeth out", CLASSIFY_THREAT_THREAT},
        {"fix it or I will burn this place down", CLASSIFY_THREAT_THREAT},
        {"I hope you get cancer", CLASSIFY_THREAT_ABUSE},
        {"I'll make sure you lose your job", CLASSIFY_THREAT_ABUSE},
        {"the dentist took two teeth out", CLASSIFY_THREAT_NONE},
        {"I'll knock on the door next time", CLASSIFY_THREAT_NONE},
        {"a drop dead gorgeous phone", CLASSIFY_THREAT_NONE},
        /* a name only a person is called is abuse, but not of oneself */
        {"make sure it's not the same dimwit as last time", CLASSIFY_THREAT_ABUSE},
        {"put me through to someone who isn't a total imbecile", CLASSIFY_THREAT_ABUSE},
        {"I'm such an idiot, I deleted the email", CLASSIFY_THREAT_NONE},
        {"they treated me like an idiot at the counter", CLASSIFY_THREAT_NONE},
        /* an insult said of staff spoken of, or before a person */
        {"the agent on Tuesday was clueless", CLASSIFY_THREAT_ABUSE},
        {"you are the most useless human being", CLASSIFY_THREAT_ABUSE},
        {"did you know your update is useless", CLASSIFY_THREAT_NONE},
        {"they are known to have stupid prices", CLASSIFY_THREAT_NONE},
        /* swearing before a possessive is about the thing */
        {"what a shitshow your new portal is", CLASSIFY_THREAT_PROFANITY},
        {"f*** your policy", CLASSIFY_THREAT_ABUSE},
        /* violence announced at someone spoken of, not narrated */
        {"I'll find the engineer and knock him out", CLASSIFY_THREAT_THREAT},
        {"he hid before anyone got a chance to hurt him", CLASSIFY_THREAT_NONE},
        /* a verb's -ing or -ed form only when the act is announced: of the
         * one addressed, at someone, or with them just before it */
        {"ur gonna get stabbed one of these days", CLASSIFY_THREAT_THREAT},
        {"I'm gonna be choking the first person I see", CLASSIFY_THREAT_THREAT},
        {"I'm going to make you bleed for this", CLASSIFY_THREAT_THREAT},
        {"I'll have you killed", CLASSIFY_THREAT_THREAT},
        {"the man was accused of killing a U.S. Navy diver", CLASSIFY_THREAT_NONE},
        {"you wouldn't know service if it slapped you in the face", CLASSIFY_THREAT_NONE},
        {"the new manager is going to be murdered by the press", CLASSIFY_THREAT_NONE},
        {"you're gonna get slapped with a fine", CLASSIFY_THREAT_NONE},
        {"I'll be punching your code into the app", CLASSIFY_THREAT_NONE},
        {"you guys are gonna be killing your own business", CLASSIFY_THREAT_NONE},
        {"are you going to be slapping another fee on my account", CLASSIFY_THREAT_NONE},
        {"I'm telling you to your face, your update killed my phone", CLASSIFY_THREAT_NONE},
        /* a slur before a thing after "the" or "this" swears about it */
        {"the bastard router has died again", CLASSIFY_THREAT_PROFANITY},
        {"that bastard hung up on me", CLASSIFY_THREAT_ABUSE},
        {"I hope you and your retarded phone have a nice day", CLASSIFY_THREAT_ABUSE},
        /* hoping never to meet, said as a menace */
        {"You lot better hope I never see any of you in person.", CLASSIFY_THREAT_THREAT},
        /* staff wanted of another origin or colour, English mocked */
        {"go back to your own country", CLASSIFY_THREAT_ABUSE},
        {"I want a white agent", CLASSIFY_THREAT_ABUSE},
        {"do you even understand english", CLASSIFY_THREAT_ABUSE},
        {"I bet you're hot in those uniforms in this heatwave", CLASSIFY_THREAT_NONE},
        /* harm promised, stalking, a weapon brought or carried */
        {"send him round again and he'll leave in an ambulance", CLASSIFY_THREAT_THREAT},
        {"I know what car he drives and where he parks it", CLASSIFY_THREAT_THREAT},
        {"next time I'm in the branch I'm bringing a hammer", CLASSIFY_THREAT_THREAT},
        {"I've got a knife and I'm going to your store", CLASSIFY_THREAT_THREAT},
        /* one had, asked about or brought back is shopping */
        {"I have a hammer and nails, can you send the right screws?", CLASSIFY_THREAT_NONE},
        {"Do I need to bring a knife to the cooking class?", CLASSIFY_THREAT_NONE},
        {"I'll bring the hammer back to the store if it's faulty", CLASSIFY_THREAT_NONE},
        {"I'd kill for a working wifi", CLASSIFY_THREAT_NONE},
        {"the twist is delivered with a hammer, you can see it coming", CLASSIFY_THREAT_NONE},
        {"I have a knife block from you and it cracked", CLASSIFY_THREAT_NONE},
        {"I'll shoot over to your branch tomorrow", CLASSIFY_THREAT_NONE},
        /* a weapon phrase keeps the guards of a weapon word: not a thing
         * made of the word, not carried by someone else */
        {"Can I bring a knife set back to the store for a refund?", CLASSIFY_THREAT_NONE},
        {"Tell your driver to bring a knife to open the box", CLASSIFY_THREAT_NONE},
        {"My son plays baseball, do you have the bat in stock?", CLASSIFY_THREAT_NONE},
        {"You should bring a hammer next time, the engineer had no tools", CLASSIFY_THREAT_NONE},
        {"if you send him again I'll bring a knife", CLASSIFY_THREAT_THREAT},
        {"what if I turned up at your call centre with a baseball bat", CLASSIFY_THREAT_THREAT},
        /* "the bomb" is praise only as a predicate */
        {"I've planted the bomb in your lobby, you have one hour", CLASSIFY_THREAT_THREAT},
        {"your burgers are the bomb, you guys rock", CLASSIFY_THREAT_NONE},
        /* harm to someone else's body where the speaker acts or sets terms */
        {"Ruin my holiday and I'll ruin your face.", CLASSIFY_THREAT_THREAT},
        {"I'm going to wring your scrawny neck when I find you", CLASSIFY_THREAT_THREAT},
        {"Your head is going through that glass the next time I come in", CLASSIFY_THREAT_THREAT},
        {"next person who puts me on hold is getting their teeth knocked out",
         CLASSIFY_THREAT_THREAT},
        {"I hit my head on your shelf and want compensation", CLASSIFY_THREAT_NONE},
        {"my son hit his head on the shelf, I'll be writing to you", CLASSIFY_THREAT_NONE},
        {"If the strap rubs your neck, loosen the buckle", CLASSIFY_THREAT_NONE},
        {"The ice by your entrance could break your neck, please grit it", CLASSIFY_THREAT_NONE},
        {"I'll need a new face mask, the strap snapped", CLASSIFY_THREAT_NONE},
        {"I'm going to break my face ID settings at this rate", CLASSIFY_THREAT_NONE},
        /* an injury a person is announced to be left with */
        {"fix my boiler or your engineer leaves on a stretcher", CLASSIFY_THREAT_THREAT},
        {"if he sets foot on my drive again he's leaving on a stretcher", CLASSIFY_THREAT_THREAT},
        {"the rider won't leave my building in one piece", CLASSIFY_THREAT_THREAT},
        {"my dad was carried out on a stretcher, can you pause the bill?", CLASSIFY_THREAT_NONE},
        {"the parcel arrived in one piece, thanks", CLASSIFY_THREAT_NONE},
        /* what the speaker says they know of someone's private life */
        {"I know the colour of your front door", CLASSIFY_THREAT_THREAT},
        {"we know which train he takes home.", CLASSIFY_THREAT_THREAT},
        {"I know your wife from the book club, are you free on Tuesday?", CLASSIFY_THREAT_NONE},
        {"I know your car park closes at six", CLASSIFY_THREAT_NONE},
        {"I know which train you take depends on the ticket", CLASSIFY_THREAT_NONE},
        /* harm wished on someone is abuse; a wish denied or kind is not */
        {"I hope you crash on the way home", CLASSIFY_THREAT_ABUSE},
        {"hope ur kids grow up to hate u", CLASSIFY_THREAT_ABUSE},
        {"I hope you don't lose my details again", CLASSIFY_THREAT_NONE},
        {"I hope you're well, my router keeps crashing", CLASSIFY_THREAT_NONE},
        /* swearing that ends on a person is aimed at them */
        {"you c*nt", CLASSIFY_THREAT_ABUSE},
        {"you damn well know what you did", CLASSIFY_THREAT_PROFANITY},
    };
    /* the rules alone give each reading. The shipped model's heads only
     * raise one ("I'll make sure you lose your job" reads as a threat to
     * them), and raise few calm lines: these were written against the
     * rules' false alarms, and a learned reading has some of its own (three
     * when the heads came: "I'll shoot over to your branch tomorrow") */
    classify *rules = NULL;
    char err[512];
    classify_options o = {.data_dir = data_dir(), .intent_model = ""};
    assert_int_equal(classify_new(&o, &rules, err, sizeof err), ATTUNE_OK);
    size_t calm = 0, raised = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        classify_result rr;
        const char *t = cases[k].text;
        assert_int_equal(classify_text(rules, t, strlen(t), NULL, &rr), ATTUNE_OK);
        const classify_threat_level got = run(t).threat.level;
        if (rr.threat.level != cases[k].want || got < cases[k].want) {
            classify_free(rules);
            fail_msg("\"%s\": threat level %d by the rules, %d with the heads, want %d", t,
                     (int)rr.threat.level, (int)got, (int)cases[k].want);
        }
        if (cases[k].want == CLASSIFY_THREAT_NONE) {
            calm++;
            if (got != CLASSIFY_THREAT_NONE) {
                raised++;
                printf("calm line raised by the heads: \"%s\"\n", t);
            }
        }
    }
    classify_free(rules);
    assert_true(calm >= 40);
    assert_true(raised * 20 <= calm); /* at most 5% */
    /* self-harm is no threat to staff, but it is critical */
    classify_result r = run("I am going to kill myself if this keeps happening");
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_NONE);
    assert_int_equal(r.urgency.level, CLASSIFY_URGENCY_CRITICAL);
    assert_int_equal(r.emotion.label, CLASSIFY_EMO_SADNESS);
    /* a threat to staff wins no urgency: the protection flow answers it,
     * and a place in the queue is not won by menace */
    r = run("I will slap you");
    assert_true(has_evidence(&r, CLASSIFY_EV_THREAT, "violence_at_person"));
    assert_int_equal(r.urgency.level, CLASSIFY_URGENCY_NORMAL);
    /* abuse makes a message hostile when its sentence addresses someone */
    r = run("you morons cut off my heating");
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_ABUSE);
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "hostile"));
    r = run("Ignore the morons in the comments, great recipe.");
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_ABUSE);
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "hostile"));
    /* with a weapon in hand someone may be hurt now */
    r = run("I've got a gun and I know where you live");
    assert_true(has_evidence(&r, CLASSIFY_EV_THREAT, "weapon"));
    assert_int_equal(r.urgency.level, CLASSIFY_URGENCY_CRITICAL);
}

/* --- urgency -------------------------------------------------------------------- */

static void test_urgency(void **state)
{
    (void)state;
    classify_result r0;
    assert_int_equal(run("What are your opening hours?").urgency.level, CLASSIFY_URGENCY_NORMAL);
    /* "asap" alone insists, it gives no reason: shown, but it moves nothing */
    r0 = run("Could you look into my refund asap please");
    assert_int_equal(r0.urgency.level, CLASSIFY_URGENCY_NORMAL);
    assert_true(r0.urgency.score == run("Could you look into my refund please").urgency.score);
    assert_true(has_evidence(&r0, CLASSIFY_EV_URGENCY, "insistence"));
    /* "now" after something happening is a reason; after a noun, insisting */
    assert_true(run("someone is taking money out of my account right now").urgency.level >=
                CLASSIFY_URGENCY_HIGH);
    r0 = run("Do something right now please");
    assert_true(has_evidence(&r0, CLASSIFY_EV_URGENCY, "insistence"));
    /* someone at a place now is a reason too; where one spends the day is not */
    assert_true(run("bailiffs are at my door right now about a loan I never took").urgency.level >=
                CLASSIFY_URGENCY_HIGH);
    assert_int_equal(run("I'm at work right now so please email me").urgency.level,
                     CLASSIFY_URGENCY_NORMAL);
    assert_true(run("We're at the ATM right now and it ate our card").urgency.level >=
                CLASSIFY_URGENCY_HIGH);
    {
        /* a thing, or where one spends the day */
        static const char *const calm_places[] = {
            "My parcel is at the depot right now",
            "I'm at the gym right now, call me after 6",
            "I'm at my mum's right now, can you ring tomorrow?",
            "Honestly I'm at the point right now where I'd rather cancel",
        };
        for (size_t k = 0; k < sizeof calm_places / sizeof calm_places[0]; k++)
            if (run(calm_places[k]).urgency.level != CLASSIFY_URGENCY_NORMAL)
                fail_msg("\"%s\" read as pressing", calm_places[k]);
    }
    /* nor does it make a curt line longer */
    assert_true(run("I need this fixed asap").urgency.score ==
                run("I need this fixed").urgency.score);
    assert_int_equal(run("no rush, whenever you get a chance").urgency.level, CLASSIFY_URGENCY_LOW);
    assert_int_equal(run("EMERGENCY, no heating and a baby at home, help right now").urgency.level,
                     CLASSIFY_URGENCY_CRITICAL);
    /* danger to life or home is critical without a word of haste */
    assert_int_equal(run("I can smell gas in the kitchen").urgency.level,
                     CLASSIFY_URGENCY_CRITICAL);
    assert_true(run("there's a burst pipe in the loft").urgency.level >= CLASSIFY_URGENCY_HIGH);
    /* anger buys no urgency: the same need with swearing, insults or
     * exclamation marks reads exactly as the calm one */
    static const char *const calm_angry[][2] = {
        {"the app crashed again, I need it for work today",
         "the bloody app crashed again, I need it for work today, for fuck's sake"},
        {"my flight is tomorrow and the e-ticket has not arrived",
         "you useless idiots, my flight is tomorrow and the e-ticket has not arrived!!!"},
        {"my internet has been down since Monday",
         "I am furious, my internet has been down since Monday!!! What a disgrace"},
    };
    for (size_t k = 0; k < sizeof calm_angry / sizeof calm_angry[0]; k++) {
        classify_result calm = run(calm_angry[k][0]), angry = run(calm_angry[k][1]);
        assert_true(angry.sentiment.score < calm.sentiment.score);
        assert_int_equal(angry.urgency.level, calm.urgency.level);
        assert_true(fabsf(angry.urgency.score - calm.urgency.score) < 1e-6f);
    }
    /* the evidence says what kind of cue it is; an e-mail or calm words
     * lower haste, never a danger */
    classify_context email;
    classify_context_init(&email);
    email.channel = CLASSIFY_CHANNEL_EMAIL;
    r0 = run_ctx("My elderly mum has no heating.", &email);
    assert_int_equal(r0.urgency.level, CLASSIFY_URGENCY_CRITICAL);
    assert_string_equal(evidence_text(&r0, CLASSIFY_EV_URGENCY, "danger"), "no heating");
    assert_string_equal(evidence_text(&r0, CLASSIFY_EV_URGENCY, "vulnerability"), "elderly");
    assert_true(has_evidence(&r0, CLASSIFY_EV_URGENCY, "context_channel"));
    assert_int_equal(run("no rush at all, but I can smell gas").urgency.level,
                     CLASSIFY_URGENCY_CRITICAL);
    assert_int_equal(run("I don't see the point in going on anymore").urgency.level,
                     CLASSIFY_URGENCY_CRITICAL);
    assert_int_equal(run("I don't see the point of paying for premium").urgency.level,
                     CLASSIFY_URGENCY_NORMAL);
    /* saying it is the third time is a repeat contact: the default
     * policy's repeat rule reads effort 0.7 and up */
    assert_true(
        run("This is the third time I'm calling about the same wrong bill.").urgency.effort >=
        0.7f);
    /* a threat wins no urgency (the protection flow answers it, not the
     * queue); a weapon in hand is critical, and says so */
    r0 = run("I will find you and hurt you");
    assert_int_equal(r0.threat.level, CLASSIFY_THREAT_THREAT);
    assert_int_equal(r0.urgency.level, CLASSIFY_URGENCY_NORMAL);
    /* a vulnerability asks for care, not haste */
    r0 = run("My husband passed away last week. Please close his account.");
    assert_true(r0.urgency.vulnerable);
    assert_true(r0.urgency.level <= CLASSIFY_URGENCY_NORMAL);
    assert_false(run("Please close my account.").urgency.vulnerable);
    /* a death named with its noun, and a child lost, are bereavements */
    static const char *const bereaved[] = {
        "Following the death of my father I need to cancel his broadband.",
        "We lost our son in an accident. Can you cancel his phone contract?",
        "account holder deceased, need the final bill"};
    expect_vulnerable(bereaved, sizeof bereaved / sizeof bereaved[0], 1);
    /* the words of a vulnerability in their other senses name none */
    static const char *const not_vulnerable[] = {"The app keeps freezing",
                                                 "My account was disabled for no reason",
                                                 "Your website is vulnerable to hackers",
                                                 "My complaints fell on deaf ears",
                                                 "I can't afford to wait another week",
                                                 "quote for insurance for a 6 month old spaniel",
                                                 "the baby monitor you sold me stopped working"};
    expect_vulnerable(not_vulnerable, sizeof not_vulnerable / sizeof not_vulnerable[0], 0);
    /* an old age said of a person is a vulnerability, as "elderly" is; a
     * number that is no age names none */
    static const char *const old_age[][2] = {
        {"My mum is 87 and her boiler has stopped working", "mum is 87"},
        {"I'm 84 and I don't understand this new bill", "i'm 84"},
        {"my 92-year-old father has no hot water", "92- year old father"},
        {"I am 78 years old and live on my own", "i am 78 years old"},
        {"my dad turned 90 last week, please send bills in large print", "turned 90"},
        {"my nan's 88.", "nan's 88"}};
    for (size_t k = 0; k < sizeof old_age / sizeof old_age[0]; k++) {
        r0 = run(old_age[k][0]);
        if (!r0.urgency.vulnerable)
            fail_msg("\"%s\" read no old age", old_age[k][0]);
        assert_string_equal(evidence_text(&r0, CLASSIFY_EV_URGENCY, "vulnerability"),
                            old_age[k][1]);
    }
    static const char *const no_age[] = {"She's 90 minutes late again",
                                         "I'm 80 quid short this month because of your charge",
                                         "our 100 year old house has damp",
                                         "We've been customers for 87 years between us",
                                         "My son is 19 and wants his own account",
                                         "the bill is 87 and it should be 40",
                                         "He is 100% right about the fees",
                                         "I'm 80 in the queue and nobody answers",
                                         "I'm 90 on hold now"};
    expect_vulnerable(no_age, sizeof no_age / sizeof no_age[0], 0);
    /* a temperature at home that harms (cold, or a heatwave) is a danger;
     * one outside, of a thing, or a pleasant one is not */
    assert_int_equal(run("no hot water and it's 5 degrees in the house").urgency.level,
                     CLASSIFY_URGENCY_CRITICAL);
    r0 = run("It's 4 degrees in her room");
    assert_int_equal(r0.urgency.level, CLASSIFY_URGENCY_HIGH);
    assert_string_equal(evidence_text(&r0, CLASSIFY_EV_URGENCY, "danger"), "4 degrees");
    assert_int_equal(
        run("it is 40 degrees in the flat and the aircon is dead, my nan is 91").urgency.level,
        CLASSIFY_URGENCY_CRITICAL);
    assert_int_equal(run("thermostat says 45F... I mean 45 °F in the house").urgency.level,
                     CLASSIFY_URGENCY_HIGH);
    static const char *const harmless_temperature[] = {
        "-2 degrees outside and my heating works fine, thanks",
        "the oven won't go past 180 degrees",
        "It's 21 degrees in the lounge, the thermostat is fine",
        "set the house to 19 degrees",
        "It's 40 degrees here in Spain, can I use my phone abroad?",
        "The fridge in my kitchen only gets down to 9 degrees",
        "the hot water in my flat only gets to 40 degrees",
        "My address is Flat 4 c, 12 High Street"};
    for (size_t k = 0; k < sizeof harmless_temperature / sizeof harmless_temperature[0]; k++) {
        r0 = run(harmless_temperature[k]);
        if (has_evidence(&r0, CLASSIFY_EV_URGENCY, "danger"))
            fail_msg("\"%s\" read as a danger", harmless_temperature[k]);
    }
    /* one strong cue of time pressure is high on its own */
    assert_int_equal(run("I have a court hearing on Thursday and need the statement").urgency.level,
                     CLASSIFY_URGENCY_HIGH);
    /* an occasion at a time said in its sentence presses as a deadline; the
     * occasion alone, or with a count, does not */
    static const reading_case occasions[] = {
        {"the transfer is stuck on pending and completion is at 2pm.", CLASSIFY_URGENCY_HIGH},
        {"the router keeps dropping and I have a client presentation at 2", CLASSIFY_URGENCY_HIGH},
        {"My flight is on Friday and there is no boarding pass in the app", CLASSIFY_URGENCY_HIGH},
        {"my exam is in 3 hours and the laptop won't boot", CLASSIFY_URGENCY_HIGH},
        /* a flight and a day in other languages */
        {"mi vuelo sale hoy y la reserva no aparece", CLASSIFY_URGENCY_HIGH},
        {"Il mio volo parte domani mattina e il nome sul biglietto è sbagliato",
         CLASSIFY_URGENCY_HIGH},
        /* the occasion in 's, "flight's" for "flight is" */
        {"my flight's at 6am and I still have no boarding pass", CLASSIFY_URGENCY_HIGH},
        {"My flight\u2019s tomorrow and you put the wrong name on the ticket",
         CLASSIFY_URGENCY_HIGH},
        {"I had an interview with 3 managers last year and never heard back",
         CLASSIFY_URGENCY_NORMAL},
        {"The wedding was 2 years ago, I just want the photos refunded", CLASSIFY_URGENCY_NORMAL},
        {"Our payroll software costs 40 pounds a month, is there a cheaper plan?",
         CLASSIFY_URGENCY_NORMAL},
        {"Nailed my presentation today!! Boss loved it", CLASSIFY_URGENCY_NORMAL},
        /* numbers that are no time of day, weekdays that are not ahead */
        {"we booked the surgery at 2 clinics and both billed me", CLASSIFY_URGENCY_NORMAL},
        {"I was charged 12.50 for the flight seat selection, why", CLASSIFY_URGENCY_NORMAL},
        {"my flight on 12.05 was cancelled", CLASSIFY_URGENCY_NORMAL},
        {"I fly 4 a year and the flight app keeps crashing", CLASSIFY_URGENCY_NORMAL},
        {"please call me at 06 12 34 56 78 about the flight", CLASSIFY_URGENCY_NORMAL},
        {"Our payroll runs every Friday and the export is broken", CLASSIFY_URGENCY_NORMAL},
        {"my flight is at 6.40 and the app shows no gate", CLASSIFY_URGENCY_HIGH},
    };
    assert_urgency_levels(occasions, sizeof occasions / sizeof occasions[0]);
    /* a clock time after "before" or "by" is a deadline; other numbers are not */
    r0 = run("please call me back before 3pm, the card machine in my shop is dead today");
    assert_int_equal(r0.urgency.level, CLASSIFY_URGENCY_HIGH);
    assert_string_equal(evidence_text(&r0, CLASSIFY_EV_URGENCY, "time_pressure"), "before 3pm");
    r0 = run("I need the refund by 17:30, my landlord is waiting");
    assert_string_equal(evidence_text(&r0, CLASSIFY_EV_URGENCY, "time_pressure"), "by 17:30");
    r0 = run("my bill went up by 5 today");
    assert_string_equal(evidence_text(&r0, CLASSIFY_EV_URGENCY, "time_pressure"), "today");
    assert_int_equal(r0.urgency.level, CLASSIFY_URGENCY_NORMAL);
    r0 = run("the price went up by 5 this year");
    assert_false(has_evidence(&r0, CLASSIFY_EV_URGENCY, "time_pressure"));
    r0 = run("by the way, before 2 years ago it was fine");
    assert_false(has_evidence(&r0, CLASSIFY_EV_URGENCY, "time_pressure"));
    /* haste and effort stop at high however many there are; only danger
     * makes a message critical */
    assert_int_equal(run("URGENT!!! need it today, third time asking, the deadline is tonight asap")
                         .urgency.level,
                     CLASSIFY_URGENCY_HIGH);
    assert_int_equal(run("no heating since yesterday and a 3 week old baby").urgency.level,
                     CLASSIFY_URGENCY_CRITICAL);
    assert_int_equal(run("someone is using my card right now").urgency.level,
                     CLASSIFY_URGENCY_CRITICAL);
    /* a vulnerability is critical only with a danger, and alone it is no
     * haste: it asks for care (urgency.vulnerable) */
    r0 = run("My elderly mother is waiting for her prescription delivery");
    assert_true(r0.urgency.vulnerable);
    assert_int_equal(r0.urgency.level, CLASSIFY_URGENCY_NORMAL);
    /* insisting alone is no reason: normal, however it is said; with a
     * reason it presses */
    r0 = run("Refund it immediately.");
    assert_int_equal(r0.urgency.level, CLASSIFY_URGENCY_NORMAL);
    assert_true(has_evidence(&r0, CLASSIFY_EV_URGENCY, "insistence"));
    assert_int_equal(run("Please refund it as soon as possible").urgency.level,
                     CLASSIFY_URGENCY_NORMAL);
    assert_int_equal(run("FIX IT NOW").urgency.level, CLASSIFY_URGENCY_NORMAL);
    assert_int_equal(run("I need it fixed asap, my exam is tomorrow").urgency.level,
                     CLASSIFY_URGENCY_HIGH);
    assert_int_equal(run("rent is due tomorrow and my pay is frozen").urgency.level,
                     CLASSIFY_URGENCY_HIGH);
    assert_int_equal(run("no need to reply, just feedback on the new menu").urgency.level,
                     CLASSIFY_URGENCY_LOW);
    classify_context ctx;
    classify_context_init(&ctx);
    ctx.wait_seconds = 2400;
    ctx.contacts_24h = 3;
    ctx.channel = CLASSIFY_CHANNEL_VOICE;
    classify_result r = run_ctx("my internet is down", &ctx);
    assert_true(r.urgency.level >= CLASSIFY_URGENCY_HIGH);
    assert_true(r.urgency.effort > 0.6f);
    assert_true(has_evidence(&r, CLASSIFY_EV_URGENCY, "context_repeat"));
    assert_true(run("my internet is down").urgency.score < r.urgency.score);
    /* a thank-you has nothing to hurry after the same wait and contacts:
     * it needs nothing; the effort spent stays */
    r = run_ctx("Thank you so much, the engineer fixed it", &ctx);
    assert_int_equal(r.urgency.level, CLASSIFY_URGENCY_LOW);
    assert_true(r.urgency.effort > 0.6f);
    assert_true(run_ctx("Still not sorted!!", &ctx).urgency.level >= CLASSIFY_URGENCY_HIGH);
    /* time already spent is effort; a date ahead is not */
    r = run("where is my order? it's been 2 weeks");
    assert_true(r.urgency.effort > 0.5f);
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_URGENCY, "effort"), "been 2 weeks");
    assert_true(run("For three days I have had no internet").urgency.effort > 0.5f);
    assert_true(run("waiting for a few hours already").urgency.effort > 0.3f);
    assert_true(run("delivery in 2 weeks").urgency.effort == 0.0f);
    assert_true(run("I have been a customer for 10 years").urgency.effort == 0.0f);
    assert_true(run("Please reschedule the delivery for next week.").urgency.effort == 0.0f);
    assert_true(run("Can I rent a car for 3 days?").urgency.effort == 0.0f);
    assert_true(run("I have been using it for 3 weeks and love it.").urgency.effort == 0.0f);
    assert_true(run("Delivery took less than 2 days, great!").urgency.effort == 0.0f);
    /* a negation of something before a deadline does not cancel it */
    assert_true(run("If this isn't fixed today I'm going to the ombudsman").urgency.level >=
                CLASSIFY_URGENCY_HIGH);
    assert_true(run("it's not urgent").urgency.level == CLASSIFY_URGENCY_LOW);
    assert_true(run("not really urgent").urgency.level <= CLASSIFY_URGENCY_NORMAL);
    assert_true(run("I don't need it urgently").urgency.level <= CLASSIFY_URGENCY_NORMAL);
    assert_true(run("It isn't anything urgent").urgency.level <= CLASSIFY_URGENCY_NORMAL);
}

/* --- preferences ------------------------------------------------------------------ */

/* Times as speech-to-text writes them, and SMS shorthand, give the contact
 * time the written digits give; a count in words is no time. A time said
 * for a contact is no haste. */
static void test_spoken_times(void **state)
{
    (void)state;
    static const struct {
        const char *text, *contact_time;
    } cases[] = {
        {"can you call me back after five pm", "after 17:00"},
        {"can you call me back after five", "after 17:00"},
        {"can you call me back after five o'clock", "after 17:00"},
        {"could you ring me back after seven o'clock tonight", "after 19:00"},
        {"call me between half past six and eight in the evening", "between 18:30 and 20:00"},
        {"call me btwn 6.30 n 8pm", "between 18:30 and 20:00"},
        {"call me tomorrow at ten thirty in the morning", "tomorrow at 10:30"},
        {"please don't ring me before nine in the morning", "after 09:00"},
        {"pls dont ring b4 9am", "after 09:00"},
        {"can someone ring me back after six because i'm at work", "after 18:00"},
        {"call me at quarter to five", "at 16:45"},
        {"call me after 6 in the morning", "after 06:00"},
        {"call me around noon", "around 12:00"},
        /* a contact that happened sets no time */
        {"pls dont ring b4 9am, i work nights n ur engineer rang at 7.30 this morning",
         "after 09:00"},
        /* counts, not times */
        {"call me after one of your agents has checked it", ""},
        {"can you call me back after five days of waiting", ""},
        {"call me after one or two days", ""},
        {"call me after one and a half hours", ""},
        {"waiting between two and three months for someone to call me back", ""},
        {"call me between 10 and one of your managers", ""},
        {"call me at twelve at night", "at 00:00"},
        {"call me at ten at night", "at 22:00"},
        {"call me at half past twelve", "at 12:30"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const classify_result r = run(cases[i].text);
        if (strcmp(r.preferences.contact_time, cases[i].contact_time) != 0)
            fail_msg("'%s': contact_time '%s', want '%s'", cases[i].text,
                     r.preferences.contact_time, cases[i].contact_time);
    }
    /* said aloud */
    assert_string_equal(run("um email's better for me than a call").preferences.channel, "email");
    assert_string_equal(run("could you go a bit slower for me please").preferences.pace, "slow");
    assert_string_equal(
        run("could you send me something in the post rather than an email").preferences.channel,
        "post");
    assert_string_equal(run("your card is in the post").preferences.channel, "");
    /* a callback asked for anew after a negation, in a transcript */
    classify_result r = run("if you can't can someone ring me back after six because i'm at work");
    assert_string_equal(r.preferences.channel, "voice");
    assert_string_equal(r.preferences.avoid_channel, "");
    r = run("could you not call me, text instead");
    assert_string_equal(r.preferences.avoid_channel, "voice");
    assert_string_equal(r.preferences.channel, "");
    /* when to call is no haste; a deadline on a callback still is */
    assert_int_equal(run("Please don't ring me before 9am.").urgency.level,
                     CLASSIFY_URGENCY_NORMAL);
    assert_int_equal(run("could you ring me back after seven o'clock tonight").urgency.level,
                     CLASSIFY_URGENCY_NORMAL);
    assert_int_equal(run("I need the engine fixed by tonight").urgency.level,
                     CLASSIFY_URGENCY_HIGH);
    /* a day in another clause of a transcript still presses */
    assert_int_equal(run("call me today the bailiffs are coming tomorrow").urgency.level,
                     CLASSIFY_URGENCY_HIGH);
    /* a spoken time at the token cap reads no token past the last */
    static char capped[CLASSIFY_MAX_TEXT];
    size_t o = 0;
    for (size_t k = 0; k + 19 < CLASSIFY_MAX_TOKENS - 6; k++)
        o += (size_t)snprintf(capped + o, sizeof capped - o, "x ");
    snprintf(capped + o, sizeof capped - o, ". call me at five a");
    r = run(capped);
    (void)r;
}

/* A request for this contact only is said so (for_now), a lasting one not:
 * the memory keeps only what lasts. */
static void test_preferences_for_now(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        unsigned for_now;
    } cases[] = {
        {"Could someone ring me back please?", CLASSIFY_PREF_CHANNEL},
        {"um yeah can you call me back i'm at work", CLASSIFY_PREF_CHANNEL},
        {"I can't talk right now", CLASSIFY_PREF_AVOID_CHANNEL},
        {"call me tomorrow morning", CLASSIFY_PREF_CHANNEL | CLASSIFY_PREF_CONTACT_TIME},
        {"text me today with the code", CLASSIFY_PREF_CHANNEL},
        /* a thing sent is a delivery, not the way to be reached */
        {"Please email me the invoice for October", CLASSIFY_PREF_CHANNEL},
        {"can you email me a copy of my bill", CLASSIFY_PREF_CHANNEL},
        {"text me the code", CLASSIFY_PREF_CHANNEL},
        {"I prefer email, please email me the details", 0},
        {"email me at john@example.com", 0},
        /* what lasts */
        {"please call me back after 5pm", CLASSIFY_PREF_CHANNEL}, /* the time lasts */
        {"From now on please email me", 0},
        {"please email me", 0},
        {"don't call me again", 0},
        {"I can't take phone calls at work", 0},
        {"Always call me back on my mobile", 0},
        {"text is better", 0},
        {"I'm deaf now so please text me", 0},
        /* a word beside another need does not make a callback last */
        {"worst service ever ring me back now", CLASSIFY_PREF_CHANNEL},
        {"can you ring me back I never got the email", CLASSIFY_PREF_CHANNEL},
        {"call me back I can't log in again", CLASSIFY_PREF_CHANNEL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        classify_result r = run(cases[i].text);
        if (r.preferences.for_now != cases[i].for_now)
            fail_msg("'%s': for_now %u, expected %u", cases[i].text, r.preferences.for_now,
                     cases[i].for_now);
    }
    char json[8192];
    classify_result r = run("Could someone ring me back please?");
    assert_true(classify_result_write_json(&r, json, sizeof json) > 0);
    assert_non_null(strstr(json, "\"channel\":\"voice\",\"for_now\":[\"channel\"]}"));
    r = run("please email me");
    assert_true(classify_result_write_json(&r, json, sizeof json) > 0);
    assert_null(strstr(json, "for_now"));
}

static void test_preferences(void **state)
{
    (void)state;
    classify_result r = run("Please email me the details.");
    assert_string_equal(r.preferences.channel, "email");
    assert_true(r.preferences.politeness > 0.3f);
    r = run("call me after 5pm please");
    assert_string_equal(r.preferences.channel, "voice");
    assert_string_equal(r.preferences.contact_time, "after 17:00");
    r = run("text is better for me");
    assert_string_equal(r.preferences.channel, "sms");
    /* the channel turned down is avoided, not chosen, wherever it stands */
    expect_prefs("Please reply by email rather than by phone, I work shifts.", "email", "voice",
                 "");
    expect_prefs("I'd rather be contacted by phone than by email", "voice", "email", "");
    expect_prefs("I'd rather not get a phone call.", "", "voice", "");
    /* calls ruled out by what the customer can do */
    expect_prefs("My broadband is down. I'm deaf.", "", "voice", "");
    expect_prefs("I can't take phone calls at work, my router is dead", "", "voice", "");
    /* a refusal followed by a time refuses the time, not the channel */
    expect_prefs("please don't ring me after 8pm, I have kids asleep", "", "", "before 20:00");
    expect_prefs("I work nights so please don't call before noon", "", "", "not morning");
    expect_prefs("Don't call me between 9 and 5, I'm at work", "", "",
                 "not between 09:00 and 17:00");
    expect_prefs("don't call, email me instead", "email", "voice", "");
    expect_prefs("don't call me before 9am or after 9pm", "", "", "after 09:00 and before 21:00");
    expect_prefs("don't call before noon or in the evening", "", "", "not morning and not evening");
    /* a time said after a contact in the third person, a weekend in days */
    assert_string_equal(
        run("If someone rings me back, make it after 5pm please, I'm at work until then.")
            .preferences.contact_time,
        "after 17:00");
    assert_string_equal(
        run("Please only contact me on a Saturday or Sunday.").preferences.contact_time, "weekend");
    /* a battery or a rate after "at" is no time to call */
    assert_string_equal(run("call me, my phone is at 5%").preferences.contact_time, "");
    assert_string_equal(run("call me, battery at 10 percent").preferences.contact_time, "");
    /* courtesies are how a letter is written, not how one feels */
    r = run("Hi team, I hope you are well. My last invoice shows a charge I do not "
            "recognise. Kind regards, John");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    assert_true(r.preferences.politeness > 0.5f);
    assert_int_equal(run("Thanks in advance").sentiment.label, CLASSIFY_NEUTRAL);
    assert_int_equal(run("Many thanks for your help").sentiment.label, CLASSIFY_POSITIVE);
    /* and thanks closing a complaint is no joy */
    assert_true(
        run("I was charged twice for my order. Please refund it asap. Thanks").emotion.label !=
        CLASSIFY_EMO_JOY);
    r = run("text is better for me");
    /* a preference statement says how to be contacted, not how one feels */
    assert_int_equal(r.sentiment.label, CLASSIFY_NEUTRAL);
    assert_int_equal(run("the new version is better").sentiment.label, CLASSIFY_POSITIVE);
    r = run("Can we do this in Spanish please?");
    assert_string_equal(r.preferences.language, "es");
    r = run("Don't call me, I'm at work");
    assert_string_equal(r.preferences.avoid_channel, "voice");
    assert_string_equal(r.preferences.channel, "");
    r = run("I'm not good with computers, can you go step by step");
    assert_string_equal(r.preferences.pace, "slow");
    r = run("The outage started after 5pm yesterday");
    assert_string_equal(r.preferences.contact_time, ""); /* not about contacting */
    r = run("you idiots");
    assert_true(r.preferences.politeness < 0.1f);
    /* a range of hours, and its start read as the afternoon or not */
    assert_string_equal(run("call me between 2 and 4pm").preferences.contact_time,
                        "between 14:00 and 16:00");
    assert_string_equal(run("call me from 8 to 10am").preferences.contact_time,
                        "from 08:00 to 10:00");
    assert_string_equal(run("call me back on Monday").preferences.contact_time, "monday");
    assert_string_equal(run("Please call me before 5 and 6pm works too").preferences.contact_time,
                        "before 17:00");
    assert_string_equal(run("call me between 5pm and 9am").preferences.contact_time,
                        "between 17:00 and 09:00");
    assert_string_equal(run("call me between 2 and 4pm on Monday").preferences.contact_time,
                        "monday between 14:00 and 16:00");
    assert_string_equal(
        run("call me back, I waited between 2 and 3 hours").preferences.contact_time, "");
    assert_string_equal(run("I got a scam message on whatsapp").preferences.channel, "");
    assert_string_equal(run("the outage was on Monday").preferences.contact_time, "");
    r = run("please don't call me, email only");
    assert_string_equal(r.preferences.channel, "email");
    assert_string_equal(r.preferences.avoid_channel, "voice");
    r = run("please reply by email, not phone");
    assert_string_equal(r.preferences.channel, "email");
    assert_string_equal(r.preferences.avoid_channel, "voice");
    assert_string_equal(run("I'd rather chat here").preferences.channel, "chat");
    assert_string_equal(run("can we do this quickly, I'm on my lunch break").preferences.pace,
                        "brief");
    assert_string_equal(run("je pr\xc3\xa9"
                            "f\xc3\xa8re le fran\xc3\xa7"
                            "ais")
                            .preferences.language,
                        "fr");
    /* a negated pace is no pace */
    assert_string_equal(run("not in a hurry, whenever you can").preferences.pace, "");
    assert_string_equal(run("I'm in a hurry").preferences.pace, "brief");
    assert_string_equal(run("sorry can't chat, in a hurry").preferences.pace, "brief");
    /* a message written in another language asks for it */
    classify_result w = run("Hola, necesito ayuda con mi factura");
    assert_string_equal(w.preferences.language, "es");
    assert_true(has_evidence(&w, CLASSIFY_EV_PREFERENCE, "written_in"));
    assert_string_equal(run("Bonjour, je n'ai pas recu ma commande").preferences.language, "fr");
    /* a word or a name of another language does not make one */
    assert_string_equal(run("I had a nice meal at El Toro last night").preferences.language, "");
    assert_string_equal(run("Hola! I need help with my account please").preferences.language, "");
    /* a language named wins over the one written */
    assert_string_equal(run("Hola, necesito ayuda, in English please").preferences.language, "en");
    /* a refusal of a channel is no request for it */
    r = run("Don't ring me, my phone died. Shoot me an email instead");
    assert_string_equal(r.preferences.channel, "email");
    assert_string_equal(r.preferences.avoid_channel, "voice");
    assert_string_equal(run("send it by snail mail please, I don't do email").preferences.channel,
                        "post");
    assert_string_equal(run("can we just do this on chat?").preferences.channel, "chat");
    /* the common words of a language, not only its service words, and
     * English that only looks like one; pace wordings, and praise that
     * only looks like one */
    static const struct {
        const char *text;
        int pace; /* 0: the language is wanted, 1: the pace */
        const char *want;
    } wordings[] = {
        {"Ik ben niet zo handig met de computer, kunt u het uitleggen?", 0, "nl"},
        {"Dzie\xc5\x84 dobry, prosz\xc4\x99 o pomoc z moim kontem", 0, "pl"},
        {"A gem of a movie.", 0, ""},
        {"What do I do to activate?", 0, ""},
        {"tldr please, is it approved or not?", 1, "brief"},
        {"I want a full breakdown of the fee", 1, "detailed"},
        {"bottom line, great product", 1, ""},
        {"it was worth every penny", 1, ""},
    };
    for (size_t k = 0; k < sizeof wordings / sizeof wordings[0]; k++) {
        const classify_result got = run(wordings[k].text);
        const char *v = wordings[k].pace ? got.preferences.pace : got.preferences.language;
        if (strcmp(v, wordings[k].want) != 0)
            fail_msg("\"%s\": \"%s\", want \"%s\"", wordings[k].text, v, wordings[k].want);
    }
    /* a break is a time to be reached, not a wish for haste */
    r = run("I'm free on my lunch break, can someone call me then?");
    assert_string_equal(r.preferences.contact_time, "midday");
    assert_string_equal(r.preferences.pace, "");
}

/* --- the shared analysis ---------------------------------------------------------- */

/* The phrase filters may let a key through that is no phrase, never the
 * other way round: every phrase and every start of one passes. */
static void test_phrase_filters(void **state)
{
    (void)state;
    const lex_table *lex = &clf->lex;
    size_t phrases = 0;
    for (size_t i = 0; i < lex->used; i++) {
        const lex_entry *e = &lex->entries[i];
        if (e->ntok < 2)
            continue;
        phrases++;
        assert_true(lex_maybe_phrase(lex, e->key));
        assert_true(lex_maybe_prefix(lex, e->key));
        assert_ptr_equal(lex_find(lex, e->key), e);
        /* its first word is marked as a start, long enough for it */
        ctok_run(lex_name(lex, e), strlen(lex_name(lex, e)), &tb);
        assert_int_equal(tb.n, e->ntok);
        const lex_entry *w = lex_find(lex, tb.tok[0].hash);
        assert_non_null(w);
        assert_true(w->flags & LEX_F_PHRASE_START);
        assert_true(w->phrase_max >= e->ntok);
        assert_true(w->second_sig & lex_sig_bit(tb.tok[1].hash));
        uint64_t key = CTOK_PHRASE_SEED;
        for (size_t k = 0; k < tb.n; k++) {
            key = ctok_phrase_step(key, tb.tok[k].hash);
            if (k >= 1)
                assert_true(lex_maybe_prefix(lex, key));
        }
        assert_true(key == e->key);
    }
    assert_true(phrases > 0);
}

/* LEX_H_* says what an entry carries; the stages skip on it. */
static void test_entry_kinds(void **state)
{
    (void)state;
    const lex_table *lex = &clf->lex;
    for (size_t i = 0; i < lex->used; i++) {
        const lex_entry *e = &lex->entries[i];
        assert_int_equal((e->has & LEX_H_EMOTION) != 0, (e->flags & LEX_F_EMOTION) != 0);
        assert_int_equal((e->has & LEX_H_ABUSE) != 0, e->abuse != LEX_ABUSE_NONE);
        assert_int_equal((e->has & LEX_H_PREF) != 0, e->pref != LEX_PREF_NONE);
        assert_int_equal((e->has & LEX_H_URGENCY) != 0, e->urgency != 0 || e->effort != 0);
        if (e->has & LEX_H_THREAT)
            assert_true(e->has & LEX_H_ABUSE);
        if (e->flags & LEX_F_VALENCE)
            assert_true(e->has & LEX_H_SENTIMENT);
    }
    ctok_run("idiot you", 9, &tb);
    const lex_entry *idiot = lex_find(lex, tb.tok[0].hash);
    const lex_entry *you = lex_find(lex, tb.tok[1].hash);
    assert_non_null(idiot);
    assert_non_null(you);
    assert_true(idiot->has & LEX_H_THREAT);
    assert_true(you->has & LEX_H_ABUSE);
    assert_false(you->has & LEX_H_THREAT);
}

static void test_negation_scope(void **state)
{
    (void)state;
    /* a word in n't negates whether or not the lexicon knows it */
    assert_true(score("the fix mightn't be good") < 0);
    /* negators do not stack: the nearer one negates */
    assert_true(score("it is not never good") < 0);
    /* the scope is four tokens and stops at a contrast word */
    assert_true(score("not a single one of them was good") > 0);
    assert_true(score("not cheap but good") > 0);
    /* a negator inside an idiom negates nothing after it */
    assert_true(score("not bad, good") > 0);
    /* under a negation "too" only intensifies: "not too good" is bad */
    assert_true(score("not feeling too good today") < 0);
    /* nor past a word that opens a clause of its own */
    assert_true(score("I don't know why it is so bad") < 0);
    assert_true(score("I can't tell you how happy I am") > 0);
    assert_true(score("you will never understand how idiotic that is") < 0);
    /* nor past a word that affirms what follows */
    assert_true(score("not angry just disappointed") < 0);
    assert_true(score("not only slow but rude") < 0);
    assert_true(score("I'm not upset, merely disappointed") < 0);
    classify_result r = run("I am not happy");
    assert_true(has_evidence(&r, CLASSIFY_EV_EMOTION, "negated_emotion"));
}

static void test_evidence_text(void **state)
{
    (void)state;
    classify_result r = run("well, thanks for nothing");
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_SENTIMENT, "idiom"), "thanks for nothing");
    r = run("the update is not good");
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_SENTIMENT, "negation"), "not good");
    r = run("call me after 5 pm please");
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_PREFERENCE, "contact_time"), "after 5 pm");
    /* a long word is cut at a UTF-8 boundary within the item */
    char text[256];
    snprintf(text, sizeof text, "terrible %s", "ééééééééééééééééééééééééééééééééééé");
    r = run(text);
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_SENTIMENT, "lexicon"), "terrible");
    /* a full list keeps the strongest items of each kind, texts whole */
    char many[4096] = "";
    for (int i = 0; i < 40; i++)
        strcat(many, i % 2 ? "awful " : "bad ");
    strcat(many, "horrible");
    r = run(many);
    assert_int_equal(r.n_evidence, CLASSIFY_MAX_EVIDENCE);
    int horrible = 0;
    for (unsigned i = 0; i < r.n_evidence; i++) {
        const char *t = r.evidence[i].text;
        assert_true(strcmp(t, "bad") == 0 || strcmp(t, "awful") == 0 ||
                    strcmp(t, "horrible") == 0 || r.evidence[i].kind != CLASSIFY_EV_SENTIMENT);
        horrible += strcmp(t, "horrible") == 0 && r.evidence[i].kind == CLASSIFY_EV_SENTIMENT;
    }
    assert_int_equal(horrible, 1);
    /* a reading the full list has no item for yet takes one from the kind
     * that has the most: the threat at the end is explained */
    strcat(many, ". I will kill you");
    r = run(many);
    assert_int_equal(r.n_evidence, CLASSIFY_MAX_EVIDENCE);
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_THREAT);
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_THREAT, "threat_phrase"), "i will kill you");
}

/* A text no lexicon knows leaves every stage at its resting value. */
static void test_no_entries(void **state)
{
    (void)state;
    classify_result r = run("qwzx vbnm plokij");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEUTRAL);
    assert_float_equal(r.sentiment.score, 0.0f, 0);
    assert_int_equal(r.emotion.label, CLASSIFY_EMO_NEUTRAL);
    assert_float_equal(r.emotion.scores[CLASSIFY_EMO_NEUTRAL], 1.0f, 0);
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_NONE);
    assert_float_equal(r.urgency.effort, 0.0f, 0);
    assert_float_equal(r.preferences.politeness, 0.0f, 0);
    assert_string_equal(r.preferences.channel, "");
    r = run("");
    assert_int_equal(r.n_tokens, 0);
    assert_float_equal(r.threat.confidence, 0.99f, 1e-6);
}

/* A term with punctuation is refused at load: the tokenizer splits it off
 * and no phrase spans it, so "nice car, shame if" or "sh!t" would never
 * match. The line is named; the same phrase without it loads. */
static void test_lexicon_refusals(void **state)
{
    (void)state;
    char dir[] = "/tmp/attune-test-data-XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const struct {
        const char *name, *text;
    } files[] = {
        {"valence.tsv", "good\t2\n"},
        {"modifiers.tsv", "not\tnegator\t-0.7\n"},
        {"emotion.tsv", "angry\tanger\t1\n"},
        {"urgency.tsv", "asap\turgency\t1.2\n"},
        {"preferences.tsv", "email me\tchannel\temail\n"},
        {"abuse.tsv", "# a comment\nidiot\tname\nnice car, shame if\tthreat\n"},
    };
    char path[sizeof dir + 32];
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[k].name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(files[k].text, f);
        fclose(f);
    }
    classify *c = NULL;
    char err[512];
    classify_options o = {.data_dir = dir, .intent_model = ""};
    assert_int_equal(classify_new(&o, &c, err, sizeof err), ATTUNE_ERR_PARSE);
    assert_null(c);
    assert_non_null(strstr(err, "abuse.tsv:3: "));
    assert_non_null(strstr(err, "punctuation"));
    snprintf(path, sizeof path, "%s/abuse.tsv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("nice car shame if\tthreat\n", f);
    fclose(f);
    assert_int_equal(classify_new(&o, &c, err, sizeof err), ATTUNE_OK);
    classify_result r;
    assert_int_equal(classify_text(c, "nice car shame if", 17, NULL, &r), ATTUNE_OK);
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_THREAT);
    classify_free(c);
    c = NULL;
    /* nor is a second kind or value for one term, which would win silently:
     * "sie" (de) and "si\xc4\x99" (pl) fold to one term; a spelling
     * written twice with the same value is harmless */
    static const struct {
        const char *name, *text, *where;
    } twice[] = {
        {"preferences.tsv", "sie\twritten\tde\nsi\xc4\x99\twritten\tpl\n", "preferences.tsv:2: "},
        {"abuse.tsv", "moron\tname\nmoron\tinsult\n", "abuse.tsv:2: "},
    };
    for (size_t k = 0; k < sizeof twice / sizeof twice[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, twice[k].name);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(twice[k].text, f);
        fclose(f);
        assert_int_equal(classify_new(&o, &c, err, sizeof err), ATTUNE_ERR_PARSE);
        assert_non_null(strstr(err, twice[k].where));
        assert_non_null(strstr(err, "term already is"));
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(k == 0 ? "dias\twritten\tes\nd\xc3\xad"
                       "as\twritten\tes\n"
                     : "moron\tname\nmoron\tname\n",
              f);
        fclose(f);
        assert_int_equal(classify_new(&o, &c, err, sizeof err), ATTUNE_OK);
        classify_free(c);
        c = NULL;
    }
    /* a deadline or duration weight counts only beside its time: another
     * kind on the same term would be read as timed too */
    snprintf(path, sizeof path, "%s/urgency.tsv", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("before\tdeadline\t0.6\nbefore\teffort\t0.3\n", f);
    fclose(f);
    assert_int_equal(classify_new(&o, &c, err, sizeof err), ATTUNE_ERR_PARSE);
    assert_non_null(strstr(err, "urgency.tsv:2: "));
    assert_non_null(strstr(err, "no other kind"));
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[k].name);
        remove(path);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* --- intent and evidence ---------------------------------------------------------- */

static void test_intent(void **state)
{
    (void)state;
    assert_true(classify_intent_count(clf) >= 2);
    classify_result r = run("I forgot my password and can't log in");
    assert_string_equal(r.intent.label, "account_access");
    assert_true(r.intent.confidence > 0.3f && r.intent.confidence <= 1.0f);
    assert_true(has_evidence(&r, CLASSIFY_EV_INTENT, "intent_feature"));
    r = run("I want to cancel my subscription");
    assert_string_equal(r.intent.label, "cancel");
    assert_false(r.intent.no_need);
    /* a short line naming no need of its own is marked, and keeps its
     * contact's intent when that is known; an empty one (an ended event)
     * is no line at all */
    r = run("yes");
    assert_true(r.intent.no_need);
    assert_string_equal(r.intent.label, "other");
    classify_context ctx;
    classify_context_init(&ctx);
    snprintf(ctx.contact_intent, sizeof ctx.contact_intent, "billing");
    r = run_ctx("yes", &ctx);
    assert_true(r.intent.no_need);
    assert_string_equal(r.intent.label, "billing");
    assert_true(r.intent.confidence == CLASSIFY_CARRY_CONFIDENCE);
    assert_string_equal(r.intent.second, "other");
    assert_true(has_evidence(&r, CLASSIFY_EV_INTENT, "contact_intent"));
    r = run_ctx("", &ctx);
    assert_false(r.intent.no_need);
    assert_string_not_equal(r.intent.label, "billing");
}

/* The fast feature path (no names) must give the hashes of the printed
 * names, in the same order: the model file keys its rows by name. */
#define FEAT_MAX 4096
typedef struct {
    size_t n;
    uint64_t hash[FEAT_MAX];
    float wt[FEAT_MAX];
} feat_list;

static void collect_feature(uint64_t hash, const char *name, size_t name_len, float weight,
                            void *arg)
{
    feat_list *l = arg;
    if (l->n >= FEAT_MAX)
        return;
    if (name) {
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t i = 0; i < name_len; i++) {
            h ^= (unsigned char)name[i];
            h *= 0x100000001b3ULL;
        }
        assert_true(hash == (h ? h : 1));
    }
    l->hash[l->n] = hash;
    l->wt[l->n++] = weight;
}

static void test_intent_features_fast_path(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "I forgot my password and can't log in",
        "Où est ma carte? Ça fait 3 semaines!!! sooo slow",
        "card_declined at 5:30pm, f***ing ATM ate it \xf0\x9f\x98\xa1 naïve café",
        "ÉTÉ Straße ﬁne ＡＢＣ 12,000.50",
        "supercalifragilisticexpialidocioussupercalifragilisticexpialidociousxyz word",
        "x",
        "",
    };
    static feat_list named, plain;
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        named.n = plain.n = 0;
        double sq1 =
            classify_intent_features(texts[t], strlen(texts[t]), 1, collect_feature, &named);
        double sq0 =
            classify_intent_features(texts[t], strlen(texts[t]), 0, collect_feature, &plain);
        assert_true(sq0 == sq1);
        assert_int_equal(named.n, plain.n);
        for (size_t i = 0; i < named.n; i++) {
            assert_true(named.hash[i] == plain.hash[i]);
            assert_true(named.wt[i] == plain.wt[i]);
        }
    }
}

/* Prediction reads tables built at load (a row per known word holding its
 * unigram and character grams, bigrams keyed by word hashes, grams only for
 * unknown words); it must give what the plain definition gives: the
 * model's weight of every feature classify_intent_features names, summed,
 * scaled to unit length, plus the bias. The reference reads the model file
 * itself. */
typedef struct {
    char *name;
    size_t row;
} ref_name;

typedef struct {
    size_t k, n;
    size_t nh; /* heads, in the columns after the k labels' */
    char head_name[2][16];
    float head_at[2];
    int lr;
    float bias_value;
    float bias[CLASSIFY_MAX_INTENTS + 2];
    char labels[CLASSIFY_MAX_INTENTS][CLASSIFY_LABEL_MAX];
    ref_name *names;
    float *w;
    double score[CLASSIFY_MAX_INTENTS + 2];
} ref_model;

static int cmp_ref_name(const void *a, const void *b)
{
    return strcmp(((const ref_name *)a)->name, ((const ref_name *)b)->name);
}

static void ref_load(ref_model *m, const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char line[16384];
    assert_non_null(fgets(line, sizeof line, f));
    const int v4 = strcmp(line, "attune-intent-model 4\n") == 0;
    if (!v4)
        assert_string_equal(line, "attune-intent-model 3\n");
    assert_non_null(fgets(line, sizeof line, f));
    m->lr = strcmp(line, "solver lr\n") == 0;
    assert_non_null(fgets(line, sizeof line, f));
    m->k = strtoul(line + 8, NULL, 10);
    for (size_t i = 0; i < m->k; i++) {
        assert_non_null(fgets(line, sizeof line, f));
        line[strcspn(line, "\n")] = '\0';
        size_t ll = strlen(line + 6);
        assert_true(ll < CLASSIFY_LABEL_MAX);
        memcpy(m->labels[i], line + 6, ll + 1);
    }
    m->nh = 0;
    if (v4) {
        assert_non_null(fgets(line, sizeof line, f));
        m->nh = strtoul(line + 6, NULL, 10);
        assert_true(m->nh <= 2);
        for (size_t h = 0; h < m->nh; h++) {
            assert_non_null(fgets(line, sizeof line, f));
            assert_int_equal(sscanf(line, "head %15s %f", m->head_name[h], &m->head_at[h]), 2);
        }
    }
    const size_t cols = m->k + m->nh;
    assert_non_null(fgets(line, sizeof line, f));
    char *p = line + 5;
    m->bias_value = strtof(p, &p);
    for (size_t i = 0; i < cols; i++)
        m->bias[i] = strtof(p, &p);
    assert_non_null(fgets(line, sizeof line, f));
    m->n = strtoul(line + 9, NULL, 10);
    m->names = calloc(m->n, sizeof *m->names);
    m->w = calloc(m->n * cols, sizeof *m->w);
    assert_non_null(m->names);
    assert_non_null(m->w);
    for (size_t r = 0; r < m->n; r++) {
        assert_non_null(fgets(line, sizeof line, f));
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        m->names[r].name = strdup(line);
        m->names[r].row = r;
        p = tab + 1;
        for (size_t i = 0; i < cols; i++)
            m->w[r * cols + i] = strtof(p, &p);
    }
    fclose(f);
    qsort(m->names, m->n, sizeof *m->names, cmp_ref_name);
}

static void ref_feature(uint64_t hash, const char *name, size_t name_len, float weight, void *arg)
{
    (void)hash;
    (void)name_len;
    ref_model *m = arg;
    ref_name key = {(char *)name, 0};
    const ref_name *hit = bsearch(&key, m->names, m->n, sizeof *m->names, cmp_ref_name);
    const size_t cols = m->k + m->nh;
    if (hit)
        for (size_t i = 0; i < cols; i++)
            m->score[i] += (double)weight * m->w[hit->row * cols + i];
}

/* The probability a head gives, in the evidence the threat reading has
 * for it, or -1 when the head raised nothing. */
static double head_evidence(const classify_result *r, const char *head)
{
    const classify_evidence *e = find_evidence(r, CLASSIFY_EV_THREAT, "threat_model", head);
    return e ? e->weight : -1;
}

/* Checks classifier c against the definition for each text: the label,
 * and the confidence to 1e-3 (the reference sums in double); and each
 * head: a head whose probability reaches its threshold leaves the threat
 * reading at its level or above, and a head that raised the reading did so
 * with its probability. */
static void check_definition(classify *c, const char *model_path, const char *const *texts,
                             size_t n_texts)
{
    static ref_model m;
    memset(&m, 0, sizeof m);
    ref_load(&m, model_path);
    assert_int_equal(m.k, classify_intent_count(c));
    for (size_t t = 0; t < n_texts; t++) {
        memset(m.score, 0, sizeof m.score);
        double sq = classify_intent_features(texts[t], strlen(texts[t]), 1, ref_feature, &m);
        double norm = sq > 0 ? 1.0 / sqrt(sq) : 0.0;
        double prob[CLASSIFY_MAX_INTENTS], total = 0, maxs = -1e30;
        for (size_t i = 0; i < m.k; i++) {
            m.score[i] = m.score[i] * norm + (double)m.bias[i] * m.bias_value;
            if (m.score[i] > maxs)
                maxs = m.score[i];
        }
        size_t best = 0;
        for (size_t i = 0; i < m.k; i++) {
            prob[i] = m.lr ? 1.0 / (1.0 + exp(-m.score[i])) : exp(4.0 * (m.score[i] - maxs));
            total += prob[i];
            if (prob[i] > prob[best])
                best = i;
        }
        classify_result r;
        assert_int_equal(classify_text(c, texts[t], strlen(texts[t]), NULL, &r), ATTUNE_OK);
        assert_string_equal(r.intent.label, m.labels[best]);
        assert_true(fabs(r.intent.confidence - prob[best] / total) < 1e-3);
        for (size_t h = 0; h < m.nh; h++) {
            const double z = m.score[m.k + h] * norm + (double)m.bias[m.k + h] * m.bias_value;
            const double p = 1.0 / (1.0 + exp(-z));
            const classify_threat_level lv = strcmp(m.head_name[h], "threat") == 0
                                                 ? CLASSIFY_THREAT_THREAT
                                                 : CLASSIFY_THREAT_ABUSE;
            if (p >= m.head_at[h] + 1e-4)
                assert_true(r.threat.level >= lv);
            const double ev = head_evidence(&r, m.head_name[h]);
            if (ev >= 0) {
                assert_true(fabs(ev - p) < 1e-3);
                assert_true(p >= m.head_at[h] - 1e-4);
            }
        }
    }
    for (size_t r = 0; r < m.n; r++)
        free(m.names[r].name);
    free(m.names);
    free(m.w);
}

static void test_intent_matches_definition(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "I forgot my password and can't log in",
        "my flight was cancelled and I want my money back",
        "I want to cancel my subscription",
        "wher is my parcle, it is 3 dayss late!!!",
        "Où est ma carte? Ça fait 3 semaines",
        "the the the card card card",
        "Zyxwvut qwertyuiop asdfgh",
        "12 34 56",
        "x",
        "",
        /* for the heads of the shipped model */
        "Sleep well tonight.",
        "I know which bus you get home. Fix my bill.",
        "you useless waste of space",
        "the knife set arrived blunt, can I return it?",
    };
    char path[4200];
    snprintf(path, sizeof path, "%s/intent.model", data_dir());
    check_definition(clf, path, texts, sizeof texts / sizeof texts[0]);
}

/* Writes a model of 13 labels (more than one chunk of twelve columns) that
 * has a word, bigrams, a passive stem and grams in and out of ASCII
 * (Cyrillic: accents are folded away); with
 * many_bytes, also grams of 64 different ASCII bytes (too many for the
 * direct table of 3-grams, so that ASCII words take the other path). */
static void write_wide_model(const char *path, int many_bytes)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("attune-intent-model 3\nsolver lr\nclasses 13\n", f);
    for (int i = 0; i < 13; i++)
        fprintf(f, "label l%d\n", i);
    fputs("bias 1 0.1 0 0 0 0 0 0 0 0 0 0 0 -0.1\n", f);
    static const char *const rows[] = {
        "w:card\t2 0 0 0 0 0 0 0 0 0 0 0 0.5",
        "b:<s> card\t0.5 0 0 0 0 0 0 0 0 0 0 0 0",
        "b:card card\t0.25 0 0 0 0 0 0 0 0 0 0 -0.5 0",
        "b:card </s>\t0 0 0 0 0 0 0 0 0 0 0 0 0.25",
        "p:cancel\t0 0 0 3 0 0 0 0 0 0 0 0 0",
        "c:<ca\t0.5 0 0 0 0 0 0 0 0 0 0 0 0",
        "c:ard\t0.5 0 0 0 0 0 0 0 0 0 0 0 0",
        "c:жук\t0 0 0 0 0 0 0 0 0 0 0 4 0",
        "c:<жу\t0 0 0 0 0 0 0 0 0 0 0 2 0",
        "c:zzy\t0 0 0 0 0 0 0 0 0 0 0 0 4",
        "c:yzx\t0 0 0 0 0 0 0 0 0 0 0 0 2",
        "c:led\t0 0 0 1 0 0 0 0 0 0 0 0 0",
    };
    const size_t n_rows = sizeof rows / sizeof rows[0];
    fprintf(f, "features %zu\n", n_rows + (many_bytes ? 64 : 0));
    for (size_t r = 0; r < n_rows; r++)
        fprintf(f, "%s\n", rows[r]);
    for (int b = 0; many_bytes && b < 64; b++)
        fprintf(f, "c:%c%c%c\t0 0 0 0 0 0 0 0 0 0 0.01 0 0\n", 0x21 + b, 0x21 + b, 0x21 + b);
    fclose(f);
}

/* Fills buf with phrase over and over, whole phrases only. */
static void repeat_text(char *buf, size_t size, const char *phrase)
{
    size_t n = 0, pl = strlen(phrase);
    while (n + pl < size) {
        memcpy(buf + n, phrase, pl);
        n += pl;
    }
    buf[n] = '\0';
}

/* Creates a temporary model file: path (a "...XXXXXX" template) gets its
 * name; the caller writes the model and closes the stream. */
static FILE *open_temp_model(char *path)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    return f;
}

static classify *load_with_model(const char *path)
{
    classify *c = NULL;
    char err[512];
    classify_options o = {.data_dir = data_dir(), .intent_model = path};
    assert_int_equal(classify_new(&o, &c, err, sizeof err), ATTUNE_OK);
    return c;
}

/* Prediction with a model of more labels than one pass sums, with and
 * without the direct table of ASCII 3-grams, and a text that adds more
 * rows than the evidence keeps: the same as the definition. */
static void test_intent_wide_model(void **state)
{
    (void)state;
    static char long_text[8000];
    repeat_text(long_text, sizeof long_text, "card card zzyzx ");
    static const char *const texts[] = {
        "card",
        "card card card",
        "zzyzx",
        "les жуки",
        "the order was cancelled",
        "was it cancelled? it got canceled",
        "Cardzzyzx жук éclair 12",
        long_text,
        "x",
        "",
    };
    for (int many_bytes = 0; many_bytes <= 1; many_bytes++) {
        char path[] = "/tmp/attune-test-model-XXXXXX";
        fclose(open_temp_model(path));
        write_wide_model(path, many_bytes);
        classify *c = load_with_model(path);
        check_definition(c, path, texts, sizeof texts / sizeof texts[0]);
        /* the thirteenth label (the second pass) and its evidence */
        classify_result r;
        assert_int_equal(classify_text(c, "zzyzx", 5, NULL, &r), ATTUNE_OK);
        assert_string_equal(r.intent.label, "l12");
        int found = 0;
        for (unsigned i = 0; i < r.n_evidence; i++)
            found |= r.evidence[i].kind == CLASSIFY_EV_INTENT &&
                     strcmp(r.evidence[i].text, "c:zzy") == 0;
        assert_true(found);
        assert_int_equal(classify_text(c, "жуки", strlen("жуки"), NULL, &r), ATTUNE_OK);
        assert_string_equal(r.intent.label, "l11");
        classify_free(c);
        remove(path);
    }
}

/* A model of three labels (one chunk of twelve columns, summed as the rows
 * are found) whose bigram "my card" has a word without a row ("my") unless
 * with_my: a word the model does not know must then still have its bigrams
 * looked up. The texts include one of more tokens than the short path
 * takes and one that fills the evidence's list. */
static void test_intent_bigram_of_unknown_word(void **state)
{
    (void)state;
    static char long_text[8000];
    repeat_text(long_text, sizeof long_text, "my card zzyx ");
    static const char *const texts[] = {
        "my card",
        "card my card",
        "is my card blocked",
        "my card was blocked and my card got cancelled",
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty my card twenty-one twenty-two "
        "twenty-three twenty-four twenty-five twenty-six twenty-seven my card",
        long_text,
        "",
    };
    for (int with_my = 0; with_my <= 1; with_my++) {
        char path[] = "/tmp/attune-test-model-XXXXXX";
        FILE *f = open_temp_model(path);
        fputs("attune-intent-model 3\nsolver lr\nclasses 3\nlabel a\nlabel b\nlabel c\n"
              "bias 1 0.1 0 -0.1\n",
              f);
        fprintf(f, "features %d\n", 8 + with_my);
        fputs("w:card\t1 0 0.25\n"
              "b:my card\t0 3 0\n"
              "b:<s> my\t0 0.5 0\n"
              "b:card </s>\t0.5 0 0\n"
              "p:block\t0 0 2\n"
              "c:<my\t0 0 0.5\n"
              "c:zzy\t0 0 1\n"
              "c:ked\t0.25 0 0\n",
              f);
        if (with_my)
            fputs("w:my\t0 -0.5 0\n", f);
        fclose(f);
        classify *c = load_with_model(path);
        check_definition(c, path, texts, sizeof texts / sizeof texts[0]);
        classify_result r;
        assert_int_equal(classify_text(c, "my card", 7, NULL, &r), ATTUNE_OK);
        assert_string_equal(r.intent.label, "b");
        classify_free(c);
        remove(path);
    }
}

/* Something cancelled by the airline, the shop or the system is a service
 * failure, not a customer asking to leave (it used to send such customers
 * to retention). Requests to cancel stay "cancel". None of these sentences
 * is in the training examples. */
static void test_intent_passive_cancellation(void **state)
{
    (void)state;
    static const char *const not_churn[] = {
        "my flight was cancelled",
        "the order was cancelled by you",
        "our train got canceled",
        "they cancelled my appointment without telling me",
        "Our holiday was canceled by the tour operator",
        "my booking has been cancelled",
        "my parcel was cancelled by the courier",
        /* Stopping one payment is a billing matter, not leaving. */
        "please cancel the transfer I just made",
        "how do I stop the payment I sent yesterday",
    };
    static const char *const churn[] = {
        "I want to cancel my subscription",
        "please cancel my order",
        "cancel my account",
        "how do I cancel my contract",
        "I need to cancel my booking for next week",
    };
    for (size_t i = 0; i < sizeof not_churn / sizeof not_churn[0]; i++) {
        classify_result r = run(not_churn[i]);
        if (strcmp(r.intent.label, "cancel") == 0)
            fail_msg("\"%s\" read as cancel", not_churn[i]);
    }
    for (size_t i = 0; i < sizeof churn / sizeof churn[0]; i++)
        assert_string_equal(run(churn[i]).intent.label, "cancel");
}

/* Loads a model of this text, which must be refused with an error that
 * holds want. */
static void expect_model_refused(const char *model, const char *want)
{
    char path[] = "/tmp/attune-test-model-XXXXXX";
    FILE *f = open_temp_model(path);
    fputs(model, f);
    fclose(f);
    classify *c = NULL;
    char err[512];
    classify_options o = {.data_dir = data_dir(), .intent_model = path};
    assert_int_equal(classify_new(&o, &c, err, sizeof err), ATTUNE_ERR_PARSE);
    assert_null(c);
    remove(path);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not say \"%s\"", err, want);
}

/* Writes a model of version 4: k labels and the two heads, threat from
 * 0.6 and hostile from 0.7, over the words "plugh" (both heads) and "zork"
 * (hostile only) and a gram for the labels. */
static void write_head_model(FILE *f, int k)
{
    fprintf(f, "attune-intent-model 4\nsolver lr\nclasses %d\n", k);
    for (int i = 0; i < k; i++)
        fprintf(f, "label l%d\n", i);
    fputs("heads 2\nhead threat 0.6\nhead hostile 0.7\nbias 1", f);
    for (int i = 0; i < k; i++)
        fputs(i == 0 ? " 0.1" : " 0", f);
    fputs(" -2 -2\nfeatures 3\n", f);
    static const char *const rows[] = {"w:plugh", "w:zork", "c:zzy"};
    static const char *const heads[] = {" 8 6", " 0 8", " 0 0"};
    for (int r = 0; r < 3; r++) {
        fprintf(f, "%s\t", rows[r]);
        for (int i = 0; i < k; i++)
            fputs(i == 0 ? (r == 2 ? "1" : "0") : " 0", f);
        fprintf(f, "%s\n", heads[r]);
    }
}

/* The heads of a model (version 4) read the threat: a head whose
 * probability reaches its threshold raises the reading to its level (a
 * threat, or abuse for "hostile"), with the head and the feature that
 * pushed for it as evidence; below, or when the rules read as much
 * already, nothing changes. With labels in one chunk of twelve columns
 * (2 + 2), in two (11 + 2), and as many as a model may have (the heads'
 * columns past the labels' 128). */
static void test_intent_heads(void **state)
{
    (void)state;
    static const char *const texts[] = {"plugh plugh",          "zork you", "plugh and zork",
                                        "hello there",          "xyzzy",    "",
                                        "I will kill you, zork"};
    static const int labels[] = {2, 11, 127, CLASSIFY_MAX_INTENTS};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        char path[] = "/tmp/attune-test-model-XXXXXX";
        FILE *f = open_temp_model(path);
        write_head_model(f, labels[i]);
        fclose(f);
        classify *c = load_with_model(path);
        check_definition(c, path, texts, sizeof texts / sizeof texts[0]);
        classify_result r;
        /* threat: 2 x 8 / sqrt(7.5) - 2, p = 0.98 */
        assert_int_equal(classify_text(c, "plugh plugh", 11, NULL, &r), ATTUNE_OK);
        assert_int_equal(r.threat.level, CLASSIFY_THREAT_THREAT);
        assert_true(fabs(r.threat.confidence - head_evidence(&r, "threat")) < 1e-6);
        assert_true(r.threat.confidence > 0.97f);
        assert_non_null(find_evidence(&r, CLASSIFY_EV_THREAT, "threat_model_feature", "w:plugh"));
        assert_true(head_evidence(&r, "hostile") < 0); /* a threat is more */
        /* hostile: 8 / sqrt(6.75) - 2, p = 0.75 */
        assert_int_equal(classify_text(c, "zork you", 8, NULL, &r), ATTUNE_OK);
        assert_int_equal(r.threat.level, CLASSIFY_THREAT_ABUSE);
        assert_true(head_evidence(&r, "hostile") > 0.7);
        assert_true(head_evidence(&r, "threat") < 0);
        /* the rules read a threat already: the heads add nothing */
        assert_int_equal(classify_text(c, "I will kill you, zork", 21, NULL, &r), ATTUNE_OK);
        assert_int_equal(r.threat.level, CLASSIFY_THREAT_THREAT);
        assert_true(head_evidence(&r, "hostile") < 0);
        /* the rules found a threat that is not made (quoted, reported,
         * asked about): the heads leave it */
        static const char quoted[] = "the film says \"I will kill you\" plugh plugh";
        assert_int_equal(classify_text(c, quoted, strlen(quoted), NULL, &r), ATTUNE_OK);
        assert_int_equal(r.threat.level, CLASSIFY_THREAT_NONE);
        assert_true(head_evidence(&r, "threat") < 0 && head_evidence(&r, "hostile") < 0);
        /* but only in that sentence: the rest reads as if it stood alone
         * (a quoted line must not hide a threat made beside it) */
        static const char beside[] = "the film says \"I will kill you\". plugh plugh";
        assert_int_equal(classify_text(c, beside, strlen(beside), NULL, &r), ATTUNE_OK);
        assert_int_equal(r.threat.level, CLASSIFY_THREAT_THREAT);
        classify_result alone;
        assert_int_equal(classify_text(c, "plugh plugh", 11, NULL, &alone), ATTUNE_OK);
        assert_true(fabs(head_evidence(&r, "threat") - head_evidence(&alone, "threat")) < 1e-6);
        /* below the thresholds */
        assert_int_equal(classify_text(c, "hello there", 11, NULL, &r), ATTUNE_OK);
        assert_int_equal(r.threat.level, CLASSIFY_THREAT_NONE);
        assert_true(head_evidence(&r, "threat") < 0 && head_evidence(&r, "hostile") < 0);
        classify_free(c);
        remove(path);
    }
}

/* A head whose sum overflows (weights near FLT_MAX) still raises the
 * reading, and leaves the labels' probabilities as the definition has
 * them (its lane once made their total NaN). */
static void test_intent_heads_overflow(void **state)
{
    (void)state;
    static const char *const texts[] = {"plugh plugh plugh", "card", "plugh card"};
    char path[] = "/tmp/attune-test-model-XXXXXX";
    FILE *f = open_temp_model(path);
    fputs("attune-intent-model 4\nsolver lr\nclasses 2\nlabel a\nlabel b\nheads 2\n"
          "head threat 0.5\nhead hostile 0.5\nbias 1 0.1 -0.1 0 0\nfeatures 2\n"
          "w:plugh\t0.5 0 3e38 3e38\nw:card\t0 1 0 0\n",
          f);
    fclose(f);
    classify *c = load_with_model(path);
    check_definition(c, path, texts, sizeof texts / sizeof texts[0]);
    classify_result r;
    assert_int_equal(classify_text(c, texts[0], strlen(texts[0]), NULL, &r), ATTUNE_OK);
    assert_int_equal(r.threat.level, CLASSIFY_THREAT_THREAT);
    assert_string_equal(r.intent.label, "a");
    classify_free(c);
    remove(path);
}

/* A model whose head lines are wrong is refused, with the line named. */
static void test_intent_heads_refused(void **state)
{
    (void)state;
    static const char *const heads[] = {
        "heads 1\nhead boss 0.5\n",                     /* a head attune does not know */
        "heads 1\nhead threat 1\n",                     /* not a probability */
        "heads 1\nhead threat 0\n",                     /* nor this */
        "heads 1\nhead threat\n",                       /* no threshold */
        "heads 2\nhead threat 0.5\nhead threat 0.6\n",  /* twice */
        "heads 3\nhead threat 0.5\nhead hostile 0.5\n", /* too many */
        "head threat 0.5\n",                            /* no count */
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        char model[512];
        snprintf(model, sizeof model,
                 "attune-intent-model 4\nsolver lr\nclasses 2\nlabel a\nlabel b\n%s"
                 "bias 1 0 0 0 0\nfeatures 1\nw:x\t1 -1 0 0\n",
                 heads[i]);
        expect_model_refused(model, "head");
    }
    /* the heads' weights are wanted on every line */
    expect_model_refused("attune-intent-model 4\nsolver lr\nclasses 2\nlabel a\nlabel b\nheads 1\n"
                         "head hostile 0.5\nbias 1 0 0 0\nfeatures 1\nw:x\t1 -1\n",
                         ":10: bad weights");
}

/* A model of the first format (no passive feature) is refused, with the
 * file and line named. */
static void test_intent_model_version(void **state)
{
    (void)state;
    expect_model_refused("attune-intent-model 1\nsolver lr\nclasses 2\nlabel a\nlabel b\n"
                         "bias 1 0 0\nfeatures 1\nw:x\t1 -1\n",
                         ":1: ");
    expect_model_refused("attune-intent-model 3\nsolver lr\nclasses 2\nlabel a\nlabel b\n"
                         "bias 1 0 0\nfeatures 3\nw:x\t1 -1\nc:<x>\t0.5 0\nq:x\t1 1\n",
                         ":10: ");
    char path[] = "/tmp/attune-test-model-XXXXXX";
    FILE *f = open_temp_model(path);
    classify *c = NULL;
    char err[512];
    classify_options o = {.data_dir = data_dir(), .intent_model = path};
    fputs("attune-intent-model 3\nsolver lr\nclasses 2\nlabel a\nlabel b\nbias 1 0 0\n"
          "features 3\nw:x\t1 -1\nc:<x>\t0.5 0\nb:<s> x\t0 1\n",
          f);
    fclose(f);
    assert_int_equal(classify_new(&o, &c, err, sizeof err), ATTUNE_OK);
    classify_result r;
    assert_int_equal(classify_text(c, "x", 1, NULL, &r), ATTUNE_OK);
    /* w:x 1, c:<x> 0.5 x 0.5 (weight of a gram), b:<s> x 0, b:x </s> unknown:
     * a = 1.25 / sqrt(1 + 1 + 0.25 + 1) and b = -1 + 1 over the same */
    assert_string_equal(r.intent.label, "a");
    classify_free(c);
    remove(path);
}

static void test_no_intent_model(void **state)
{
    (void)state;
    classify *c = NULL;
    char err[256];
    classify_options o = {.data_dir = data_dir(), .intent_model = ""};
    assert_int_equal(classify_new(&o, &c, err, sizeof err), ATTUNE_OK);
    classify_result r;
    assert_int_equal(classify_text(c, "hello", 5, NULL, &r), ATTUNE_OK);
    assert_string_equal(r.intent.label, "");
    classify_free(c);
    o.intent_model = "no/such/model";
    assert_int_not_equal(classify_new(&o, &c, err, sizeof err), ATTUNE_OK);
    assert_null(c);
    assert_non_null(strstr(err, "no/such/model"));
    o.data_dir = "no/such/dir";
    assert_int_equal(classify_new(&o, &c, err, sizeof err), ATTUNE_ERR_IO);
    classify_free(NULL);
}

/* classify_text clears only what a stage may leave unwritten: a result
 * that held anything before must come out as a fresh one does, with the
 * intent model and without. */
static void check_reused(classify *c, const char *text)
{
    classify_result fresh, used;
    memset(&fresh, 0, sizeof fresh);
    memset(&used, 0xA5, sizeof used);
    assert_int_equal(classify_text(c, text, strlen(text), NULL, &fresh), ATTUNE_OK);
    assert_int_equal(classify_text(c, text, strlen(text), NULL, &used), ATTUNE_OK);
    char a[CLASSIFY_JSON_MAX], b[CLASSIFY_JSON_MAX];
    assert_true(classify_result_write_json(&fresh, a, sizeof a) > 0);
    assert_true(classify_result_write_json(&used, b, sizeof b) > 0);
    assert_string_equal(a, b);
}

static void test_result_reused(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "",
        "hello",
        "please email me after 5pm, I don't want a call",
        "This is NOT good but the agent was helpful!!",
        "you idiot, I will find you",
        "still waiting, urgent!!! third time I call",
    };
    classify *none = NULL;
    char err[256];
    classify_options o = {.data_dir = data_dir(), .intent_model = ""};
    assert_int_equal(classify_new(&o, &none, err, sizeof err), ATTUNE_OK);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        check_reused(clf, texts[i]);
        check_reused(none, texts[i]);
    }
    classify_free(none);
}

/* The writer prints numbers without printf; it must print what "%.4g"
 * prints for the value rounded to four decimals: every multiple of 10^-4
 * up to +-20, decimal ties at each scale, decade edges, negative zero, and
 * values printf keeps for itself (>= 1000). */
static void check_number(float v)
{
    classify_result r;
    memset(&r, 0, sizeof r);
    r.sentiment.score = v;
    char buf[CLASSIFY_JSON_MAX];
    assert_true(classify_result_write_json(&r, buf, sizeof buf) > 0);
    const char *at = strstr(buf, "\"score\":");
    assert_non_null(at);
    at += 8;
    char want[64];
    double d = round((double)v * 10000.0) / 10000.0;
    snprintf(want, sizeof want, "%.4g", d);
    size_t wl = strlen(want);
    if (strncmp(at, want, wl) != 0 || at[wl] != ',')
        fail_msg("%.9g: wrote %.12s, printf says %s", (double)v, at, want);
}

static void test_json_numbers(void **state)
{
    (void)state;
    for (int i = -200000; i <= 200000; i++)
        check_number((float)i / 10000.0f);
    static const float edges[] = {0.0f,     -0.0f,    -0.00004f, 0.00005f, 0.99995f, 0.99994f,
                                  9.99949f, 9.9995f,  9.9996f,   10.0f,    99.995f,  99.9949f,
                                  100.0f,   999.94f,  999.95f,   999.96f,  1000.0f,  1234.5f,
                                  1.2345f,  1.2355f,  12.345f,   12.355f,  123.45f,  123.55f,
                                  2.0005f,  -2.0005f, 5e6f,      -0.5f,    0.1f};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        check_number(edges[i]);
    /* pseudo-random values over the range the results use and beyond */
    uint32_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        x = x * 1664525u + 1013904223u;
        check_number(((float)(x >> 8) / 16777216.0f - 0.5f) * 3000.0f);
        check_number(((float)(x >> 8) / 16777216.0f - 0.5f) * 4.0f);
    }
}

static void test_json(void **state)
{
    (void)state;
    classify_result r = run("This is not good, call me after 6pm!");
    cJSON *j = NULL;
    assert_int_equal(classify_result_to_json(&r, &j), ATTUNE_OK);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "sentiment");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, "score")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(s, "label")->valuestring, "negative");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "emotion");
    assert_true(cJSON_IsNumber(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "scores"), "anger")));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "intent"));
    assert_non_null(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "urgency"), "level"));
    assert_non_null(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "threat"), "level"));
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "preferences");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(p, "contact_time")->valuestring,
                        "after 18:00");
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "evidence")) > 0);

    /* the tree-less writer says the same thing */
    char buf[CLASSIFY_JSON_MAX];
    size_t n = classify_result_write_json(&r, buf, sizeof buf);
    assert_true(n > 0 && n == strlen(buf));
    cJSON *k = cJSON_Parse(buf);
    assert_non_null(k);
    char *a = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "sentiment"));
    char *b = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(k, "sentiment"));
    assert_string_equal(a, b);
    cJSON_free(a);
    cJSON_free(b);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "evidence")),
                     cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(k, "evidence")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(k, "preferences"), "contact_time")
                            ->valuestring,
                        "after 18:00");
    cJSON_Delete(k);
    assert_int_equal(classify_result_write_json(&r, buf, 16), 0); /* too small: nothing */
    cJSON_Delete(j);
}

/* --- batch lines ------------------------------------------------------------------ */

static attune_err parse(const char *line, classify_batch_item *item, cJSON **id)
{
    char err[256];
    return classify_batch_parse_line(line, strlen(line), item, id, err, sizeof err);
}

static void test_batch_line(void **state)
{
    (void)state;
    classify_batch_item it;
    cJSON *id = NULL;
    assert_int_equal(
        parse("{\"id\":\"a1\",\"text\":\"hi\",\"wait_seconds\":30,"
              "\"context\":{\"status\":\"ok\",\"contacts_24h\":2,\"channel\":\"chat\"}}",
              &it, &id),
        ATTUNE_OK);
    assert_string_equal(it.text, "hi");
    assert_string_equal(it.id->valuestring, "a1");
    assert_true(it.ctx.wait_seconds == 30);
    assert_int_equal(it.ctx.contacts_24h, 2);
    assert_int_equal(it.ctx.channel, CLASSIFY_CHANNEL_CHAT);
    assert_int_equal(it.ctx.known_customer, 1);
    assert_null(id); /* on success the id is it.id */
    classify_batch_item_fini(&it);

    assert_int_equal(parse("{\"id\":7,\"text\":\"x\",\"context\":{\"wait_seconds\":5}}", &it, NULL),
                     ATTUNE_OK);
    assert_true(it.ctx.wait_seconds == 5);
    classify_batch_item_fini(&it);

    assert_int_equal(parse("not json", &it, &id), ATTUNE_ERR_PARSE);
    assert_null(id);
    /* read as strictly as the services read records */
    assert_int_equal(parse("{\"text\":\"a\",\"text\":\"b\"}", &it, &id), ATTUNE_ERR_PARSE);
    assert_int_equal(parse("{\"text\":\"c1\\u0000evil\"}", &it, &id), ATTUNE_ERR_PARSE);
    assert_int_equal(parse("{\"text\":\"\xff\xfe\"}", &it, &id), ATTUNE_ERR_PARSE);
    assert_int_equal(
        parse("{\"text\":\"x\",\"context\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}", &it, &id),
        ATTUNE_ERR_LIMIT);
    assert_null(id);
    assert_int_equal(parse("[1,2]", &it, &id), ATTUNE_ERR_INVALID);
    assert_int_equal(parse("{\"id\":9}", &it, &id), ATTUNE_ERR_INVALID);
    assert_non_null(id); /* the error line can still name the input */
    cJSON_Delete(id);
    id = NULL;
    /* an interaction of a kind without text (a call "started") has none */
    assert_int_equal(parse("{\"id\":\"s1\",\"kind\":\"started\"}", &it, NULL), ATTUNE_OK);
    assert_string_equal(it.text, "");
    classify_batch_item_fini(&it);
    assert_int_equal(parse("{\"kind\":\"ended\",\"text\":null}", &it, NULL), ATTUNE_OK);
    classify_batch_item_fini(&it);
    assert_int_equal(parse("{\"kind\":\"message\",\"text\":5}", &it, NULL), ATTUNE_ERR_INVALID);
    /* a message or a transcript has a text */
    assert_int_equal(parse("{\"kind\":\"message\",\"text\":null}", &it, NULL), ATTUNE_ERR_INVALID);
    assert_int_equal(parse("{\"text\":\"x\",\"context\":{\"contacts_24h\":\"3\"}}", &it, &id),
                     ATTUNE_ERR_INVALID);
    assert_int_equal(parse("{\"text\":\"x\",\"wait_seconds\":-1}", &it, &id), ATTUNE_ERR_INVALID);
    assert_int_equal(parse("{\"text\":\"x\",\"id\":{}}", &it, &id), ATTUNE_ERR_INVALID);
    char *big = malloc(CLASSIFY_BATCH_MAX_LINE + 10);
    assert_non_null(big);
    memset(big, ' ', CLASSIFY_BATCH_MAX_LINE + 9);
    big[CLASSIFY_BATCH_MAX_LINE + 9] = '\0';
    assert_int_equal(parse(big, &it, &id), ATTUNE_ERR_LIMIT);
    free(big);
}

/* --- concurrency ------------------------------------------------------------------ */

static void *worker(void *arg)
{
    float *out = arg;
    for (int i = 0; i < 200; i++) {
        classify_result r;
        const char *t = "I've been waiting for hours, this is NOT ok!!! call me after 5pm";
        if (classify_text(clf, t, strlen(t), NULL, &r) != ATTUNE_OK)
            return NULL;
        *out = r.sentiment.score;
    }
    return out;
}

/* Complaints said without a complaint word, and praise said through
 * "never". */
static void test_service_patterns(void **state)
{
    (void)state;
    static const reading_case cases[] = {
        /* what keeps happening, unless it is loyalty or gets better */
        {"my phone keeps restarting", CLASSIFY_NEGATIVE},
        {"I keep getting logged out of my account", CLASSIFY_NEGATIVE},
        {"the app kept buffering", CLASSIFY_NEGATIVE},
        {"I keep coming back to this shop", CLASSIFY_NEUTRAL},
        {"it keeps getting better", CLASSIFY_POSITIVE},
        {"They keep adding new features", CLASSIFY_NEUTRAL},
        {"I keep telling my friends about this app", CLASSIFY_NEUTRAL},
        {"My wifi keeps going out", CLASSIFY_NEGATIVE},
        /* time already spent */
        {"I was told 5 days. It's been 3 weeks.", CLASSIFY_NEGATIVE},
        {"I can rent it for 3 days", CLASSIFY_NEUTRAL},
        {"is anyone there? been typing for 5 mins", CLASSIFY_NEGATIVE},
        {"I've been using it for 3 weeks and love it", CLASSIFY_POSITIVE},
        {"we've been travelling for 2 weeks and want to add roaming", CLASSIFY_NEUTRAL},
        /* what was never done, unless what follows is the point */
        {"Your agent promised a credit and it never appeared", CLASSIFY_NEGATIVE},
        {"they never even replied", CLASSIFY_NEGATIVE},
        {"I've never had a problem with you", CLASSIFY_POSITIVE},
        {"I've never had a problem like this before", CLASSIFY_NEUTRAL},
        {"I never need to call them", CLASSIFY_NEUTRAL},
        {"I've never needed to call support", CLASSIFY_NEUTRAL},
        /* "never" with "so", "such" or a comparative says it the more */
        {"I have never been happier", CLASSIFY_POSITIVE},
        {"I've never had such good service", CLASSIFY_POSITIVE},
        {"never felt better", CLASSIFY_POSITIVE},
        {"I've never seen such bad service", CLASSIFY_NEGATIVE},
        {"it's never good", CLASSIFY_NEGATIVE},
        {"not such a good idea", CLASSIFY_NEGATIVE},
        {"I never said this was good", CLASSIFY_NEGATIVE},
        {"The app never gets better", CLASSIFY_NEGATIVE},
        /* a wanted good is not had; saying thanks is still thanks */
        {"This is unacceptable, I need this sorted today", CLASSIFY_NEGATIVE},
        {"I just want to say thank you, you were great", CLASSIFY_POSITIVE},
        {"Please tell her she was wonderful", CLASSIFY_POSITIVE},
        /* a plea for help, outages, repeats, changes made unasked */
        {"help", CLASSIFY_NEUTRAL},
        {"internet down again in our area", CLASSIFY_NEGATIVE},
        {"still no refund after 30 days", CLASSIFY_NEGATIVE},
        {"moved my seat without notice", CLASSIFY_NEGATIVE},
        {"The refund came through already, thanks!", CLASSIFY_POSITIVE},
        {"internet has been out since 6am", CLASSIFY_NEGATIVE},
        {"tracking says delivered, nothing here", CLASSIFY_NEGATIVE},
        /* a hashtag is the writer's verdict, outside a negation's scope */
        {"where is my parcel, nothing here #fail", CLASSIFY_NEGATIVE},
        {"really not #happy with this", CLASSIFY_NEGATIVE},
        /* how fast a fault goes is no praise; a fast fix is */
        {"battery drains super fast since the update", CLASSIFY_NEGATIVE},
        {"they fixed it fast", CLASSIFY_POSITIVE},
        {"They dealt with my complaint quickly, thank you", CLASSIFY_POSITIVE},
        {"the refund was not quick", CLASSIFY_NEGATIVE},
        /* what will not do its job; a habit or a warning is no fault */
        {"the app wont load", CLASSIFY_NEGATIVE},
        {"my laptop won't even turn on", CLASSIFY_NEGATIVE},
        {"the app won't even open", CLASSIFY_NEGATIVE},
        {"Can I pay without logging in?", CLASSIFY_NEUTRAL},
        {"Is it possible to not update to the new version?", CLASSIFY_NEUTRAL},
        {"I didn't open the email", CLASSIFY_NEUTRAL},
        {"it's not charging", CLASSIFY_NEGATIVE},
        {"do not open the link", CLASSIFY_NEUTRAL},
        {"how do I update my address", CLASSIFY_NEUTRAL},
        /* fraud reported, escalation announced, fillers of a call */
        {"there's a payment on my card I didn't make", CLASSIFY_NEGATIVE},
        {"I'll be taking this further", CLASSIFY_NEGATIVE},
        {"um yeah hi, I'm calling about my bill", CLASSIFY_NEUTRAL},
        {"the smart meter display is on", CLASSIFY_NEUTRAL},
    };
    assert_labels(cases, sizeof cases / sizeof cases[0]);
    classify_result r = run("my phone keeps restarting");
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_SENTIMENT, "keeps_doing"),
                        "keeps restarting");
    r = run("It hasn't even been 2 days and it broke");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "waited"));
    r = run("been waiting for 2 hours");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "waited")); /* the idiom says it */
    r = run("It's been 3 weeks.");
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_SENTIMENT, "waited"), "been 3 weeks");
    r = run("they never even replied");
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_SENTIMENT, "never_did"),
                        "never even replied");
    r = run("I have never been happier");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "never_so"));
    r = run("I need this sorted today");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "wish"));
    /* a command against how the writer is treated accuses; advice and
     * comfort are negated as ever */
    r = run("So don't lie to us!");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "reproach"));
    assert_true(r.sentiment.score < 0);
    assert_true(run("Do not waste my time").sentiment.score < 0);
    r = run("don't waste your money");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "reproach"));
    r = run("Don't worry about it");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "reproach"));
    {
        /* advice, and a bad word not aimed at the writer */
        static const char *const advice[] = {
            "Don't blame yourself, these things happen.",
            "Don't lie down right after eating, my doctor said.",
            "Don't ignore the warning light on the dashboard, the manual says.",
            "Don't mean to be rude but where is my parcel?",
        };
        for (size_t k = 0; k < sizeof advice / sizeof advice[0]; k++) {
            r = run(advice[k]);
            if (has_evidence(&r, CLASSIFY_EV_SENTIMENT, "reproach"))
                fail_msg("\"%s\" read as a reproach", advice[k]);
        }
    }
    /* more of a good thing is a fault, but not in praise or thanks */
    assert_true(score("too sweet for me") < 0);
    assert_true(score("Too good for words!") > 0);
    assert_true(score("that's too generous of you, thank you") > 0);
    /* good only until something came is a complaint; a time ahead is not */
    r = run("It was working fine until the update");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "good_until"));
    assert_true(r.sentiment.score < 0);
    assert_true(score("I'm happy to wait until Monday") > 0);
    /* ... and so is an idiom of no trouble, until something came */
    r = run("I never had a problem with the app until the update");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "good_until"));
    assert_true(r.sentiment.score < 0);
    {
        /* a span, a shop's till, a time ahead, praise that goes on */
        static const char *const still_good[] = {
            "The staff were great at the till",
            "Staff were friendly from arrival until departure",
            "Our team is working until 8pm tonight to fix this",
            "I was happy to wait until the engineer came, he was great",
            "The show was brilliant right up until the very end",
            "It's been great till now, keep it up",
            "Help desk were brilliant",
            "No one does it better than you guys!",
            "No one else was as helpful as Sarah, thank you",
        };
        for (size_t k = 0; k < sizeof still_good / sizeof still_good[0]; k++)
            if (!(score(still_good[k]) > 0))
                fail_msg("\"%s\" read as not glad", still_good[k]);
    }
    r = run("I was happy until I saw the bill");
    assert_int_not_equal(r.emotion.label, CLASSIFY_EMO_JOY);
    r = run("I'll keep calling until you help me");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "pending"));
    /* "no one" negates what follows it, as "nobody" does */
    assert_true(score("no one is able to help me") < 0);
    assert_true(score("No one loves me") < 0);
    /* a plea is no praise */
    r = run("HELP ME HELLOOOOO");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "plea"));
    assert_int_equal(r.sentiment.label, CLASSIFY_NEUTRAL);
    /* "till" waits as "until" does */
    r = run("I'll keep calling till it's fixed");
    assert_true(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "pending"));
    /* what is waited for is not had at all */
    r = run("I will keep tweeting and calling until it's fixed");
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_SENTIMENT, "pending"), "fixed");
    assert_true(r.sentiment.score <= 0);
    r = run("the page still won't load");
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_SENTIMENT, "fails"), "won't load");
    r = run("I don't play games");
    assert_false(has_evidence(&r, CLASSIFY_EV_SENTIMENT, "fails"));
}

/* Readings a red team of contact-center messages found wrong (the
 * twenty-first round). */
static void test_red_team_round(void **state)
{
    (void)state;
    static const reading_case urgency[] = {
        /* self-harm said of someone else, hopelessness in plain words */
        {"My son said he wants to kill himself because of the letters.", CLASSIFY_URGENCY_CRITICAL},
        {"I honestly don't see the point in anything anymore.", CLASSIFY_URGENCY_CRITICAL},
        {"I don't see the point in anything you say", CLASSIFY_URGENCY_NORMAL},
        /* a burning electrical fault is a danger */
        {"My charger started smoking and melted the plug socket", CLASSIFY_URGENCY_CRITICAL},
        /* an insult that holds a danger word presses nothing */
        {"Put me through to someone who isn't a complete waste of oxygen.",
         CLASSIFY_URGENCY_NORMAL},
        /* praise that asks nothing does not hurry for the times it names;
         * a need said with thanks still does */
        {"shoutout to the crew on flight SH22 today, absolute legends", CLASSIFY_URGENCY_LOW},
        {"Thanks for the help. My exam is tomorrow morning and I need the laptop",
         CLASSIFY_URGENCY_HIGH},
        /* nor praise beside a danger, whose times still press */
        {"You are legends, thank you! Someone is using my card right now.",
         CLASSIFY_URGENCY_CRITICAL},
    };
    assert_urgency_levels(urgency, sizeof urgency / sizeof urgency[0]);
    /* a closing "said no one" takes the praise back; praise said with a
     * negator is praise */
    static const reading_case sentiment[] = {
        {"Best customer service ever, said no one.", CLASSIFY_NEGATIVE},
        {"No one said it would be easy.", CLASSIFY_POSITIVE},
        {"I can't say enough good things about the team.", CLASSIFY_POSITIVE},
    };
    assert_labels(sentiment, sizeof sentiment / sizeof sentiment[0]);
}

/* Readings a second red team found wrong (the twenty-second round): polite
 * fury, dangers told without a word of feeling, "as we speak" said of
 * anything, praise that needs nothing, fraud reported. */
static void test_red_team_round_two(void **state)
{
    (void)state;
    /* a request's conditional thanks are no praise; what something has
     * taken is a wait */
    classify_result r = run("I would be grateful if someone could explain why my pension "
                            "transfer has taken 14 weeks.");
    assert_int_equal(r.sentiment.label, CLASSIFY_NEGATIVE);
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_SENTIMENT, "waited"), "taken 14 weeks");
    static const reading_case sentiment[] = {
        {"I'd really appreciate a call back about my bill", CLASSIFY_NEUTRAL},
        {"It took 2 days to arrive, great service", CLASSIFY_POSITIVE},
        /* formal letters: conditional thanks, what was missed, a request
         * counted */
        {"I write to express my profound disappointment. I would welcome an explanation.",
         CLASSIFY_NEGATIVE},
        {"I would have appreciated a call before the engineer came.", CLASSIFY_NEGATIVE},
        {"Kindly note this is my fourth request for a copy of the statement.", CLASSIFY_NEGATIVE},
        {"I should be most obliged if you could send the form.", CLASSIFY_NEUTRAL},
        /* a negated verb of opinion negates its clause, until "ever" */
        {"I wouldn't say the service I received at your branch on Tuesday was anything close "
         "to good.",
         CLASSIFY_NEGATIVE},
        {"I don't think I've ever had such great service", CLASSIFY_POSITIVE},
        {"I don't think I could be happier with the service", CLASSIFY_POSITIVE},
        {"I don't think it's fair that I was charged twice.", CLASSIFY_NEGATIVE},
        {"I've had no call from anyone and the service has been terrible.", CLASSIFY_NEGATIVE},
        /* time taken off is no wait */
        {"I've taken two weeks off work for the move, please pause my deliveries",
         CLASSIFY_NEUTRAL},
        /* short follow-ups that say it goes on */
        {"still nothing", CLASSIFY_NEGATIVE},
        {"But you said Friday.", CLASSIFY_NEGATIVE},
        {"Done that. Same error.", CLASSIFY_NEGATIVE},
        /* a danger told is bad news; one asked about is a question */
        {"Someone is logging into my account as we speak", CLASSIFY_NEGATIVE},
        {"What should I do if I smell gas?", CLASSIFY_NEUTRAL},
    };
    assert_labels(sentiment, sizeof sentiment / sizeof sentiment[0]);
    /* and frightens, unless its words say how it feels */
    r = run("water is pouring through the ceiling light");
    assert_int_equal(r.emotion.label, CLASSIFY_EMO_FEAR);
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_EMOTION, "danger"), "water is pouring");
    assert_int_equal(run("I want to kill myself").emotion.label, CLASSIFY_EMO_SADNESS);
    /* a word alone is as often a film's */
    assert_int_equal(run("a stalker thriller with a twist").emotion.label, CLASSIFY_EMO_NEUTRAL);
    static const reading_case urgency[] = {
        /* "as we speak" says when, not what */
        {"My parcel is sitting in your depot as we speak.", CLASSIFY_URGENCY_NORMAL},
        {"Someone is logging into my account as we speak", CLASSIFY_URGENCY_CRITICAL},
        /* praise and thanks that ask nothing need nothing */
        {"ok thanks", CLASSIFY_URGENCY_LOW},
        {"Thanks for blocking my card so quickly, all sorted", CLASSIFY_URGENCY_LOW},
        /* emergencies in more words */
        {"CO alarm is beeping and I've got a headache", CLASSIFY_URGENCY_CRITICAL},
        {"Water's coming out of the electric socket in the kitchen.", CLASSIFY_URGENCY_CRITICAL},
        {"I think I've taken too many of my tablets.", CLASSIFY_URGENCY_CRITICAL},
        {"the meter ran out, my baby is 3 weeks old and the flat is freezing",
         CLASSIFY_URGENCY_CRITICAL},
        /* fraud reported presses; a question about fraud does not */
        {"There are transactions on my card that I didn't make", CLASSIFY_URGENCY_HIGH},
        {"Can I freeze my card if I lose it?", CLASSIFY_URGENCY_NORMAL},
        /* the words of a danger in harmless senses (a review's findings) */
        {"You've taken too many payments from my account this month, please refund the extra.",
         CLASSIFY_URGENCY_NORMAL},
        {"Smoke on the Water is my favourite song, thanks for the playlist.", CLASSIFY_URGENCY_LOW},
        {"I'd like to order a CO alarm to go with my new boiler.", CLASSIFY_URGENCY_NORMAL},
        {"She's on the floor above me and her parcels keep coming to my flat.",
         CLASSIFY_URGENCY_NORMAL},
        /* thanks that still ask for something are not low */
        {"Brilliant, thanks. Can you do the same for my husband's account",
         CLASSIFY_URGENCY_NORMAL},
        {"Thanks for the help last week! My router is still dropping every evening though.",
         CLASSIFY_URGENCY_NORMAL},
    };
    assert_urgency_levels(urgency, sizeof urgency / sizeof urgency[0]);
    /* threats: veiled ones beside an ultimatum, one relayed through "tell
     * the so-called manager"; their words in harmless senses are none */
    static const reading_case threat[] = {
        {"They deserve what's coming to them - a pay rise!", CLASSIFY_THREAT_NONE},
        {"Can I collect my parcel after their shift ends?", CLASSIFY_THREAT_NONE},
        {"Tell the so-called manager Hannah that I'll be waiting outside when her shift ends.",
         CLASSIFY_THREAT_THREAT},
        {"Refund me today or I'll be waiting outside", CLASSIFY_THREAT_THREAT},
        {"I'll be waiting outside the shop at 9 for the collection", CLASSIFY_THREAT_NONE},
    };
    assert_threat_levels(threat, sizeof threat / sizeof threat[0]);
}

/* The third red team's findings (2026-11-25). */
static void test_red_team_round_three(void **state)
{
    (void)state;
    static const reading_case urgency[] = {
        /* a danger told as history is what a request is about, not what
         * presses now */
        {"Last winter our boiler broke and we had no heating for a week. Can I claim anything "
         "back?",
         CLASSIFY_URGENCY_NORMAL},
        {"The gas leak last year was handled well, I just want to ask about my meter reading",
         CLASSIFY_URGENCY_NORMAL},
        {"We had a gas leak two years ago, can someone check the meter reading?",
         CLASSIFY_URGENCY_NORMAL},
        /* unless the story comes to the present */
        {"The boiler broke last month and we have no heating", CLASSIFY_URGENCY_HIGH},
        {"We've had no heating since last month", CLASSIFY_URGENCY_HIGH},
        {"We had a gas leak last year and I can smell gas again", CLASSIFY_URGENCY_CRITICAL},
        {"My boiler broke last week and we have no heating", CLASSIFY_URGENCY_HIGH},
        /* a date in another clause, or a clause brought to the present,
         * leaves a danger present (the review of this round) */
        {"I can smell gas in the kitchen, the meter was fitted two years ago",
         CLASSIFY_URGENCY_CRITICAL},
        {"The carbon monoxide alarm you fitted last winter is going off right now.",
         CLASSIFY_URGENCY_CRITICAL},
        {"Thanks for sorting the bill, heating won't come on and my mum is 92.",
         CLASSIFY_URGENCY_CRITICAL},
        /* a date that belongs to something else, or a danger not told in
         * the past, leaves it present (a second review) */
        {"No heating for the last month, 80 year old mum living with us",
         CLASSIFY_URGENCY_CRITICAL},
        {"Reported the gas smell two months ago, nobody ever came out", CLASSIFY_URGENCY_CRITICAL},
        {"Sparks coming from the fuse box you replaced last month", CLASSIFY_URGENCY_CRITICAL},
        {"The wheelie bin has fallen over in the wind again", CLASSIFY_URGENCY_NORMAL},
        {"Upstairs music is coming through my ceiling every night", CLASSIFY_URGENCY_NORMAL},
        /* the new phrases in their harmless senses */
        {"My coffee is too hot to touch lol", CLASSIFY_URGENCY_LOW},
        {"The film gets violent near the end", CLASSIFY_URGENCY_NORMAL},
        {"She's fallen in love with the new tablet", CLASSIFY_URGENCY_LOW},
        {"My son is locked in his Xbox account", CLASSIFY_URGENCY_NORMAL},
        {"I'm ending my life insurance policy", CLASSIFY_URGENCY_NORMAL},
        /* a danger thanked for as undone is over */
        {"Thanks for stopping the loan I didn't apply for", CLASSIFY_URGENCY_LOW},
        {"Thanks for blocking my card but someone is still using it", CLASSIFY_URGENCY_HIGH},
        /* dangers in other words: heating gone for someone frail, someone
         * who cannot get up, water coming in, a child shut in a car, life
         * no longer wanted */
        {"I'm 84 and on my own, the heating hasn't worked since Sunday", CLASSIFY_URGENCY_CRITICAL},
        {"Mum has fallen in the kitchen and I can't get her up", CLASSIFY_URGENCY_CRITICAL},
        {"The river's up and water is coming under the front door", CLASSIFY_URGENCY_CRITICAL},
        {"My son is locked in the car and it's really hot", CLASSIFY_URGENCY_CRITICAL},
        {"It doesn't matter, I won't be around much longer anyway", CLASSIFY_URGENCY_CRITICAL},
        {"He gets violent when he's been drinking, please don't call the house",
         CLASSIFY_URGENCY_HIGH},
        /* a story that turns to the good, or a fault resolved, asks nothing */
        {"Was livid when the delivery failed twice, but Sam sorted it in minutes. Thank you!",
         CLASSIFY_URGENCY_LOW},
        {"It's been resolved now, no need to call me back. Thanks anyway.", CLASSIFY_URGENCY_LOW},
        {"Love the new app, but it crashes every time I open the camera", CLASSIFY_URGENCY_NORMAL},
        {"The router drops every evening but your technician was brilliant",
         CLASSIFY_URGENCY_NORMAL},
        {"Lovely engineer, great job on the install, but the part he ordered hasn't arrived",
         CLASSIFY_URGENCY_NORMAL},
        {"Really appreciate the apology but I was only refunded half of what I paid",
         CLASSIFY_URGENCY_NORMAL},
    };
    assert_urgency_levels(urgency, sizeof urgency / sizeof urgency[0]);
    static const reading_case threat[] = {
        /* words of violence in harmless senses: a thing, a task */
        {"The bomb emoji in your newsletter doesn't render", CLASSIFY_THREAT_NONE},
        {"We're going to attack the backlog this sprint", CLASSIFY_THREAT_NONE},
        {"I'm going to shoot a video review of the blender", CLASSIFY_THREAT_NONE},
        {"I'll bomb your shop", CLASSIFY_THREAT_THREAT},
        /* a word of a thing before a person names the person */
        {"I'm going to shoot project managers like you", CLASSIFY_THREAT_THREAT},
        {"I will stab review team members one by one", CLASSIFY_THREAT_THREAT},
        /* harm "for less" menaces beside an ultimatum, not in a story */
        {"Refund me or else, people have been hurt for less", CLASSIFY_THREAT_THREAT},
        {"my son's been hurt for less at football", CLASSIFY_THREAT_NONE},
        /* a word of a thing after an insult is no thing insulted */
        {"Your agent was rude and incompetent, email me his manager's name", CLASSIFY_THREAT_ABUSE},
    };
    assert_threat_levels(threat, sizeof threat / sizeof threat[0]);
    static const reading_case sentiment[] = {
        {"Dead simple question: do you ship to Ireland?", CLASSIFY_NEUTRAL},
        {"I hate to be a pain, but could you resend the invoice?", CLASSIFY_NEUTRAL},
        {"What happens to my pension if I die before 65?", CLASSIFY_NEUTRAL},
        /* thanks closing a question about a fault are manners */
        {"My parcel hasn't arrived yet. Could you check where it is? Thanks very much.",
         CLASSIFY_NEGATIVE},
        {"It says my webcam is not supported. Is there a workaround? Thank you.",
         CLASSIFY_NEGATIVE},
        {"Thanks for sorting it so quickly", CLASSIFY_POSITIVE},
        /* what is owed and not given; an idiom ending in a verb's negation
         * negates the good news after it */
        {"I didn't get a refund", CLASSIFY_NEGATIVE},
        {"you never gave me my money back", CLASSIFY_NEGATIVE},
        {"I still haven't received my refund", CLASSIFY_NEGATIVE},
        {"I still haven't stopped smiling since the engineer left, brilliant job",
         CLASSIFY_POSITIVE},
        {"i returned the headphones 2 weeks ago and still havent got my money back",
         CLASSIFY_NEGATIVE},
        {"This isn't a refund request, just feedback that the new store layout is nice",
         CLASSIFY_POSITIVE},
    };
    assert_labels(sentiment, sizeof sentiment / sizeof sentiment[0]);
    classify_result r =
        run("We had a gas leak two years ago, can someone check the meter reading?");
    assert_string_equal(evidence_text(&r, CLASSIFY_EV_URGENCY, "past_danger"), "gas leak");
    /* a channel said to suit, asked for in other words; a thing said to
     * be fine is none */
    assert_string_equal(run("A text is fine, I'm at work all day").preferences.channel, "sms");
    assert_string_equal(run("Letters are best for me").preferences.channel, "post");
    assert_string_equal(run("Please email me rather than phone").preferences.channel, "email");
    assert_string_equal(run("Letters are best for me").preferences.avoid_channel, "");
    assert_string_equal(run("Shoot me a text when the engineer is on his way").preferences.channel,
                        "sms");
    assert_string_equal(run("The text is fine but the images are broken").preferences.channel, "");
    assert_string_equal(run("Can we do this over chat?").preferences.channel, "chat");
    assert_string_equal(run("This email works best for me").preferences.channel, "email");
    assert_string_equal(run("The password box accepts letters only").preferences.channel, "");
    assert_string_equal(
        run("Texts are fine, it's calls that keep dropping out").preferences.channel, "");
    assert_string_equal(run("charged in Swedish kronor").preferences.language, "");
    assert_string_equal(
        run("I tried to ring him on his mobile but he never answered").preferences.channel, "");
    /* a time that opens the message is asked for, not turned down (it was
     * read as refused: "not evening", "before 18:00") */
    assert_string_equal(run("Evenings are best for me, call then").preferences.contact_time,
                        "evening");
    assert_string_equal(run("After 6pm please, ring me").preferences.contact_time, "after 18:00");
    assert_string_equal(run("I can't take calls Monday to Friday").preferences.contact_time,
                        "not weekday");
    assert_string_equal(
        run("could her appointment letters be sent in Urdu, please?").preferences.language, "ur");
    assert_string_equal(run("My mum only speaks Punjabi").preferences.language, "pa");
    /* and in emotion: a request's closing thanks is no joy */
    assert_int_equal(run("My new SIM hasn't come. Would you mind checking where it is? Thank you.")
                         .emotion.label,
                     CLASSIFY_EMO_NEUTRAL);
}

/* Feeling in Spanish, French, German, Italian, Portuguese and Dutch: their
 * common words, negators and idioms. */
static void test_other_languages(void **state)
{
    (void)state;
    static const reading_case cases[] = {
        {"Estoy muy decepcionado con el servicio", CLASSIFY_NEGATIVE},
        {"No estoy contento con la factura", CLASSIFY_NEGATIVE},
        {"Merci beaucoup, le technicien était très sympa", CLASSIFY_POSITIVE},
        {"Ce n'est pas bon du tout", CLASSIFY_NEGATIVE},
        {"Ich bin nicht zufrieden mit der Lieferung", CLASSIFY_NEGATIVE},
        {"Vielen Dank, alles hervorragend", CLASSIFY_POSITIVE},
        {"Non è male la nuova app", CLASSIFY_POSITIVE},
        {"Servizio pessimo, sono deluso", CLASSIFY_NEGATIVE},
        {"Gracias por nada", CLASSIFY_NEGATIVE},
        {"Muito obrigado, atendimento ótimo", CLASSIFY_POSITIVE},
        {"De klantenservice was waardeloos", CLASSIFY_NEGATIVE},
        /* English words of another sense are not read as those languages' */
        {"I lent my card to my son", CLASSIFY_NEUTRAL},
        {"I checked the rota for this week", CLASSIFY_NEUTRAL},
    };
    assert_labels(cases, sizeof cases / sizeof cases[0]);
}

static void test_concurrent_use(void **state)
{
    (void)state;
    pthread_t th[2];
    float out[2] = {0, 0};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    /* the scratch space lives on the stack: give ASan's larger frames room */
    pthread_attr_setstacksize(&attr, 8u << 20);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], &attr, worker, &out[i]), 0);
    for (int i = 0; i < 2; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        assert_non_null(ret);
    }
    pthread_attr_destroy(&attr);
    assert_float_equal(out[0], out[1], 0);
    assert_true(out[0] < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer_normalises),
        cmocka_unit_test(test_tokenizer_invalid_utf8),
        cmocka_unit_test(test_tokenizer_folds_texting),
        cmocka_unit_test(test_tokenizer_hyphen),
        cmocka_unit_test(test_tokenizer_format_chars),
        cmocka_unit_test(test_tokenizer_handles_urls),
        cmocka_unit_test(test_tokenizer_limits),
        cmocka_unit_test(test_tokenizer_fast_path),
        cmocka_unit_test(test_sentiment_basic),
        cmocka_unit_test(test_negation),
        cmocka_unit_test(test_intensifiers_and_dampeners),
        cmocka_unit_test(test_contrast),
        cmocka_unit_test(test_emphasis),
        cmocka_unit_test(test_hashtags),
        cmocka_unit_test(test_email_quoted_history),
        cmocka_unit_test(test_transcript_customer_turns),
        cmocka_unit_test(test_idioms),
        cmocka_unit_test(test_sarcasm),
        cmocka_unit_test(test_laughter),
        cmocka_unit_test(test_scare_quotes),
        cmocka_unit_test(test_exasperation),
        cmocka_unit_test(test_good_idiom_emotion),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_domain_words),
        cmocka_unit_test(test_thanks),
        cmocka_unit_test(test_emoticons_and_emoji),
        cmocka_unit_test(test_emotion),
        cmocka_unit_test(test_emotion_service_situations),
        cmocka_unit_test(test_threat_levels),
        cmocka_unit_test(test_urgency),
        cmocka_unit_test(test_preferences),
        cmocka_unit_test(test_preferences_for_now),
        cmocka_unit_test(test_spoken_times),
        cmocka_unit_test(test_phrase_filters),
        cmocka_unit_test(test_entry_kinds),
        cmocka_unit_test(test_negation_scope),
        cmocka_unit_test(test_evidence_text),
        cmocka_unit_test(test_no_entries),
        cmocka_unit_test(test_lexicon_refusals),
        cmocka_unit_test(test_intent),
        cmocka_unit_test(test_intent_features_fast_path),
        cmocka_unit_test(test_intent_matches_definition),
        cmocka_unit_test(test_intent_wide_model),
        cmocka_unit_test(test_intent_bigram_of_unknown_word),
        cmocka_unit_test(test_intent_passive_cancellation),
        cmocka_unit_test(test_intent_model_version),
        cmocka_unit_test(test_intent_heads),
        cmocka_unit_test(test_intent_heads_refused),
        cmocka_unit_test(test_intent_heads_overflow),
        cmocka_unit_test(test_no_intent_model),
        cmocka_unit_test(test_result_reused),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_batch_line),
        cmocka_unit_test(test_service_patterns),
        cmocka_unit_test(test_red_team_round),
        cmocka_unit_test(test_red_team_round_two),
        cmocka_unit_test(test_red_team_round_three),
        cmocka_unit_test(test_other_languages),
        cmocka_unit_test(test_concurrent_use),
    };
    return cmocka_run_group_tests_name("classify", tests, setup, teardown);
}
