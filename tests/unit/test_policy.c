/* Unit tests of the policy engine: the condition language, the validator's
 * messages (with their JSON pointers), every guard, a property test over
 * random policies and random situations, offer arbitration, reason codes,
 * decision ids, variants, the shipped default policy and concurrent use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>

#include "policy/cond.h"
#include "policy/policy.h"

/* --- helpers ---------------------------------------------------------------- */

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    return j;
}

typedef struct {
    double sentiment, anger, fear, effort;
    const char *intent, *urgency, *threat;
    const char *tier, *segment, *payer;
    int consent, vulnerable, contacts_24h, contacts_7d;
    double wait, value;
    const char *avoid_channel;
} sit;

static sit neutral_sit(void)
{
    return (sit){.sentiment = 0,
                 .intent = "billing",
                 .urgency = "normal",
                 .threat = "none",
                 .tier = "standard",
                 .segment = "unknown",
                 .payer = "unknown",
                 .consent = 1,
                 .contacts_24h = 1,
                 .contacts_7d = 1};
}

static cJSON *make_data(const sit *s)
{
    char buf[4096];
    double rest = 1 - s->anger - s->fear;
    snprintf(buf, sizeof buf,
             "{\"interaction_id\":\"i-1\",\"customer_id\":\"c-1\",\"channel\":\"chat\","
             "\"kind\":\"message\",\"text\":\"SECRET CUSTOMER TEXT\",\"wait_seconds\":%g,"
             "\"context\":{\"status\":\"ok\",\"profile\":{\"tier\":\"%s\",\"value\":%g,"
             "\"segment\":\"%s\",\"payer\":\"%s\",\"marketing_consent\":%s,\"vulnerable\":%s},"
             "\"preferences\":{%s%s%s},\"recent\":[{\"sentiment\":\"negative\","
             "\"sentiment_score\":-0.5},{\"sentiment\":\"negative\",\"sentiment_score\":-0.3}],"
             "\"contacts_24h\":%d,\"contacts_7d\":%d},"
             "\"situation\":{\"sentiment\":{\"score\":%g,\"label\":\"%s\",\"confidence\":0.9},"
             "\"emotion\":{\"scores\":{\"anger\":%g,\"fear\":%g,\"sadness\":0,\"confusion\":0,"
             "\"joy\":0,\"neutral\":%g},\"label\":\"neutral\",\"confidence\":0.5},"
             "\"intent\":{\"label\":\"%s\",\"confidence\":0.8},"
             "\"urgency\":{\"score\":0.5,\"level\":\"%s\",\"effort\":%g,\"confidence\":0.9},"
             "\"threat\":{\"level\":\"%s\",\"confidence\":0.9},\"preferences\":{},"
             "\"evidence\":[{\"for\":\"sentiment\",\"rule\":\"lexicon\",\"text\":\"SECRET\","
             "\"weight\":1}]}}",
             s->wait, s->tier, s->value, s->segment, s->payer, s->consent ? "true" : "false",
             s->vulnerable ? "true" : "false", s->avoid_channel ? "\"avoid_channel\":\"" : "",
             s->avoid_channel ? s->avoid_channel : "", s->avoid_channel ? "\"" : "",
             s->contacts_24h, s->contacts_7d, s->sentiment,
             s->sentiment < -0.05  ? "negative"
             : s->sentiment > 0.05 ? "positive"
                                   : "neutral",
             s->anger, s->fear, rest < 0 ? 0 : rest, s->intent, s->urgency, s->effort, s->threat);
    return parse(buf);
}

static const char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[POLICY_MAX_BYTES + 1];
    *len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

/* A small valid policy; extra is spliced in at the top level. */
static const char *BASE = "{\"version\":\"t-1\","
                          "\"floor\":{\"max_wait_seconds\":300,\"min_agent_tier\":\"standard\","
                          "\"min_priority\":10},"
                          "\"guards\":{\"compensation_max_cap\":100},"
                          "\"defaults\":{\"routing.queue\":\"general\",\"routing.priority\":50,"
                          "\"routing.agent_tier\":\"standard\",\"routing.channel\":\"stay\","
                          "\"guidance.pace\":\"standard\",\"guidance.apology\":\"none\","
                          "\"guidance.tone\":\"warm\"}";

static policy *load_with(const char *extra, size_t *n_errs, problem_field *errs, size_t max)
{
    char buf[16384];
    snprintf(buf, sizeof buf, "%s%s%s}", BASE, extra[0] ? "," : "", extra);
    policy *p = NULL;
    size_t n = 0;
    problem_field local[32];
    attune_err rc = policy_load(buf, strlen(buf), &p, errs ? errs : local, errs ? max : 32, &n);
    if (n_errs)
        *n_errs = n;
    if (rc != ATTUNE_OK && !n_errs) {
        for (size_t i = 0; i < n && i < 32; i++)
            fprintf(stderr, "%s: %s\n", local[i].pointer, local[i].detail);
        fail_msg("policy did not load");
    }
    return p;
}

static void decide(const policy *p, const sit *s, cJSON **rt, cJSON **crm)
{
    cJSON *d = make_data(s);
    char err[128];
    policy_env env = {.now_ms = 1700000000000LL, .event_id = "evt-1"};
    assert_int_equal(policy_decide(p, d, &env, rt, crm, err, sizeof err), ATTUNE_OK);
    cJSON_Delete(d);
}

static const cJSON *at(const cJSON *o, const char *path)
{
    return policy_path_get(o, path, 0);
}

static const char *sat(const cJSON *o, const char *path)
{
    const cJSON *v = at(o, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double nat(const cJSON *o, const char *path)
{
    const cJSON *v = at(o, path);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static int has_reason(const cJSON *rt, const char *code, const char *field)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(rt, "reasons");
    for (const cJSON *e = r ? r->child : NULL; e; e = e->next)
        if (strcmp(sat(e, "code"), code) == 0 && (!field || strcmp(sat(e, "field"), field) == 0))
            return 1;
    return 0;
}

/* --- condition language ---------------------------------------------------- */

static int cond_holds(const char *cond, const cJSON *data)
{
    cJSON *j = parse(cond);
    problem_field errs[8];
    policy_errs e = {errs, 8, 0};
    size_t nodes = 0;
    policy_cond *c = policy_cond_parse(j, "/when", &e, &nodes);
    cJSON_Delete(j);
    if (!c) {
        fprintf(stderr, "%s: %s\n", errs[0].pointer, errs[0].detail);
        fail_msg("condition did not parse");
    }
    int r = policy_cond_eval(c, data, 0);
    policy_cond_free(c);
    return r;
}

static void test_cond_language(void **state)
{
    (void)state;
    sit s = neutral_sit();
    s.sentiment = -0.6;
    s.anger = 0.7;
    s.contacts_7d = 4;
    s.wait = 200;
    cJSON *d = make_data(&s);
    assert_true(
        cond_holds("{\"path\":\"situation.sentiment.score\",\"op\":\"lt\",\"value\":-0.5}", d));
    assert_false(
        cond_holds("{\"path\":\"situation.sentiment.score\",\"op\":\"ge\",\"value\":0}", d));
    assert_true(
        cond_holds("{\"path\":\"context.contacts_7d\",\"op\":\"between\",\"value\":[3,5]}", d));
    assert_false(
        cond_holds("{\"path\":\"context.contacts_7d\",\"op\":\"between\",\"value\":[5,9]}", d));
    assert_true(cond_holds("{\"path\":\"situation.urgency.level\",\"op\":\"in\","
                           "\"value\":[\"normal\",\"high\"]}",
                           d));
    assert_true(cond_holds("{\"path\":\"situation.urgency.level\",\"op\":\"not_in\","
                           "\"value\":[\"low\"]}",
                           d));
    assert_true(cond_holds("{\"path\":\"context.profile.marketing_consent\",\"op\":\"eq\","
                           "\"value\":true}",
                           d));
    assert_true(cond_holds("{\"path\":\"channel\",\"op\":\"ne\",\"value\":\"voice\"}", d));
    assert_true(cond_holds("{\"all\":[{\"path\":\"wait_seconds\",\"op\":\"gt\",\"value\":100},"
                           "{\"not\":{\"path\":\"queue\",\"op\":\"exists\"}}]}",
                           d));
    assert_true(cond_holds("{\"any\":[{\"path\":\"wait_seconds\",\"op\":\"gt\",\"value\":1000},"
                           "{\"path\":\"situation.emotion.scores.anger\",\"op\":\"ge\","
                           "\"value\":0.7}]}",
                           d));
    /* Absent values compare false, including not_in; exists tells. */
    assert_false(cond_holds("{\"path\":\"attributes.vip\",\"op\":\"eq\",\"value\":true}", d));
    assert_false(
        cond_holds("{\"path\":\"attributes.vip\",\"op\":\"not_in\",\"value\":[\"x\"]}", d));
    assert_false(cond_holds("{\"path\":\"context.profile.extra\",\"op\":\"exists\"}", d));
    /* Numbers held as strings (profile hash fields) compare as numbers. */
    cJSON *prof =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "context"), "profile");
    cJSON_AddStringToObject(prof, "propensity_upgrade", "0.75");
    assert_true(cond_holds("{\"path\":\"context.profile.propensity_upgrade\",\"op\":\"gt\","
                           "\"value\":0.5}",
                           d));
    /* Hiding affect: emotion reads as absent. */
    cJSON *j = parse("{\"path\":\"situation.emotion.scores.anger\",\"op\":\"ge\",\"value\":0.5}");
    policy_errs e = {NULL, 0, 0};
    size_t nodes = 0;
    policy_cond *c = policy_cond_parse(j, "", &e, &nodes);
    assert_non_null(c);
    assert_true(policy_cond_eval(c, d, 0));
    assert_false(policy_cond_eval(c, d, POLICY_COND_HIDE_AFFECT));
    assert_true(policy_cond_uses_affect(c));
    policy_cond_free(c);
    cJSON_Delete(j);
    cJSON_Delete(d);
}

static void expect_cond_error(const char *cond, const char *pointer, const char *needle)
{
    cJSON *j = parse(cond);
    problem_field errs[8];
    policy_errs e = {errs, 8, 0};
    size_t nodes = 0;
    policy_cond *c = policy_cond_parse(j, "/when", &e, &nodes);
    cJSON_Delete(j);
    assert_null(c);
    assert_true(e.n >= 1);
    if (strcmp(errs[0].pointer, pointer) != 0 || !strstr(errs[0].detail, needle)) {
        fprintf(stderr, "got %s: %s\n", errs[0].pointer, errs[0].detail);
        fail_msg("wanted %s: ...%s...", pointer, needle);
    }
}

static void test_cond_errors(void **state)
{
    (void)state;
    expect_cond_error("{\"path\":\"situation.mood\",\"op\":\"eq\",\"value\":1}", "/when/path",
                      "unknown path");
    expect_cond_error("{\"path\":\"wait_seconds\",\"op\":\"approx\",\"value\":1}", "/when/op",
                      "unknown operator");
    expect_cond_error("{\"path\":\"situation.urgency.level\",\"op\":\"eq\",\"value\":\"critcal\"}",
                      "/when/value", "'critcal' is not a value");
    expect_cond_error("{\"path\":\"situation.urgency.level\",\"op\":\"gt\",\"value\":1}", "/when",
                      "not a number");
    expect_cond_error("{\"path\":\"wait_seconds\",\"op\":\"between\",\"value\":[5,1]}",
                      "/when/value", "low 5 is above high 1");
    expect_cond_error("{\"all\":[{\"path\":\"wait_seconds\",\"op\":\"gt\",\"value\":1},"
                      "{\"path\":\"x\",\"op\":\"gt\"}]}",
                      "/when/all/1/path", "unknown path");
    expect_cond_error("{\"all\":[]}", "/when/all", "1 to 64");
    /* a bad path is quoted cut between characters: 63 bytes, not half an é */
    expect_cond_error(
        "{\"path\":\"a-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xC3\xA9\","
        "\"op\":\"eq\",\"value\":1}",
        "/when/path",
        "'a-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is not a dotted");
    expect_cond_error("{\"path\":\"wait_seconds\",\"op\":\"gt\"}", "/when", "needs a \"value\"");
    expect_cond_error("{\"path\":\"wait_seconds\",\"op\":\"gt\",\"value\":1,\"x\":2}", "/when/x",
                      "unknown member");
    /* Depth limit. */
    char deep[2048] = "";
    size_t o = 0;
    for (int i = 0; i < POLICY_MAX_COND_DEPTH + 2; i++)
        o += (size_t)snprintf(deep + o, sizeof deep - o, "{\"not\":");
    o += (size_t)snprintf(deep + o, sizeof deep - o,
                          "{\"path\":\"wait_seconds\",\"op\":\"exists\"}");
    for (int i = 0; i < POLICY_MAX_COND_DEPTH + 2; i++)
        o += (size_t)snprintf(deep + o, sizeof deep - o, "}");
    cJSON *j = parse(deep);
    problem_field errs[4];
    policy_errs e = {errs, 4, 0};
    size_t nodes = 0;
    assert_null(policy_cond_parse(j, "", &e, &nodes));
    assert_non_null(strstr(errs[0].detail, "deeper than"));
    cJSON_Delete(j);
}

/* --- validator ------------------------------------------------------------------ */

static void expect_policy_error(const char *extra, const char *pointer, const char *needle)
{
    problem_field errs[32];
    size_t n = 0;
    policy *p = load_with(extra, &n, errs, 32);
    assert_null(p);
    assert_true(n >= 1);
    for (size_t i = 0; i < n && i < 32; i++)
        if (strcmp(errs[i].pointer, pointer) == 0 && strstr(errs[i].detail, needle))
            return;
    for (size_t i = 0; i < n && i < 32; i++)
        fprintf(stderr, "  %s: %s\n", errs[i].pointer, errs[i].detail);
    fail_msg("wanted %s: ...%s...", pointer, needle);
}

static void test_validator_messages(void **state)
{
    (void)state;
    /* A compensation that depends on anger (even under not, even in a variant). */
    expect_policy_error("\"rules\":[{\"id\":\"a\",\"code\":\"A\",\"reason\":\"r\",\"priority\":1,"
                        "\"when\":{\"not\":{\"path\":\"situation.emotion.scores.anger\",\"op\":"
                        "\"lt\",\"value\":0.5}},\"set\":{\"guidance.compensation\":{\"eligible\":"
                        "true,\"cap\":10,\"basis\":\"x\"}}}]",
                        "/rules/0/when", "never emotion or sentiment");
    expect_policy_error("\"rules\":[{\"id\":\"a\",\"code\":\"A\",\"reason\":\"r\",\"priority\":1,"
                        "\"when\":{\"path\":\"situation.sentiment.label\",\"op\":\"eq\",\"value\":"
                        "\"negative\"},\"variants\":[{\"name\":\"x\",\"set\":{}},{\"name\":\"y\","
                        "\"set\":{\"guidance.compensation\":{\"eligible\":true,\"cap\":10,"
                        "\"basis\":\"x\"}}}]}]",
                        "/rules/0/when", "situation.sentiment.label");
    /* Nor a place in the queue: a boost, a priority or a shorter wait won by
     * anger (in a variant too). */
    expect_policy_error("\"rules\":[{\"id\":\"a\",\"code\":\"A\",\"reason\":\"r\",\"priority\":1,"
                        "\"when\":{\"path\":\"situation.emotion.scores.anger\",\"op\":\"ge\","
                        "\"value\":0.6},\"set\":{\"routing.priority_boost\":20}}]",
                        "/rules/0/when",
                        "routing.priority_boost and its condition reads "
                        "situation.emotion.scores.anger: a place in the queue");
    expect_policy_error("\"rules\":[{\"id\":\"a\",\"code\":\"A\",\"reason\":\"r\",\"priority\":1,"
                        "\"when\":{\"path\":\"situation.sentiment.score\",\"op\":\"le\","
                        "\"value\":-0.5},\"variants\":[{\"name\":\"x\",\"set\":{}},{\"name\":"
                        "\"y\",\"set\":{\"routing.max_wait_seconds\":30}}]}]",
                        "/rules/0/when", "routing.max_wait_seconds");
    /* Below the floor. */
    expect_policy_error("\"agent_tiers\":[\"junior\",\"standard\",\"senior\"],\"rules\":[{\"id\":"
                        "\"a\",\"code\":\"A\",\"reason\":\"r\",\"priority\":1,\"set\":{"
                        "\"routing.agent_tier\":\"junior\"}}]",
                        "/rules/0/set/routing.agent_tier", "below the floor");
    expect_policy_error("\"rules\":[{\"id\":\"a\",\"code\":\"A\",\"reason\":\"r\",\"priority\":1,"
                        "\"set\":{\"routing.max_wait_seconds\":900}}]",
                        "/rules/0/set/routing.max_wait_seconds", "above the floor");
    expect_policy_error("\"rules\":[{\"id\":\"a\",\"code\":\"A\",\"reason\":\"r\",\"priority\":1,"
                        "\"set\":{\"guidance.protection\":\"none\"}}]",
                        "/rules/0/set/guidance.protection", "guard only");
    expect_policy_error("\"rules\":[{\"id\":\"a\",\"code\":\"A\",\"reason\":\"r\",\"priority\":1,"
                        "\"set\":{\"guidance.compensation\":{\"eligible\":true,\"cap\":500,"
                        "\"basis\":\"x\"}}}]",
                        "/rules/0/set/guidance.compensation/cap", "compensation_max_cap");
    expect_policy_error("\"rules\":[{\"id\":\"a\",\"code\":\"a\",\"reason\":\"r\",\"priority\":1,"
                        "\"set\":{}}]",
                        "/rules/0/code", "upper-case");
    expect_policy_error("\"rules\":[{\"id\":\"a\",\"code\":\"A\",\"reason\":\"r\",\"priority\":1,"
                        "\"set\":{\"routing.queu\":\"x\"}}]",
                        "/rules/0/set/routing.queu", "unknown treatment field");
    expect_policy_error("\"rules\":[{\"id\":\"a\",\"code\":\"A\",\"reason\":\"r\",\"priority\":1,"
                        "\"set\":{}},{\"id\":\"a\",\"code\":\"A\",\"reason\":\"r\",\"priority\":1,"
                        "\"set\":{}}]",
                        "/rules/1", "appears twice");
    expect_policy_error("\"offers\":[{\"id\":\"o\",\"type\":\"bribe\"}]", "/offers/0/type",
                        "cross_sell, upsell, retention");
    expect_policy_error("\"colour\":1", "/colour", "unknown member");
    /* Every error is reported, not just the first. */
    problem_field errs[32];
    size_t n = 0;
    assert_null(load_with("\"rules\":[{\"id\":\"A\",\"priority\":-1,\"set\":{\"routing.priority\":"
                          "101,\"guidance.pace\":\"slow\"}}]",
                          &n, errs, 32));
    assert_true(n >= 5);
    /* Not JSON, too large. */
    policy *p = NULL;
    assert_int_equal(policy_load("{", 1, &p, errs, 32, &n), ATTUNE_ERR_PARSE);
    assert_int_equal(n, 1);
    assert_int_equal(policy_load("{}", POLICY_MAX_BYTES + 1, &p, errs, 32, &n), ATTUNE_ERR_LIMIT);
    /* Missing sections. */
    assert_int_equal(policy_load("{}", 2, &p, errs, 32, &n), ATTUNE_ERR_INVALID);
    assert_true(n >= 4);
    assert_null(p);
}

static void test_rule_limit(void **state)
{
    (void)state;
    size_t cap = 40 * (POLICY_MAX_RULES + 2) + 64;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t o = (size_t)snprintf(buf, cap, "\"rules\":[");
    for (int i = 0; i < POLICY_MAX_RULES + 1; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s{\"id\":\"r%d\"}", i ? "," : "", i);
    snprintf(buf + o, cap - o, "]");
    char *doc = malloc(cap + 1024);
    assert_non_null(doc);
    snprintf(doc, cap + 1024, "%s,%s}", BASE, buf);
    policy *p = NULL;
    problem_field errs[4];
    size_t n = 0;
    assert_int_equal(policy_load(doc, strlen(doc), &p, errs, 4, &n), ATTUNE_ERR_INVALID);
    assert_string_equal(errs[0].pointer, "/rules");
    assert_non_null(strstr(errs[0].detail, "at most 256"));
    free(doc);
    free(buf);
}

/* --- guards ------------------------------------------------------------------------ */

static const char *GUARD_RULES =
    "\"rules\":["
    "{\"id\":\"low\",\"code\":\"LOW\",\"reason\":\"r\",\"priority\":10,"
    "\"set\":{\"routing.priority\":0,\"routing.priority_boost\":-100,"
    "\"guidance.offer_types\":[\"cross_sell\",\"upsell\",\"retention\"]}},"
    "{\"id\":\"repeat\",\"code\":\"REPEAT\",\"reason\":\"repeat\",\"priority\":20,"
    "\"when\":{\"path\":\"context.contacts_7d\",\"op\":\"ge\",\"value\":3},"
    "\"set\":{\"guidance.compensation\":{\"eligible\":true,\"cap\":40,\"basis\":\"repeat_contact\"}"
    "}}],"
    "\"offers\":[{\"id\":\"up\",\"type\":\"upsell\",\"propensity\":0.5,\"value\":10},"
    "{\"id\":\"keep\",\"type\":\"retention\",\"propensity\":0.1,\"value\":10}]";

static void test_guard_floor(void **state)
{
    (void)state;
    policy *p = load_with(GUARD_RULES, NULL, NULL, 0);
    sit s = neutral_sit();
    cJSON *rt, *crm;
    decide(p, &s, &rt, &crm);
    assert_true(nat(rt, "routing.max_wait_seconds") <= 300);
    assert_string_equal(sat(rt, "routing.agent_tier"), "standard");
    assert_int_equal((int)nat(rt, "routing.priority"), 10);
    assert_true(has_reason(rt, "FLOOR_PRIORITY", "routing.priority"));
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    policy_free(p);
}

static void test_guard_anger_not_rewarded(void **state)
{
    (void)state;
    policy *p = load_with(GUARD_RULES, NULL, NULL, 0);
    sit calm = neutral_sit(), angry = neutral_sit();
    calm.contacts_7d = angry.contacts_7d = 4;
    angry.anger = 0.95;
    angry.sentiment = -0.9;
    cJSON *a, *b, *c1, *c2;
    decide(p, &calm, &a, &c1);
    decide(p, &angry, &b, &c2);
    assert_true(cJSON_Compare(at(a, "guidance.compensation"), at(b, "guidance.compensation"), 1));
    assert_true(cJSON_IsTrue(at(a, "guidance.compensation.eligible")));
    assert_int_equal((int)nat(a, "guidance.compensation.cap"), 40);
    assert_string_equal(sat(a, "guidance.compensation.basis"), "repeat_contact");
    assert_true(has_reason(a, "REPEAT", "guidance.compensation"));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c1);
    cJSON_Delete(c2);
    policy_free(p);
}

/* A variant whose every effect a guard undid reached no customer: its
 * choice is left out of policy.choices (what outcomes are learned from),
 * while the reasons still say what was picked. */
static void test_undone_variant_is_no_choice(void **state)
{
    (void)state;
    policy *p = load_with(
        "\"rules\":[{\"id\":\"offer_mix\",\"code\":\"MIX\",\"reason\":\"which offer\","
        "\"priority\":10,\"variants\":[{\"name\":\"up\",\"set\":{\"guidance.offer_types\":"
        "[\"upsell\"]}},{\"name\":\"cross\",\"set\":{\"guidance.offer_types\":[\"cross_sell\"]}}"
        "]},{\"id\":\"tone_mix\",\"code\":\"TONE\",\"reason\":\"which tone\",\"priority\":5,"
        "\"variants\":[{\"name\":\"warm\",\"set\":{\"guidance.tone\":\"warm\","
        "\"guidance.offer_types\":[\"upsell\"]}},{\"name\":\"plain\",\"set\":{\"guidance.tone\":"
        "\"plain\",\"guidance.offer_types\":[\"cross_sell\"]}}]}],"
        "\"offers\":[{\"id\":\"u\",\"type\":\"upsell\",\"propensity\":0.5,\"value\":10},"
        "{\"id\":\"c\",\"type\":\"cross_sell\",\"propensity\":0.5,\"value\":10}]",
        NULL, NULL, 0);
    cJSON *rt, *crm;
    sit s = neutral_sit();
    decide(p, &s, &rt, &crm);
    assert_int_equal(cJSON_GetArraySize(at(rt, "policy.choices")), 2);
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    /* No consent: the sales guard takes every offer away. The offer rule's
     * pick reached no one; the tone rule's tone still did. */
    s.consent = 0;
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.offer.type"), "none");
    const cJSON *ch = at(rt, "policy.choices");
    assert_int_equal(cJSON_GetArraySize(ch), 1);
    assert_string_equal(sat(cJSON_GetArrayItem(ch, 0), "rule"), "tone_mix");
    assert_int_equal(cJSON_GetArraySize(at(rt, "policy.variants")), 2);
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    policy_free(p);
}

static void test_guard_no_sales(void **state)
{
    (void)state;
    policy *p = load_with(GUARD_RULES, NULL, NULL, 0);
    cJSON *rt, *crm;
    sit ok = neutral_sit();
    decide(p, &ok, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.offer.type"), "upsell");
    assert_string_equal(sat(rt, "guidance.offer.id"), "up");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    struct {
        sit s;
        const char *code;
    } cases[4];
    for (int i = 0; i < 4; i++)
        cases[i].s = neutral_sit();
    cases[0].s.anger = 0.6, cases[0].code = "NO_SALES_DISTRESSED";
    cases[1].s.fear = 0.6, cases[1].code = "NO_SALES_DISTRESSED";
    cases[2].s.vulnerable = 1, cases[2].code = "NO_SALES_VULNERABLE";
    cases[3].s.consent = 0, cases[3].code = "NO_SALES_NO_CONSENT";
    for (int i = 0; i < 4; i++) {
        decide(p, &cases[i].s, &rt, &crm);
        /* The retention offer survives, but for a vulnerable customer, who
         * is let go with care; no sale. */
        assert_string_equal(sat(rt, "guidance.offer.type"), i == 2 ? "none" : "retention");
        assert_int_equal(has_reason(rt, "NO_RETENTION_VULNERABLE", "guidance.offer"), i == 2);
        assert_true(has_reason(rt, cases[i].code, "guidance.offer"));
        cJSON_Delete(rt);
        cJSON_Delete(crm);
    }
    sit neg = neutral_sit();
    neg.sentiment = -0.5;
    decide(p, &neg, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.offer.type"), "retention");
    assert_true(cJSON_IsTrue(at(rt, "situation.distressed")));
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    policy_free(p);
}

static policy *load_default(void);

static void test_guard_protection(void **state)
{
    (void)state;
    policy *p = load_with(GUARD_RULES, NULL, NULL, 0);
    cJSON *rt, *crm;
    sit s = neutral_sit();
    s.contacts_7d = 5;
    s.threat = "threat";
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.protection"), "protection_flow");
    assert_false(cJSON_IsTrue(at(rt, "guidance.compensation.eligible")));
    assert_string_equal(sat(rt, "guidance.offer.type"), "none");
    assert_true(has_reason(rt, "PROTECTION_THREAT", "guidance.protection"));
    assert_true(has_reason(rt, "PROTECTION_THREAT", "routing.skills")); /* the supervisor */
    assert_true(has_reason(rt, "NO_CONCESSION_ON_ABUSE", "guidance.compensation"));
    const cJSON *notes = at(crm, "notes");
    assert_int_equal(cJSON_GetArraySize(notes), 1);
    int review = 0;
    for (const cJSON *f = at(crm, "follow_ups")->child; f; f = f->next)
        review |= strcmp(sat(f, "type"), "protection_review") == 0;
    assert_true(review);
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    s.threat = "abuse";
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.protection"), "warning_script");
    assert_false(cJSON_IsTrue(at(rt, "guidance.compensation.eligible")));
    assert_string_equal(sat(rt, "guidance.offer.type"), "none");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    /* a long wait and haste give a callback (the shipped policy), but not
     * to whoever threatens staff: the contact is handled now */
    policy *shipped = load_default();
    sit hasty = neutral_sit();
    hasty.urgency = "high";
    hasty.wait = 400;
    decide(shipped, &hasty, &rt, &crm);
    assert_string_equal(sat(rt, "routing.channel"), "callback");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    hasty.threat = "threat";
    decide(shipped, &hasty, &rt, &crm);
    assert_string_equal(sat(rt, "routing.channel"), "stay");
    assert_true(has_reason(rt, "NO_CALLBACK_ON_ABUSE", "routing.channel"));
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    policy_free(shipped);
    s.threat = "profanity";
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.protection"), "none");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    policy_free(p);
}

/* --- arbitration, reasons, ids, variants --------------------------------------------- */

static void test_arbitration(void **state)
{
    (void)state;
    policy *p = load_with(
        "\"rules\":[{\"id\":\"all\",\"code\":\"ALL\",\"reason\":\"r\",\"priority\":1,\"set\":{"
        "\"guidance.offer_types\":[\"cross_sell\",\"upsell\"]}}],"
        "\"offers\":["
        "{\"id\":\"a\",\"type\":\"cross_sell\",\"propensity\":0.5,\"value\":10,\"lever\":1},"
        "{\"id\":\"b\",\"type\":\"upsell\",\"propensity\":0.2,\"value\":20,\"lever\":1,"
        "\"weights\":[{\"when\":{\"path\":\"context.profile.segment\",\"op\":\"eq\",\"value\":"
        "\"leisure\"},\"factor\":2}]},"
        "{\"id\":\"c\",\"type\":\"upsell\",\"propensity\":0.9,\"value\":100,\"when\":{\"path\":"
        "\"context.profile.tier\",\"op\":\"eq\",\"value\":\"gold\"}},"
        "{\"id\":\"d\",\"type\":\"upsell\",\"propensity\":0.1,\"value\":10,\"propensity_path\":"
        "\"context.profile.p_d\"}]",
        NULL, NULL, 0);
    cJSON *rt, *crm;
    sit s = neutral_sit();
    decide(p, &s, &rt, &crm); /* a: 5, b: 4, d: 1 */
    assert_string_equal(sat(rt, "guidance.offer.id"), "a");
    assert_true(has_reason(rt, "OFFER_ARBITRATION", "guidance.offer"));
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    s.segment = "leisure"; /* b: 0.2 x 2 x 20 = 8 */
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.offer.id"), "b");
    assert_true(nat(rt, "guidance.offer.score") > 7.99 && nat(rt, "guidance.offer.score") < 8.01);
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    s.tier = "gold";
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.offer.id"), "c");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    /* A propensity from the profile (a string in the hash). */
    s = neutral_sit();
    cJSON *d = make_data(&s);
    cJSON *prof =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "context"), "profile");
    cJSON_AddStringToObject(prof, "p_d", "1");
    char err[64];
    assert_int_equal(policy_decide(p, d, NULL, &rt, &crm, err, sizeof err), ATTUNE_OK);
    assert_string_equal(sat(rt, "guidance.offer.id"), "d"); /* 1 x 10 = 10 > 5 */
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    cJSON_Delete(d);
    policy_free(p);
}

/* Decides one event of interaction i-1 as attune-decide does: context.recent
 * holds the record decide remembered after the contact's last event (its
 * ids and its CRM decision's summary.contact), replaced by each line. */
static cJSON *contact_step(const policy *p, const sit *s, const char *event_id, const char *at_,
                           const char *kind, cJSON **record)
{
    cJSON *d = make_data(s), *rt, *crm;
    cJSON_AddStringToObject(d, "occurred_at", at_);
    cJSON_ReplaceItemInObject(d, "kind", cJSON_CreateString(kind));
    if (strcmp(kind, "ended") == 0)
        cJSON_DeleteItemFromObject(d, "text");
    cJSON *recent = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "context"), "recent");
    /* another contact's record is no part of this one */
    cJSON *other = parse("{\"interaction_id\":\"i-0\",\"kind\":\"message\","
                         "\"sentiment_score\":0.9,\"intent\":\"fraud_security\"}");
    cJSON_AddItemToArray(recent, other);
    if (*record)
        cJSON_AddItemToArray(recent, cJSON_Duplicate(*record, 1));
    policy_env env = {.now_ms = 1700000000000LL, .event_id = event_id};
    char err[128];
    assert_int_equal(policy_decide(p, d, &env, &rt, &crm, err, sizeof err), ATTUNE_OK);
    if (cJSON_GetObjectItem(d, "text")) {
        cJSON_Delete(*record);
        *record = cJSON_CreateObject();
        cJSON_AddStringToObject(*record, "interaction_id", "i-1");
        cJSON_AddStringToObject(*record, "decision_id", sat(rt, "decision_id"));
        cJSON_AddStringToObject(*record, "kind", kind);
        cJSON_AddItemToObject(*record, "contact", cJSON_Duplicate(at(crm, "summary.contact"), 1));
    }
    cJSON_Delete(rt);
    cJSON_Delete(d);
    return crm;
}

static void test_contact_summary(void **state)
{
    (void)state;
    /* a rule on the contact's signals: its end, still unhappy */
    policy *p = load_with(
        "\"rules\":[{\"id\":\"u\",\"code\":\"ENDED_UNHAPPY\",\"reason\":\"r\",\"priority\":1,"
        "\"when\":{\"all\":[{\"path\":\"kind\",\"op\":\"eq\",\"value\":\"ended\"},"
        "{\"path\":\"signals.contact_last_sentiment\",\"op\":\"le\",\"value\":-0.3},"
        "{\"path\":\"signals.contact_lowest_sentiment\",\"op\":\"le\",\"value\":-0.3},"
        "{\"path\":\"signals.contact_lines\",\"op\":\"ge\",\"value\":1},"
        "{\"not\":{\"path\":\"signals.contact_highest_threat\",\"op\":\"eq\","
        "\"value\":\"threat\"}}]},"
        "\"set\":{\"crm.follow_up\":{\"type\":\"service_recovery\",\"within_hours\":24}}}]",
        NULL, NULL, 0);
    cJSON *record = NULL;
    sit s = neutral_sit();
    s.sentiment = -0.6;
    s.urgency = "high";
    cJSON *crm = contact_step(p, &s, "e-1", "2023-11-14T10:00:00Z", "message", &record);
    assert_int_equal((int)nat(crm, "summary.contact.lines"), 1);
    assert_string_equal(sat(crm, "summary.contact.started_at"), "2023-11-14T10:00:00Z");
    assert_true(nat(crm, "summary.contact.sentiment.first") < -0.59);
    assert_string_equal(sat(crm, "summary.contact.highest_urgency"), "high");
    assert_string_equal(sat(crm, "summary.contact.highest_threat"), "none");
    assert_false(cJSON_IsTrue(at(crm, "summary.contact.ended")));
    cJSON_Delete(crm);
    s.sentiment = -0.8;
    s.intent = "cancel";
    s.urgency = "normal";
    s.threat = "abuse";
    crm = contact_step(p, &s, "e-2", "2023-11-14T10:01:00Z", "message", &record);
    assert_int_equal((int)nat(crm, "summary.contact.lines"), 2);
    assert_true(nat(crm, "summary.contact.sentiment.lowest") < -0.79);
    assert_string_equal(sat(crm, "summary.contact.highest_urgency"), "high");
    assert_string_equal(sat(crm, "summary.contact.highest_threat"), "abuse");
    cJSON_Delete(crm);
    s.sentiment = 0.5;
    s.intent = "other"; /* "thanks": no need, not listed */
    s.threat = "none";
    crm = contact_step(p, &s, "e-3", "2023-11-14T10:01:30Z", "message", &record);
    assert_int_equal((int)nat(crm, "summary.contact.lines"), 3);
    assert_true(nat(crm, "summary.contact.sentiment.first") < -0.59);
    assert_true(nat(crm, "summary.contact.sentiment.last") > 0.49);
    assert_true(nat(crm, "summary.contact.sentiment.lowest") < -0.79);
    const cJSON *in = at(crm, "summary.contact.intents");
    assert_int_equal(cJSON_GetArraySize(in), 2); /* billing, cancel: each once */
    assert_string_equal(cJSON_GetArrayItem(in, 0)->valuestring, "billing");
    assert_string_equal(cJSON_GetArrayItem(in, 1)->valuestring, "cancel");
    assert_string_equal(sat(crm, "summary.contact.last_line_at"), "2023-11-14T10:01:30Z");
    cJSON_Delete(crm);
    /* the same event decided again (its own record read back), or an
     * earlier one once later lines are counted: no new line */
    crm = contact_step(p, &s, "e-3", "2023-11-14T10:01:30Z", "message", &record);
    assert_int_equal((int)nat(crm, "summary.contact.lines"), 3);
    cJSON_Delete(crm);
    crm = contact_step(p, &s, "e-1", "2023-11-14T10:00:00Z", "message", &record);
    assert_int_equal((int)nat(crm, "summary.contact.lines"), 3);
    cJSON_Delete(crm);
    /* a second line in the same second as the latest is a line */
    crm = contact_step(p, &s, "e-3b", "2023-11-14T10:01:30Z", "message", &record);
    assert_int_equal((int)nat(crm, "summary.contact.lines"), 4);
    cJSON_Delete(crm);
    /* the ended event adds no line and sums the contact up */
    crm = contact_step(p, &s, "e-4", "2023-11-14T10:02:00Z", "ended", &record);
    assert_int_equal((int)nat(crm, "summary.contact.lines"), 4);
    assert_true(cJSON_IsTrue(at(crm, "summary.contact.ended")));
    assert_int_equal((int)nat(crm, "summary.contact.duration_s"), 120);
    assert_string_equal(sat(crm, "summary.contact.highest_threat"), "abuse");
    assert_string_equal(sat(crm, "summary.kind"), "ended");
    assert_int_equal(cJSON_GetArraySize(at(crm, "follow_ups")), 0); /* it ended well */
    cJSON_Delete(crm);
    {
        /* the same contact ending on an unhappy line: a recovery follow-up */
        cJSON *rec = cJSON_Duplicate(record, 1);
        sit u = neutral_sit();
        u.sentiment = -0.7;
        crm = contact_step(p, &u, "e-4u", "2023-11-14T10:01:50Z", "message", &rec);
        cJSON_Delete(crm);
        crm = contact_step(p, &u, "e-5u", "2023-11-14T10:02:00Z", "ended", &rec);
        assert_string_equal(sat(at(crm, "follow_ups")->child, "type"), "service_recovery");
        cJSON_Delete(crm);
        /* not on one of its lines */
        crm = contact_step(p, &u, "e-6u", "2023-11-14T10:02:10Z", "message", &rec);
        assert_int_equal(cJSON_GetArraySize(at(crm, "follow_ups")), 0);
        cJSON_Delete(crm);
        cJSON_Delete(rec);
    }
    /* a line dated far ahead of the clock does not stop the count */
    cJSON_Delete(record);
    record = NULL;
    crm = contact_step(p, &s, "f-1", "2099-01-01T00:00:00Z", "message", &record);
    cJSON_Delete(crm);
    crm = contact_step(p, &s, "f-2", "2023-11-14T10:00:00Z", "message", &record);
    assert_int_equal((int)nat(crm, "summary.contact.lines"), 2);
    cJSON_Delete(crm);
    /* scores out of [-1, 1] in a record are held to it (a huge one would
     * print as null once rounded) */
    cJSON_ReplaceItemInObject(
        cJSON_GetObjectItem(cJSON_GetObjectItem(record, "contact"), "sentiment"), "last",
        cJSON_CreateNumber(-1e308));
    cJSON_ReplaceItemInObject(
        cJSON_GetObjectItem(cJSON_GetObjectItem(record, "contact"), "sentiment"), "lowest",
        cJSON_CreateNumber(-1e308));
    crm = contact_step(p, &s, "e-8", "2023-11-14T10:05:00Z", "ended", &record);
    assert_true(nat(crm, "summary.contact.sentiment.lowest") >= -1);
    assert_true(nat(crm, "summary.contact.sentiment.last") >= -1);
    cJSON_Delete(crm);
    /* a record from before summaries counts as its own line */
    cJSON_Delete(record);
    record = parse("{\"interaction_id\":\"i-1\",\"kind\":\"message\","
                   "\"occurred_at\":\"2023-11-14T09:00:00Z\",\"sentiment_score\":-0.2,"
                   "\"intent\":\"technical_issue\",\"urgency\":\"critical\","
                   "\"vulnerable\":true}");
    crm = contact_step(p, &s, "e-5", "2023-11-14T09:05:00Z", "message", &record);
    assert_int_equal((int)nat(crm, "summary.contact.lines"), 2);
    assert_true(cJSON_IsTrue(at(crm, "summary.contact.vulnerable")));
    assert_string_equal(sat(crm, "summary.contact.started_at"), "2023-11-14T09:00:00Z");
    assert_string_equal(sat(crm, "summary.contact.highest_urgency"), "critical");
    assert_string_equal(cJSON_GetArrayItem(at(crm, "summary.contact.intents"), 0)->valuestring,
                        "technical_issue");
    cJSON_Delete(crm);
    cJSON_Delete(record);
    policy_free(p);
}

static void test_reasons_and_priority(void **state)
{
    (void)state;
    policy *p = load_with(
        "\"rules\":["
        "{\"id\":\"hi\",\"code\":\"HI\",\"reason\":\"high rule\",\"priority\":100,\"when\":{"
        "\"path\":\"situation.urgency.level\",\"op\":\"eq\",\"value\":\"high\"},\"set\":{"
        "\"guidance.pace\":\"brisk\",\"routing.priority_boost\":10,\"routing.skills\":[\"x\"]}},"
        "{\"id\":\"lo\",\"code\":\"LO\",\"reason\":\"low rule\",\"priority\":5,\"set\":{"
        "\"guidance.pace\":\"unhurried\",\"guidance.tone\":\"warm\",\"routing.priority_boost\":5,"
        "\"crm.follow_up\":{\"type\":\"call_back\",\"within_hours\":24}}}]",
        NULL, NULL, 0);
    cJSON *rt, *crm;
    sit s = neutral_sit();
    s.urgency = "high";
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.pace"), "brisk"); /* the higher rule wins */
    assert_int_equal((int)nat(rt, "routing.priority"), 65); /* boosts add up */
    assert_true(has_reason(rt, "HI", "guidance.pace"));
    assert_false(has_reason(rt, "LO", "guidance.pace"));
    assert_true(has_reason(rt, "HI", "routing.priority"));
    assert_true(has_reason(rt, "LO", "routing.priority"));
    assert_true(has_reason(rt, "HI", "routing.skills"));
    /* tone set to the default value: no reason needed. */
    assert_false(has_reason(rt, "LO", "guidance.tone"));
    const cJSON *r = at(rt, "reasons");
    for (const cJSON *e = r->child; e; e = e->next)
        if (strcmp(sat(e, "code"), "HI") == 0)
            assert_non_null(strstr(sat(e, "text"), "signals: situation.urgency.level"));
    /* CRM: the follow-up with a due date 24 h on. */
    const cJSON *f = at(crm, "follow_ups")->child;
    assert_non_null(f);
    assert_string_equal(sat(f, "type"), "call_back");
    assert_string_equal(sat(f, "due_at"), "2023-11-15T22:13:20.000Z");
    assert_string_equal(sat(crm, "sentiment_trend.direction"), "improving");
    {
        /* an event without text (an ended contact) has no sentiment of its
         * own to compare with the recent ones */
        cJSON *d = make_data(&s), *rt3, *crm3;
        cJSON_DeleteItemFromObject(d, "text");
        cJSON_ReplaceItemInObject(d, "kind", cJSON_CreateString("ended"));
        policy_env env = {.now_ms = 1700000000000LL, .event_id = "evt-2"};
        char err[128];
        assert_int_equal(policy_decide(p, d, &env, &rt3, &crm3, err, sizeof err), ATTUNE_OK);
        assert_string_equal(sat(crm3, "sentiment_trend.direction"), "unknown");
        cJSON_Delete(rt3);
        cJSON_Delete(crm3);
        cJSON_Delete(d);
    }
    {
        /* an event decided again reads its own first decision's record
         * back (decide reads the recent list before deciding), and those
         * of contacts after it: the trend leaves them out, so the
         * decision is the first one's */
        cJSON *d = make_data(&s), *rt4, *crm4;
        policy_env env = {.now_ms = 1700000000000LL, .event_id = "evt-3"};
        char err[128], did[37];
        policy_event_decision_id(p, d, &env, did);
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "decision_id", did);
        cJSON_AddNumberToObject(rec, "sentiment_score", 0.9);
        cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "context"), "recent"), rec);
        /* and a contact after this one (its record written meanwhile) */
        cJSON_AddStringToObject(d, "occurred_at", "2023-11-14T10:00:00Z");
        cJSON *later = cJSON_CreateObject();
        cJSON_AddStringToObject(later, "occurred_at", "2023-11-14T10:00:01Z");
        cJSON_AddNumberToObject(later, "sentiment_score", 0.7);
        cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "context"), "recent"),
                             later);
        assert_int_equal(policy_decide(p, d, &env, &rt4, &crm4, err, sizeof err), ATTUNE_OK);
        assert_string_equal(sat(rt4, "decision_id"), did);
        assert_int_equal(cJSON_GetArraySize(at(crm4, "sentiment_trend.previous")), 2);
        cJSON_Delete(rt4);
        cJSON_Delete(crm4);
        cJSON_Delete(d);
    }
    /* No customer text anywhere. */
    char *a = cJSON_PrintUnformatted(rt), *b = cJSON_PrintUnformatted(crm);
    assert_null(strstr(a, "SECRET"));
    assert_null(strstr(b, "SECRET"));
    cJSON_free(a);
    cJSON_free(b);
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    policy_free(p);
    /* A long reason with many signals names them all, and never ends in
     * half a path. */
    char reason[201];
    memset(reason, 'r', 200);
    reason[200] = '\0';
    char rules[2048];
    snprintf(rules, sizeof rules,
             "\"rules\":[{\"id\":\"long\",\"code\":\"LONG\",\"reason\":\"%s\",\"priority\":1,"
             "\"when\":{\"any\":[{\"path\":\"situation.urgency.level\",\"op\":\"eq\",\"value\":"
             "\"high\"},{\"path\":\"situation.urgency.effort\",\"op\":\"ge\",\"value\":0.1},"
             "{\"path\":\"context.contacts_7d\",\"op\":\"ge\",\"value\":9},{\"path\":"
             "\"situation.intent.confidence\",\"op\":\"ge\",\"value\":0.99},{\"path\":"
             "\"signals.repeat_same_intent\",\"op\":\"ge\",\"value\":9}]},"
             "\"set\":{\"guidance.pace\":\"brisk\"}}]",
             reason);
    p = load_with(rules, NULL, NULL, 0);
    decide(p, &s, &rt, &crm);
    assert_true(has_reason(rt, "LONG", "guidance.pace"));
    for (const cJSON *e = at(rt, "reasons")->child; e; e = e->next) {
        if (strcmp(sat(e, "code"), "LONG") != 0)
            continue;
        const char *text = sat(e, "text");
        assert_non_null(strstr(text, "situation.intent.confidence, "));
        assert_non_null(strstr(text, "signals.repeat_same_intent)"));
        assert_int_equal(text[strlen(text) - 1], ')');
    }
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    policy_free(p);
}

/* The agent tier is the most senior a matching rule asks for, whatever the
 * rules' order; its reason is the rule that asked for it. */
static void test_agent_tier_most_senior(void **state)
{
    (void)state;
    policy *p =
        load_with("\"rules\":["
                  "{\"id\":\"a\",\"code\":\"SENIOR\",\"reason\":\"r\",\"priority\":100,\"set\":{"
                  "\"routing.agent_tier\":\"senior\"}},"
                  "{\"id\":\"b\",\"code\":\"EXPERT\",\"reason\":\"r\",\"priority\":50,\"set\":{"
                  "\"routing.agent_tier\":\"expert\"}},"
                  "{\"id\":\"c\",\"code\":\"STANDARD\",\"reason\":\"r\",\"priority\":10,\"set\":{"
                  "\"routing.agent_tier\":\"standard\"}}]",
                  NULL, NULL, 0);
    assert_non_null(p);
    cJSON *rt, *crm;
    sit s = neutral_sit();
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "routing.agent_tier"), "expert");
    assert_true(has_reason(rt, "EXPERT", "routing.agent_tier"));
    assert_false(has_reason(rt, "SENIOR", "routing.agent_tier"));
    assert_false(has_reason(rt, "STANDARD", "routing.agent_tier"));
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    policy_free(p);
    /* a rule's variant still overlays the rule's own set, lower or not */
    p = load_with("\"rules\":[{\"id\":\"v\",\"code\":\"V\",\"reason\":\"r\",\"priority\":100,"
                  "\"set\":{\"routing.agent_tier\":\"senior\"},\"variants\":["
                  "{\"name\":\"a\",\"set\":{\"routing.agent_tier\":\"standard\"}},"
                  "{\"name\":\"b\",\"set\":{\"routing.agent_tier\":\"standard\"}}]}]",
                  NULL, NULL, 0);
    assert_non_null(p);
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "routing.agent_tier"), "standard");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    policy_free(p);
}

static void pick_last(void *arg, const policy_variant_query *q, policy_variant_pick *out)
{
    ++*(int *)arg;
    out->index = q->n - 1;
    out->method = "thompson";
    out->sampled = 0.625;
}

/* A draw whose rounding to 4 places and printing to 3 disagree unless the
 * rounding comes first: 0.40046 prints 0.400, 0.4005 prints 0.401. */
static void pick_edge(void *arg, const policy_variant_query *q, policy_variant_pick *out)
{
    (void)arg;
    out->index = q->n - 1;
    out->method = "thompson";
    out->sampled = 0.40046;
}

static void test_variants_and_ids(void **state)
{
    (void)state;
    policy *p = load_with("\"rules\":[{\"id\":\"v\",\"code\":\"V\",\"reason\":\"r\",\"priority\":"
                          "1,\"set\":{\"guidance.tone\":\"calm\"},\"variants\":[{\"name\":\"a\","
                          "\"set\":{\"guidance.pace\":\"brisk\"}},{\"name\":\"b\",\"set\":{"
                          "\"guidance.pace\":\"unhurried\"}}]}]",
                          NULL, NULL, 0);
    sit s = neutral_sit();
    cJSON *d = make_data(&s);
    int calls = 0;
    policy_env env = {
        .now_ms = 0, .event_id = "e-42", .choose_variant = pick_last, .choose_arg = &calls};
    cJSON *rt, *crm, *rt2, *crm2;
    char err[64];
    assert_int_equal(policy_decide(p, d, &env, &rt, &crm, err, sizeof err), ATTUNE_OK);
    assert_int_equal(calls, 1);
    assert_string_equal(sat(rt, "policy.variant"), "v:b");
    assert_string_equal(sat(rt, "guidance.pace"), "unhurried");
    assert_string_equal(sat(rt, "policy.version"), "t-1");
    /* Same event, same policy: same decision id; another event: another. */
    assert_int_equal(policy_decide(p, d, &env, &rt2, &crm2, err, sizeof err), ATTUNE_OK);
    assert_string_equal(sat(rt, "decision_id"), sat(rt2, "decision_id"));
    assert_string_equal(sat(rt, "decision_id"), sat(crm, "decision_id"));
    const char *id = sat(rt, "decision_id");
    assert_int_equal(strlen(id), 36);
    assert_int_equal(id[14], '5');
    char other[37];
    policy_decision_id(NULL, "e-43", "t-1", other);
    assert_string_not_equal(other, id);
    policy_decision_id(NULL, "e-42", "t-2", other);
    assert_string_not_equal(other, id);
    /* the same id from two sources is two events: two decision ids; no
     * source (or an empty one) is the id alone */
    char a1[37], a2[37], a3[37];
    policy_decision_id("/crm/eu-1", "evt-1", "t-1", a1);
    policy_decision_id("/crm/eu-2", "evt-1", "t-1", a2);
    policy_decision_id("", "evt-1", "t-1", a3);
    assert_string_not_equal(a1, a2);
    policy_decision_id(NULL, "evt-1", "t-1", other);
    assert_string_equal(a3, other);
    assert_string_not_equal(a1, other);
    /* The default chooser is deterministic. */
    const char *names[] = {"a", "b", "c"};
    policy_variant_query q = {"v", names, 3, "i-9", "x"};
    policy_variant_pick a, b;
    policy_variant_default(NULL, &q, &a);
    policy_variant_default(NULL, &q, &b);
    assert_int_equal(a.index, b.index);
    assert_string_equal(a.method, "hash");
    /* The choice and its sampled value are in the decision. */
    const cJSON *ch = cJSON_GetArrayItem(at(rt, "policy.choices"), 0);
    assert_string_equal(sat(ch, "variant"), "b");
    assert_string_equal(sat(ch, "method"), "thompson");
    assert_true(nat(ch, "sampled") > 0.62 && nat(ch, "sampled") < 0.63);
    assert_string_equal(sat(rt, "policy.bucket"), "billing/neutral/normal");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    cJSON_Delete(rt2);
    cJSON_Delete(crm2);
    /* The reason says the draw the choice records (a replay of the record
     * then says the same). */
    env.choose_variant = pick_edge;
    assert_int_equal(policy_decide(p, d, &env, &rt, &crm, err, sizeof err), ATTUNE_OK);
    ch = cJSON_GetArrayItem(at(rt, "policy.choices"), 0);
    char said[64];
    snprintf(said, sizeof said, "sampled %.3f]", nat(ch, "sampled"));
    int found = 0;
    for (const cJSON *e = at(rt, "reasons")->child; e; e = e->next)
        found |= strcmp(sat(e, "code"), "V") == 0 && strstr(sat(e, "text"), said) != NULL;
    assert_true(found);
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    env.choose_variant = pick_last;
    /* Input without a situation. */
    cJSON_DeleteItemFromObject(d, "situation");
    assert_int_equal(policy_decide(p, d, &env, &rt, &crm, err, sizeof err), ATTUNE_ERR_INVALID);
    assert_null(rt);
    assert_null(crm);
    cJSON_Delete(d);
    policy_free(p);
}

/* --- the shipped default policy ------------------------------------------------------ */

static policy *load_default(void)
{
    size_t len = 0;
    const char *text = read_all("deploy/policies/default.json", &len);
    assert_non_null(text);
    policy *p = NULL;
    problem_field errs[16];
    size_t n = 0;
    attune_err rc = policy_load(text, len, &p, errs, 16, &n);
    for (size_t i = 0; i < n && i < 16; i++)
        fprintf(stderr, "%s: %s\n", errs[i].pointer, errs[i].detail);
    assert_int_equal(rc, ATTUNE_OK);
    return p;
}

static void test_default_policy(void **state)
{
    (void)state;
    policy *p = load_default();
    cJSON *rt, *crm;
    /* Time-pressed with a long wait: brisk, brief apology, callback. */
    sit s = neutral_sit();
    s.urgency = "high";
    s.wait = 600;
    s.intent = "order_delivery";
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.pace"), "brisk");
    assert_string_equal(sat(rt, "guidance.apology"), "brief");
    assert_string_equal(sat(rt, "routing.channel"), "callback");
    assert_true(has_reason(rt, "TIME_PRESSED", "guidance.pace"));
    const double high_priority = nat(rt, "routing.priority");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    /* Danger (critical): first in the queue, a senior agent for the
     * emergency, calm rather than brisk. */
    s.urgency = "critical";
    decide(p, &s, &rt, &crm);
    assert_true(nat(rt, "routing.priority") >= high_priority + 30);
    assert_true(has_reason(rt, "DANGER_FIRST", "routing.priority"));
    assert_string_equal(sat(rt, "routing.agent_tier"), "senior");
    assert_string_equal(sat(rt, "guidance.pace"), "standard");
    assert_string_equal(sat(rt, "routing.channel"), "callback");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    /* ... who asked not to be called: no callback. */
    s.avoid_channel = "voice";
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "routing.channel"), "stay");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    /* Repeat contact: senior, full apology, ownership, follow-up. */
    s = neutral_sit();
    s.contacts_7d = 4;
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "routing.agent_tier"), "senior");
    assert_string_equal(sat(rt, "guidance.apology"), "full");
    assert_true(cJSON_IsTrue(at(rt, "guidance.ownership")));
    assert_string_equal(sat(at(crm, "follow_ups")->child, "type"), "apology_follow_up");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    /* Key account: dedicated queue, shorter wait, expert. */
    s = neutral_sit();
    s.segment = "key_account";
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "routing.queue"), "key_accounts");
    assert_int_equal((int)nat(rt, "routing.max_wait_seconds"), 60);
    assert_string_equal(sat(rt, "routing.agent_tier"), "expert");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    /* Business traveller paid by the employer: recognition, no discount. */
    s = neutral_sit();
    s.segment = "business";
    s.payer = "employer";
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.tone"), "recognition");
    assert_false(cJSON_IsTrue(at(rt, "guidance.compensation.eligible")));
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    /* Price-sensitive leisure customer: value remedy. */
    s = neutral_sit();
    s.segment = "leisure";
    s.payer = "self";
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.compensation.basis"), "value_remedy");
    assert_string_equal(sat(rt, "guidance.offer.type"), "retention");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    /* Relaxed and positive with consent: unhurried, an offer. */
    s = neutral_sit();
    s.sentiment = 0.6;
    s.urgency = "low";
    s.segment = "leisure";
    s.intent = "information";
    decide(p, &s, &rt, &crm);
    assert_string_equal(sat(rt, "guidance.pace"), "unhurried");
    assert_string_not_equal(sat(rt, "guidance.offer.type"), "none");
    assert_string_not_equal(sat(rt, "policy.variant"), "default");
    cJSON_Delete(rt);
    cJSON_Delete(crm);
    policy_free(p);
}

/* --- property test: random policies, random situations ------------------------------ */

static uint64_t rng = 88172645463325252ULL;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}
static double rndf(void)
{
    return rnd(10001) / 10000.0;
}

static const char *const RPATHS[] = {
    "situation.sentiment.score",     "situation.emotion.scores.anger",
    "situation.emotion.scores.fear", "situation.urgency.effort",
    "context.contacts_7d",           "context.profile.value",
    "situation.threat.level",        "context.profile.vulnerable",
    "situation.intent.label"};

static cJSON *rand_cond(int depth)
{
    unsigned k = depth < 3 ? rnd(5) : 4;
    if (k == 0 || k == 1) {
        cJSON *o = cJSON_CreateObject();
        cJSON *a = cJSON_AddArrayToObject(o, k ? "any" : "all");
        for (unsigned i = 0, n = 1 + rnd(3); i < n; i++)
            cJSON_AddItemToArray(a, rand_cond(depth + 1));
        return o;
    }
    if (k == 2) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "not", rand_cond(depth + 1));
        return o;
    }
    cJSON *o = cJSON_CreateObject();
    unsigned pi = rnd(sizeof RPATHS / sizeof RPATHS[0]);
    cJSON_AddStringToObject(o, "path", RPATHS[pi]);
    if (pi == 6) {
        cJSON_AddStringToObject(o, "op", "eq");
        cJSON_AddStringToObject(o, "value", rnd(2) ? "abuse" : "none");
    } else if (pi == 7) {
        cJSON_AddStringToObject(o, "op", "eq");
        cJSON_AddBoolToObject(o, "value", rnd(2));
    } else if (pi == 8) {
        cJSON_AddStringToObject(o, "op", "in");
        const char *v[] = {"billing", "cancel"};
        cJSON_AddItemToObject(o, "value", cJSON_CreateStringArray(v, 2));
    } else {
        static const char *const ops[] = {"lt", "ge", "gt", "le"};
        cJSON_AddStringToObject(o, "op", ops[rnd(4)]);
        cJSON_AddNumberToObject(o, "value",
                                pi == 4   ? rnd(6)
                                : pi == 5 ? rnd(5000)
                                          : rndf() * 2 - 1);
    }
    return o;
}

static char *rand_policy(void)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s}", BASE);
    cJSON *p = parse(buf);
    cJSON *rules = cJSON_AddArrayToObject(p, "rules");
    static const char *const channels[] = {"stay", "callback", "escalate_voice", "self_service"};
    static const char *const tiers[] = {"standard", "senior", "expert"};
    static const char *const types[] = {"cross_sell", "upsell", "retention"};
    for (unsigned i = 0, n = 1 + rnd(8); i < n; i++) {
        cJSON *r = cJSON_CreateObject();
        char id[16];
        snprintf(id, sizeof id, "r%u", i);
        cJSON_AddStringToObject(r, "id", id);
        cJSON_AddStringToObject(r, "code", "R");
        cJSON_AddStringToObject(r, "reason", "random");
        cJSON_AddNumberToObject(r, "priority", rnd(100));
        if (rnd(4))
            cJSON_AddItemToObject(r, "when", rand_cond(0));
        cJSON *set = cJSON_AddObjectToObject(r, "set");
        if (rnd(2))
            cJSON_AddNumberToObject(set, "routing.priority_boost", (int)rnd(201) - 100);
        if (rnd(2))
            cJSON_AddStringToObject(set, "routing.agent_tier", tiers[rnd(3)]);
        if (rnd(2))
            cJSON_AddNumberToObject(set, "routing.max_wait_seconds", 1 + rnd(300));
        if (rnd(2))
            cJSON_AddStringToObject(set, "routing.channel", channels[rnd(4)]);
        if (rnd(2)) {
            cJSON *t = cJSON_AddArrayToObject(set, "guidance.offer_types");
            for (int k = 0; k < 3; k++)
                if (rnd(2))
                    cJSON_AddItemToArray(t, cJSON_CreateString(types[k]));
        }
        if (rnd(2)) {
            cJSON *c = cJSON_AddObjectToObject(set, "guidance.compensation");
            cJSON_AddBoolToObject(c, "eligible", rnd(2));
            cJSON_AddNumberToObject(c, "cap", rnd(100));
            cJSON_AddStringToObject(c, "basis", "case");
        }
        cJSON_AddItemToArray(rules, r);
    }
    cJSON *offers = cJSON_AddArrayToObject(p, "offers");
    for (unsigned i = 0, n = rnd(4); i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        char id[16];
        snprintf(id, sizeof id, "o%u", i);
        cJSON_AddStringToObject(o, "id", id);
        cJSON_AddStringToObject(o, "type", types[rnd(3)]);
        cJSON_AddNumberToObject(o, "propensity", rndf());
        cJSON_AddNumberToObject(o, "value", rnd(100));
        if (rnd(2))
            cJSON_AddItemToObject(o, "when", rand_cond(1));
        cJSON_AddItemToArray(offers, o);
    }
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    return s;
}

static sit rand_sit(void)
{
    static const char *const threats[] = {"none", "none", "none", "profanity", "abuse", "threat"};
    static const char *const intents[] = {"billing", "cancel", "complaint", "information"};
    static const char *const levels[] = {"low", "normal", "high", "critical"};
    sit s = neutral_sit();
    s.sentiment = rndf() * 2 - 1;
    s.anger = rndf() * 0.5;
    s.fear = rndf() * 0.5;
    s.effort = rndf();
    s.intent = intents[rnd(4)];
    s.urgency = levels[rnd(4)];
    s.threat = threats[rnd(6)];
    s.consent = (int)rnd(2);
    s.vulnerable = rnd(5) == 0;
    s.contacts_7d = (int)rnd(6);
    s.value = rnd(5000);
    s.wait = rnd(1200);
    return s;
}

static void check_guards(const cJSON *rt, const sit *s)
{
    assert_true(nat(rt, "routing.max_wait_seconds") <= 300);
    assert_true(nat(rt, "routing.max_wait_seconds") >= 1);
    double prio = nat(rt, "routing.priority");
    assert_true(prio >= 10 && prio <= 100);
    const char *tier = sat(rt, "routing.agent_tier");
    assert_true(strcmp(tier, "standard") == 0 || strcmp(tier, "senior") == 0 ||
                strcmp(tier, "expert") == 0);
    const char *type = sat(rt, "guidance.offer.type");
    int distressed = s->sentiment < -0.3 || s->anger > 0.5 || s->fear > 0.5;
    if (distressed || s->vulnerable || !s->consent)
        assert_true(strcmp(type, "cross_sell") != 0 && strcmp(type, "upsell") != 0);
    if (strcmp(s->threat, "threat") == 0 || strcmp(s->threat, "abuse") == 0) {
        assert_string_equal(sat(rt, "guidance.protection"), strcmp(s->threat, "threat") == 0
                                                                ? "protection_flow"
                                                                : "warning_script");
        assert_string_equal(type, "none");
        assert_false(cJSON_IsTrue(at(rt, "guidance.compensation.eligible")));
    }
    assert_true(nat(rt, "guidance.compensation.cap") <= 100);
}

static void test_property_guards(void **state)
{
    (void)state;
    int valid = 0, rejected = 0;
    for (int round = 0; round < 300; round++) {
        char *text = rand_policy();
        policy *p = NULL;
        size_t n = 0;
        attune_err rc = policy_load(text, strlen(text), &p, NULL, 0, &n);
        cJSON_free(text);
        if (rc != ATTUNE_OK) {
            rejected++;
            continue;
        }
        valid++;
        for (int k = 0; k < 20; k++) {
            sit s = rand_sit();
            cJSON *rt, *crm;
            decide(p, &s, &rt, &crm);
            check_guards(rt, &s);
            /* The same case with other feelings: the same compensation. */
            sit t = s;
            t.anger = rndf() * 0.5;
            t.fear = rndf() * 0.5;
            t.sentiment = rndf() * 2 - 1;
            cJSON *rt2, *crm2;
            decide(p, &t, &rt2, &crm2);
            check_guards(rt2, &t);
            assert_true(cJSON_Compare(at(rt, "guidance.compensation"),
                                      at(rt2, "guidance.compensation"), 1));
            cJSON_Delete(rt);
            cJSON_Delete(crm);
            cJSON_Delete(rt2);
            cJSON_Delete(crm2);
        }
        policy_free(p);
    }
    /* Both kinds occurred: the generator exercises the validator too. */
    assert_true(valid > 30);
    assert_true(rejected > 30);
}

/* --- concurrency ------------------------------------------------------------------------ */

static void *decide_many(void *arg)
{
    const policy *p = arg;
    sit s = neutral_sit();
    s.contacts_7d = 4;
    cJSON *d = make_data(&s);
    char err[64];
    for (int i = 0; i < 200; i++) {
        cJSON *rt, *crm;
        if (policy_decide(p, d, NULL, &rt, &crm, err, sizeof err) != ATTUNE_OK)
            abort();
        if (strcmp(sat(rt, "routing.agent_tier"), "senior") != 0)
            abort();
        cJSON_Delete(rt);
        cJSON_Delete(crm);
    }
    cJSON_Delete(d);
    return NULL;
}

static void test_concurrent_decide(void **state)
{
    (void)state;
    policy *p = load_default();
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, decide_many, p), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    policy_free(p);
}

/* signals.repeat_same_intent: an earlier contact in the last 7 days about
 * the same intent makes a repeat contact; other intents, older contacts and
 * earlier events of the same interaction do not. */
static void test_repeat_same_intent_signal(void **state)
{
    (void)state;
    policy *p = load_default();
    static const struct {
        const char *recent;
        int repeat;
    } cases[] = {
        {"{\"interaction_id\":\"i-0\",\"intent\":\"billing\",\"occurred_at\":"
         "\"2026-11-20T10:00:00Z\"}",
         1},
        {"{\"interaction_id\":\"i-0\",\"intent\":\"order_delivery\",\"occurred_at\":"
         "\"2026-11-20T10:00:00Z\"}",
         0},
        {"{\"interaction_id\":\"i-0\",\"intent\":\"billing\",\"occurred_at\":"
         "\"2026-11-01T10:00:00Z\"}",
         0},
        {"{\"interaction_id\":\"i-1\",\"intent\":\"billing\",\"occurred_at\":"
         "\"2026-11-22T09:00:00Z\"}",
         0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[2048];
        snprintf(buf, sizeof buf,
                 "{\"interaction_id\":\"i-1\",\"customer_id\":\"c-1\",\"channel\":\"chat\","
                 "\"kind\":\"message\",\"occurred_at\":\"2026-11-22T10:00:00Z\","
                 "\"context\":{\"status\":\"ok\",\"profile\":{\"tier\":\"standard\"},"
                 "\"preferences\":{},\"recent\":[%s],\"contacts_24h\":2,\"contacts_7d\":2},"
                 "\"situation\":{\"sentiment\":{\"score\":0,\"label\":\"neutral\"},"
                 "\"emotion\":{\"scores\":{\"anger\":0,\"fear\":0},\"label\":\"neutral\"},"
                 "\"intent\":{\"label\":\"billing\",\"confidence\":0.8},"
                 "\"urgency\":{\"score\":0.2,\"level\":\"normal\",\"effort\":0},"
                 "\"threat\":{\"level\":\"none\"},\"preferences\":{},\"evidence\":[]}}",
                 cases[i].recent);
        cJSON *d = parse(buf);
        cJSON *rt = NULL, *crm = NULL;
        char err[256];
        assert_int_equal(policy_decide(p, d, NULL, &rt, &crm, err, sizeof err), ATTUNE_OK);
        assert_string_equal(sat(rt, "guidance.apology"), cases[i].repeat ? "full" : "none");
        assert_int_equal(has_reason(rt, "REPEAT_CONTACT", "guidance.apology"), cases[i].repeat);
        /* The view of signals never leaks into the decision or the input. */
        assert_null(cJSON_GetObjectItem(d, "signals"));
        cJSON_Delete(rt);
        cJSON_Delete(crm);
        cJSON_Delete(d);
    }
    policy_free(p);
}

/* A vulnerability named in a contact of the last 90 days
 * (signals.recent_vulnerable) or flagged in the profile: care and no
 * retention pitch when the customer cancels, where a leisure customer who
 * pays for themselves is otherwise offered one. */
static void test_vulnerability_remembered(void **state)
{
    (void)state;
    policy *p = load_default();
    static const struct {
        const char *recent;
        const char *profile_vulnerable;
        int vulnerable;
    } cases[] = {
        {"", "false", 0},
        {"{\"interaction_id\":\"i-0\",\"intent\":\"other\",\"vulnerable\":true,"
         "\"occurred_at\":\"2026-11-19T10:00:00Z\"}",
         "false", 1},
        {"{\"interaction_id\":\"i-0\",\"intent\":\"other\",\"vulnerable\":true,"
         "\"occurred_at\":\"2026-07-01T10:00:00Z\"}",
         "false", 0}, /* over 90 days ago */
        {"", "true", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[2048];
        snprintf(buf, sizeof buf,
                 "{\"interaction_id\":\"i-1\",\"customer_id\":\"c-1\",\"channel\":\"chat\","
                 "\"kind\":\"message\",\"occurred_at\":\"2026-11-22T10:00:00Z\","
                 "\"context\":{\"status\":\"ok\",\"profile\":{\"tier\":\"standard\","
                 "\"segment\":\"leisure\",\"payer\":\"self\",\"vulnerable\":%s,"
                 "\"marketing_consent\":true},"
                 "\"preferences\":{},\"recent\":[%s],\"contacts_24h\":1,\"contacts_7d\":1},"
                 "\"situation\":{\"sentiment\":{\"score\":0,\"label\":\"neutral\"},"
                 "\"emotion\":{\"scores\":{\"anger\":0,\"fear\":0},\"label\":\"neutral\"},"
                 "\"intent\":{\"label\":\"cancel\",\"confidence\":0.9},"
                 "\"urgency\":{\"score\":0.2,\"level\":\"normal\",\"effort\":0},"
                 "\"threat\":{\"level\":\"none\"},\"preferences\":{},\"evidence\":[]}}",
                 cases[i].profile_vulnerable, cases[i].recent);
        cJSON *d = parse(buf);
        cJSON *rt = NULL, *crm = NULL;
        char err[256];
        assert_int_equal(policy_decide(p, d, NULL, &rt, &crm, err, sizeof err), ATTUNE_OK);
        const int v = cases[i].vulnerable;
        assert_int_equal(has_reason(rt, "VULNERABLE_SUPPORT", "routing.agent_tier"), v);
        assert_int_equal(strcmp(sat(rt, "routing.queue"), "retention") == 0, !v);
        assert_int_equal(strcmp(sat(rt, "guidance.offer.type"), "retention") == 0, !v);
        /* the decision says so when a contact named it */
        if (cases[i].recent[0])
            assert_int_equal(cJSON_IsTrue(at(rt, "situation.vulnerable")), v);
        cJSON_Delete(rt);
        cJSON_Delete(crm);
        cJSON_Delete(d);
    }
    policy_free(p);
}

/* A remembered preference that the message contradicts is dropped: "email
 * only" once, "I'd rather you phoned" now is a callback, and no decision
 * holds both "voice" and "avoid voice". A request for this contact only
 * ("could someone ring me back?") drops it from the decision, not from the
 * memory, and is no learned preference for the CRM. */
static void test_stale_preference(void **state)
{
    (void)state;
    policy *p = load_default();
    const char *fmt = "{\"interaction_id\":\"i-1\",\"customer_id\":\"c-1\",\"channel\":\"chat\","
                      "\"kind\":\"message\",\"occurred_at\":\"2026-11-22T10:00:00Z\","
                      "\"context\":{\"status\":\"ok\",\"profile\":{\"tier\":\"standard\"},"
                      "\"preferences\":{%s},\"recent\":[],\"contacts_24h\":1,\"contacts_7d\":1},"
                      "\"situation\":{\"sentiment\":{\"score\":0,\"label\":\"neutral\"},"
                      "\"emotion\":{\"scores\":{\"anger\":0,\"fear\":0},\"label\":\"neutral\"},"
                      "\"intent\":{\"label\":\"technical_issue\",\"confidence\":0.8},"
                      "\"urgency\":{\"score\":0.2,\"level\":\"normal\",\"effort\":0},"
                      "\"threat\":{\"level\":\"none\"},\"preferences\":{%s},\"evidence\":[]}}";
    static const struct {
        const char *kept, *said, *stale, *channel;
        int for_now;
    } cases[] = {
        {"\"channel\":\"email\",\"avoid_channel\":\"voice\"", "\"channel\":\"voice\"",
         "avoid_channel", "callback", 0},
        {"\"avoid_channel\":\"voice\"", "\"channel\":\"email\"", NULL, "stay", 0},
        {"\"channel\":\"voice\"", "\"avoid_channel\":\"voice\"", "channel", "stay", 0},
        {"", "\"channel\":\"voice\"", NULL, "callback", 0},
        {"\"channel\":\"email\",\"avoid_channel\":\"voice\"",
         "\"channel\":\"voice\",\"for_now\":[\"channel\"]", "avoid_channel", "callback", 1},
        {"\"channel\":\"voice\"", "\"avoid_channel\":\"voice\",\"for_now\":[\"avoid_channel\"]",
         "channel", "stay", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[2048];
        snprintf(buf, sizeof buf, fmt, cases[i].kept, cases[i].said);
        cJSON *d = parse(buf);
        const char *stale = policy_stale_preference(d, 0);
        if (cases[i].stale)
            assert_string_equal(stale, cases[i].stale);
        else
            assert_null(stale);
        if (cases[i].for_now)
            assert_null(policy_stale_preference(d, 1));
        else
            assert_ptr_equal(policy_stale_preference(d, 1), stale);
        cJSON *rt = NULL, *crm = NULL;
        char err[256];
        assert_int_equal(policy_decide(p, d, NULL, &rt, &crm, err, sizeof err), ATTUNE_OK);
        if (strcmp(sat(rt, "routing.channel"), cases[i].channel) != 0)
            fail_msg("case %zu: routing.channel %s", i, sat(rt, "routing.channel"));
        const char *ch = sat(rt, "guidance.preferences.channel");
        const char *avoid = sat(rt, "guidance.preferences.avoid_channel");
        assert_false(ch[0] && strcmp(ch, avoid) == 0);
        if (cases[i].for_now)
            assert_null(at(crm, "preferences_learned")->child);
        /* the input is not changed */
        if (cases[i].kept[0])
            assert_non_null(at(d, "context.preferences")->child);
        cJSON_Delete(rt);
        cJSON_Delete(crm);
        cJSON_Delete(d);
    }
    policy_free(p);
}

/* --- learning section -------------------------------------------------------- */

static int has_error_at(const problem_field *errs, size_t n, const char *pointer, const char *word)
{
    for (size_t i = 0; i < n && i < 32; i++)
        if (strcmp(errs[i].pointer, pointer) == 0 && strstr(errs[i].detail, word))
            return 1;
    return 0;
}

static int success_of(const policy *p, const char *outcome)
{
    cJSON *o = parse(outcome);
    int r = policy_outcome_success(p, o);
    cJSON_Delete(o);
    return r;
}

static void test_learning_section(void **state)
{
    (void)state;
    /* Defaults: success is "resolved", no control group. */
    policy *p = load_with("", NULL, NULL, 0);
    assert_int_equal(success_of(p, "{\"resolved\":true}"), 1);
    assert_int_equal(success_of(p, "{\"resolved\":false,\"csat\":5}"), 0);
    assert_int_equal(success_of(p, "{\"csat\":5}"), -1);
    assert_true(policy_control_share(p) == 0);
    policy_free(p);

    /* A success definition over several facts: holding is enough for a
     * success; a failure needs every fact it reads. */
    p = load_with("\"learning\":{\"control_share\":0.2,\"bucket\":[\"situation.intent.label\","
                  "\"channel\"],\"success\":{\"any\":[{\"path\":\"outcome.resolved\",\"op\":"
                  "\"eq\",\"value\":true},{\"path\":\"outcome.csat\",\"op\":\"ge\",\"value\":4}]}}",
                  NULL, NULL, 0);
    assert_int_equal(success_of(p, "{\"csat\":5}"), 1);
    assert_int_equal(success_of(p, "{\"csat\":2}"), -1);
    assert_int_equal(success_of(p, "{\"csat\":2,\"resolved\":false}"), 0);
    assert_true(policy_control_share(p) > 0.19 && policy_control_share(p) < 0.21);
    sit st = neutral_sit();
    cJSON *d = make_data(&st);
    char bucket[POLICY_BUCKET_MAX];
    policy_bucket(p, d, bucket, sizeof bucket);
    assert_string_equal(bucket, "billing/chat");
    /* An absent value is "-", and '|' (the field separator in Redis) never
     * appears in a bucket. */
    cJSON_DeleteItemFromObjectCaseSensitive(d, "channel");
    cJSON_ReplaceItemInObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "situation"),
                                         "intent"),
        "label", cJSON_CreateString("a|b"));
    policy_bucket(p, d, bucket, sizeof bucket);
    assert_string_equal(bucket, "a_b/-");
    /* A long value is cut at a character boundary, never inside one. */
    char longer[80];
    memset(longer, 'x', 59);
    memcpy(longer + 59, "\xc3\xbc", 3); /* "ü" straddles byte 60 */
    cJSON_ReplaceItemInObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "situation"),
                                         "intent"),
        "label", cJSON_CreateString(longer));
    policy_bucket(p, d, bucket, sizeof bucket);
    assert_int_equal(strlen(bucket), 59 + 2);
    assert_int_equal(bucket[58], 'x');
    assert_string_equal(bucket + 59, "/-");
    cJSON_Delete(d);
    policy_free(p);

    /* Mistakes are named. */
    problem_field errs[32];
    size_t n = 0;
    p = load_with("\"rules\":[{\"id\":\"r\",\"code\":\"R\",\"reason\":\"x\",\"priority\":1,"
                  "\"when\":{\"path\":\"outcome.resolved\",\"op\":\"eq\",\"value\":true},"
                  "\"set\":{\"guidance.tone\":\"calm\"}}],\"learning\":{\"control_share\":0.9,"
                  "\"bucket\":[\"situation.sentiment.score\"],\"success\":{\"path\":"
                  "\"situation.intent.label\",\"op\":\"eq\",\"value\":\"billing\"},\"window\":1}",
                  &n, errs, 32);
    assert_null(p);
    assert_true(
        has_error_at(errs, n, "/rules/0/when", "outcome.* is only for a success definition"));
    assert_true(has_error_at(errs, n, "/learning/success", "reads outcome.* only"));
    assert_true(has_error_at(errs, n, "/learning/control_share", "from 0 to 0.5"));
    assert_true(has_error_at(errs, n, "/learning/bucket/0", "holds a label"));
    assert_true(has_error_at(errs, n, "/learning/window", "unknown member"));

    /* A rule with variants may say what success is for them: its own
     * definition judges its variants, the policy's the rest. */
    static const char vars[] =
        "\"variants\":[{\"name\":\"a\",\"set\":{\"guidance.tone\":\"calm\"}},"
        "{\"name\":\"b\",\"set\":{\"guidance.tone\":\"friendly\"}}]";
    char text[1024];
    snprintf(text, sizeof text,
             "\"rules\":[{\"id\":\"offer\",\"code\":\"O\",\"reason\":\"x\",\"priority\":1,%s,"
             "\"success\":{\"path\":\"outcome.offer_accepted\",\"op\":\"eq\",\"value\":true}},"
             "{\"id\":\"pace\",\"code\":\"P\",\"reason\":\"x\",\"priority\":2,%s}]",
             vars, vars);
    p = load_with(text, NULL, NULL, 0);
    assert_non_null(p);
    cJSON *o = parse("{\"resolved\":true}");
    assert_int_equal(policy_rule_success(p, "offer", o), -1);
    assert_int_equal(policy_rule_success(p, "pace", o), 1);
    assert_int_equal(policy_rule_success(p, "gone", o), -1); /* no longer in the policy */
    cJSON_Delete(o);
    o = parse("{\"resolved\":false,\"offer_accepted\":true}");
    assert_int_equal(policy_rule_success(p, "offer", o), 1);
    assert_int_equal(policy_rule_success(p, "pace", o), 0);
    cJSON_Delete(o);
    policy_free(p);
    /* ... and only such a rule, over outcome.* only */
    n = 0;
    p = load_with("\"rules\":[{\"id\":\"r\",\"code\":\"R\",\"reason\":\"x\",\"priority\":1,"
                  "\"set\":{\"guidance.tone\":\"calm\"},\"success\":{\"path\":"
                  "\"outcome.resolved\",\"op\":\"eq\",\"value\":true}}]",
                  &n, errs, 32);
    assert_null(p);
    assert_true(has_error_at(errs, n, "/rules/0/success", "only a rule with \"variants\""));
    snprintf(text, sizeof text,
             "\"rules\":[{\"id\":\"r\",\"code\":\"R\",\"reason\":\"x\",\"priority\":1,%s,"
             "\"success\":{\"path\":\"situation.intent.label\",\"op\":\"eq\",\"value\":"
             "\"billing\"}}]",
             vars);
    n = 0;
    p = load_with(text, &n, errs, 32);
    assert_null(p);
    assert_true(has_error_at(errs, n, "/rules/0/success", "reads outcome.* only"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cond_language),
        cmocka_unit_test(test_cond_errors),
        cmocka_unit_test(test_validator_messages),
        cmocka_unit_test(test_rule_limit),
        cmocka_unit_test(test_guard_floor),
        cmocka_unit_test(test_guard_anger_not_rewarded),
        cmocka_unit_test(test_guard_no_sales),
        cmocka_unit_test(test_undone_variant_is_no_choice),
        cmocka_unit_test(test_guard_protection),
        cmocka_unit_test(test_arbitration),
        cmocka_unit_test(test_reasons_and_priority),
        cmocka_unit_test(test_contact_summary),
        cmocka_unit_test(test_agent_tier_most_senior),
        cmocka_unit_test(test_variants_and_ids),
        cmocka_unit_test(test_default_policy),
        cmocka_unit_test(test_repeat_same_intent_signal),
        cmocka_unit_test(test_vulnerability_remembered),
        cmocka_unit_test(test_stale_preference),
        cmocka_unit_test(test_property_guards),
        cmocka_unit_test(test_concurrent_decide),
        cmocka_unit_test(test_learning_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
