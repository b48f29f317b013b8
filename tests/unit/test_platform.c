/* Unit tests of the platform modules: config, JSON limits, CloudEvents and
 * interaction validation, the producer's size limit and per-record delivery outcome (on
 * librdkafka's mock cluster), problem documents, metrics text, the
 * idempotency window, timestamps, Redis URLs, the data-file number reader, the in-place JSON
 * writer, JSON pointers in problem documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <librdkafka/rdkafka.h> /* before rdkafka_mock.h, which needs it */
#include <librdkafka/rdkafka_mock.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "customer.h"
#include "dedup.h"
#include "event.h"
#include "ids.h"
#include "interaction.h"
#include "json.h"
#include "kafka.h"
#include "metrics.h"
#include "numparse.h"
#include "outcome.h"
#include "problem.h"
#include "redis.h"
#include "ts.h"

static void clear_env(void)
{
    unsetenv("ATTUNE_MAX_BODY_BYTES");
    unsetenv("ATTUNE_KAFKA_SASL_MECHANISM");
    unsetenv("ATTUNE_HTTP_ADDR");
    unsetenv("ATTUNE_KAFKA_BOOTSTRAP");
    unsetenv("ATTUNE_KAFKA_CONSUMER_MAX_POLL_INTERVAL_MS");
    unsetenv("ATTUNE_KAFKA_PRODUCER_LINGER_MS");
    unsetenv("ATTUNE_KAFKA_CONSUMER_");
    unsetenv("ATTUNE_KAFKA_LINGER_MS");
}

static void test_config_defaults(void **state)
{
    (void)state;
    clear_env();
    config cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, "enrich", err, sizeof err), ATTUNE_OK);
    assert_string_equal(cfg.http_addr, "127.0.0.1:8081");
    assert_string_equal(cfg.group_id, "attune-enrich");
    assert_string_equal(cfg.topic_interactions, "attune.interactions.v1");
    assert_int_equal(cfg.max_body_bytes, 1048576);
    assert_int_equal(cfg.http_max_conn_per_ip, 64);
    assert_int_equal(cfg.http_timeout_s, 30);
    assert_int_equal(cfg.kafka_prop_count, 0);
    config_fini(&cfg);
}

static void test_config_errors_name_the_variable(void **state)
{
    (void)state;
    clear_env();
    config cfg;
    char err[256];
    setenv("ATTUNE_MAX_BODY_BYTES", "12abc", 1);
    assert_int_equal(config_load(&cfg, "ingest", err, sizeof err), ATTUNE_ERR_CONFIG);
    assert_non_null(strstr(err, "ATTUNE_MAX_BODY_BYTES"));
    assert_non_null(strstr(err, "not an integer"));
    setenv("ATTUNE_MAX_BODY_BYTES", "10", 1);
    assert_int_equal(config_load(&cfg, "ingest", err, sizeof err), ATTUNE_ERR_CONFIG);
    assert_non_null(strstr(err, "out of range"));
    unsetenv("ATTUNE_MAX_BODY_BYTES");
    setenv("ATTUNE_HTTP_ADDR", "nohostport", 1);
    assert_int_equal(config_load(&cfg, "ingest", err, sizeof err), ATTUNE_ERR_CONFIG);
    assert_non_null(strstr(err, "ATTUNE_HTTP_ADDR"));
    clear_env();
}

static void test_config_kafka_passthrough(void **state)
{
    (void)state;
    clear_env();
    setenv("ATTUNE_KAFKA_SASL_MECHANISM", "PLAIN", 1);
    setenv("ATTUNE_KAFKA_BOOTSTRAP", "k:1", 1);
    config cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, "ingest", err, sizeof err), ATTUNE_OK);
    assert_int_equal(cfg.kafka_prop_count, 1); /* BOOTSTRAP is our own, not passed */
    assert_string_equal(cfg.kafka_prop_names[0], "sasl.mechanism");
    assert_string_equal(cfg.kafka_prop_values[0], "PLAIN");
    assert_string_equal(cfg.kafka_bootstrap, "k:1");
    config_fini(&cfg);
    assert_true(config_is_secret("sasl.password"));
    assert_false(config_is_secret("sasl.mechanism"));
    clear_env();
}

/* A property for one side reaches that side only; one for both reaches
 * both and the admin client. */
static void test_config_kafka_passthrough_roles(void **state)
{
    (void)state;
    clear_env();
    setenv("ATTUNE_KAFKA_SASL_MECHANISM", "PLAIN", 1);
    setenv("ATTUNE_KAFKA_CONSUMER_MAX_POLL_INTERVAL_MS", "600000", 1);
    setenv("ATTUNE_KAFKA_PRODUCER_LINGER_MS", "20", 1);
    config cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, "deliver", err, sizeof err), ATTUNE_OK);
    assert_int_equal(cfg.kafka_prop_count, 3);
    int seen[3] = {0, 0, 0};
    for (size_t i = 0; i < cfg.kafka_prop_count; i++) {
        const char *c = config_kafka_prop(&cfg, i, "consumer");
        const char *p = config_kafka_prop(&cfg, i, "producer");
        const char *a = config_kafka_prop(&cfg, i, NULL);
        if (strcmp(cfg.kafka_prop_values[i], "PLAIN") == 0) {
            assert_string_equal(c, "sasl.mechanism");
            assert_string_equal(p, "sasl.mechanism");
            assert_string_equal(a, "sasl.mechanism");
            seen[0] = 1;
        } else if (strcmp(cfg.kafka_prop_values[i], "600000") == 0) {
            assert_string_equal(c, "max.poll.interval.ms");
            assert_null(p);
            assert_null(a);
            seen[1] = 1;
        } else {
            assert_null(c);
            assert_string_equal(p, "linger.ms");
            assert_null(a);
            seen[2] = 1;
        }
    }
    assert_true(seen[0] && seen[1] && seen[2]);
    config_fini(&cfg);
    /* set for both sides and for one, the side's comes after (applied
     * last, it wins), whatever the environment's order */
    setenv("ATTUNE_KAFKA_LINGER_MS", "5", 1);
    assert_int_equal(config_load(&cfg, "deliver", err, sizeof err), ATTUNE_OK);
    size_t both = cfg.kafka_prop_count, side = cfg.kafka_prop_count;
    for (size_t i = 0; i < cfg.kafka_prop_count; i++) {
        const char *pname = config_kafka_prop(&cfg, i, "producer");
        if (pname && strcmp(pname, "linger.ms") == 0)
            *(strcmp(cfg.kafka_prop_values[i], "5") == 0 ? &both : &side) = i;
    }
    assert_true(both < side && side < cfg.kafka_prop_count);
    config_fini(&cfg);
    /* a side named with no property is refused */
    setenv("ATTUNE_KAFKA_CONSUMER_", "1", 1);
    assert_int_not_equal(config_load(&cfg, "deliver", err, sizeof err), ATTUNE_OK);
    assert_non_null(strstr(err, "ATTUNE_KAFKA_CONSUMER_: no librdkafka property name"));
    unsetenv("ATTUNE_KAFKA_CONSUMER_");
    setenv("ATTUNE_KAFKA_PRODUCER__X", "1", 1);
    assert_int_not_equal(config_load(&cfg, "deliver", err, sizeof err), ATTUNE_OK);
    unsetenv("ATTUNE_KAFKA_PRODUCER__X");
    setenv("ATTUNE_KAFKA__X", "1", 1);
    assert_int_not_equal(config_load(&cfg, "deliver", err, sizeof err), ATTUNE_OK);
    unsetenv("ATTUNE_KAFKA__X");
    clear_env();
}

static void test_json_limits(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    char err[128];
    const char ok[] = "{\"a\":[1,{\"b\":\"[[[[\"}]}";
    assert_int_equal(json_parse(ok, strlen(ok), 3, &doc, err, sizeof err), ATTUNE_OK);
    cJSON_Delete(doc);
    const char deep[] = "[[[[[1]]]]]";
    assert_int_equal(json_parse(deep, strlen(deep), 4, &doc, err, sizeof err), ATTUNE_ERR_LIMIT);
    assert_null(doc);
    const char bad_utf8[] = "{\"a\":\"\xc3\x28\"}";
    assert_int_equal(json_parse(bad_utf8, strlen(bad_utf8), 8, &doc, err, sizeof err),
                     ATTUNE_ERR_PARSE);
    const char trailing[] = "{} {}";
    assert_int_equal(json_parse(trailing, strlen(trailing), 8, &doc, err, sizeof err),
                     ATTUNE_ERR_PARSE);
    assert_int_equal(json_parse("", 0, 8, &doc, err, sizeof err), ATTUNE_ERR_PARSE);
    const char nul[] = "{\"a\":1}\0";
    assert_int_equal(json_parse(nul, sizeof nul, 8, &doc, err, sizeof err), ATTUNE_ERR_PARSE);
    assert_int_equal(json_utf8_valid("\xed\xa0\x80", 3), -1); /* surrogate */
    assert_int_equal(json_utf8_valid("\xc0\xaf", 2), -1);     /* overlong */
    assert_int_equal(json_utf8_valid("h\xc3\xa9llo \xf0\x9f\x98\x80", 11), 0);
}

static void test_buf_cap(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_puts(&b, "12345678"), ATTUNE_OK);
    assert_int_equal(buf_puts(&b, "9"), ATTUNE_ERR_LIMIT);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "12345678");
    buf_reset(&b);
    assert_int_equal(buf_json_str(&b, "a\"\n"), ATTUNE_OK);
    assert_string_equal(b.data, "\"a\\\"\\n\"");
    buf_fini(&b);
}

static cJSON *parse(const char *text)
{
    cJSON *doc = NULL;
    char err[128];
    assert_int_equal(json_parse(text, strlen(text), 16, &doc, err, sizeof err), ATTUNE_OK);
    return doc;
}

/* cJSON decodes \u0000 into the terminator of a C string, so the rest of
 * the string (or member name) would vanish silently: rejected like a raw
 * NUL byte. An escaped backslash before "u0000" is no escape of NUL. */
static void test_json_escaped_nul(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"customer_id\":\"c1\\u0000evil\"}",
        "{\"a\\u0000b\":1}",
        "[\"\\\\\\u0000\"]", /* an escaped backslash, then \u0000 */
        "{\"a\":{\"b\":[\"\\u00000\"]}}",
        "\"\\u0000\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *doc = NULL;
        char err[128] = "";
        assert_int_equal(json_parse(bad[i], strlen(bad[i]), 8, &doc, err, sizeof err),
                         ATTUNE_ERR_PARSE);
        assert_null(doc);
        assert_non_null(strstr(err, "\\u0000"));
    }
    cJSON *doc = parse("{\"a\":\"\\\\u0000\",\"b\":\"\\u0001\\\\\\\\u0000\"}");
    assert_string_equal(json_str(doc, "a"), "\\u0000");
    assert_string_equal(json_str(doc, "b"), "\x01\\\\u0000");
    cJSON_Delete(doc);
}

/* A member name twice in one object: lookups see the first, the record
 * travels on with both, so what is validated would not be what is
 * published. Rejected at any depth, naming the member. */
static void test_json_duplicate_members(void **state)
{
    (void)state;
    static const struct {
        const char *text, *where;
    } bad[] = {
        {"{\"customer_id\":\"c1\",\"customer_id\":5}", "at /customer_id"},
        {"{\"x\":[{\"b\":1},{\"c\":{\"d\":1,\"e\":0,\"d\":2}}]}", "at /x/1/c/d"},
        {"[0,[{\"a/b\":{\"~\":1,\"~\":2}}]]", "at /1/0/a~1b/~0"},
        {"{\"kind\":1,\"\\u006bind\":2}", "at /kind"}, /* the same name, spelt otherwise */
        {"{\"\":1,\"\":2}", "at /"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *doc = NULL;
        assert_int_equal(json_parse(bad[i].text, strlen(bad[i].text), 8, &doc, err, sizeof err),
                         ATTUNE_ERR_PARSE);
        assert_null(doc);
        assert_non_null(strstr(err, "duplicate member name"));
        assert_non_null(strstr(err, bad[i].where));
    }
    /* the same name in different objects, or in another case, is fine */
    cJSON *doc = parse("{\"a\":{\"x\":1},\"b\":{\"x\":1},\"c\":[{\"a\":1},{\"a\":1}],\"A\":0}");
    cJSON_Delete(doc);

    /* objects past the quadratic scan: names sorted */
    char big[600000];
    size_t o = 0;
    big[o++] = '{';
    for (int i = 0; i < 20000; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "%s\"m%d\":%d", i ? "," : "", i, i);
    big[o++] = '}';
    doc = NULL;
    assert_int_equal(json_parse(big, o, 8, &doc, err, sizeof err), ATTUNE_OK);
    assert_int_equal(cJSON_GetArraySize(doc), 20000);
    cJSON_Delete(doc);
    o--; /* the same, with m19999 twice */
    o += (size_t)snprintf(big + o, sizeof big - o, ",\"m19999\":0}");
    assert_int_equal(json_parse(big, o, 8, &doc, err, sizeof err), ATTUNE_ERR_PARSE);
    assert_non_null(strstr(err, "at /m19999"));
    for (int n = 15; n <= 18; n++) { /* both sides of the switch */
        o = 0;
        big[o++] = '{';
        for (int i = 0; i < n; i++)
            o += (size_t)snprintf(big + o, sizeof big - o, "\"k%d\":0,", i);
        o += (size_t)snprintf(big + o, sizeof big - o, "\"k0\":1}");
        assert_int_equal(json_parse(big, o, 8, &doc, err, sizeof err), ATTUNE_ERR_PARSE);
        assert_non_null(strstr(err, "at /k0"));
    }

    /* a message cut to a small buffer stays valid UTF-8 */
    char name[80], text[200], small[40];
    memset(name, 'a', 63);
    memcpy(name + 63, "\xc3\xa9", 3);
    snprintf(text, sizeof text, "{\"%s\":1,\"%s\":2}", name, name);
    for (size_t size = 1; size <= sizeof small; size++) {
        assert_int_equal(json_parse(text, strlen(text), 8, &doc, small, size), ATTUNE_ERR_PARSE);
        assert_true(strlen(small) < size);
        assert_int_equal(json_utf8_valid(small, strlen(small)), 0);
    }
    assert_int_equal(json_parse(text, strlen(text), 8, &doc, err, sizeof err), ATTUNE_ERR_PARSE);
    assert_non_null(
        strstr(err, "at /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    assert_int_equal(json_utf8_valid(err, strlen(err)), 0);
}

#define GOOD_DATA                                                                                  \
    "{\"interaction_id\":\"i1\",\"customer_id\":\"c1\",\"channel\":\"chat\",\"kind\":"             \
    "\"message\",\"occurred_at\":\"2026-11-22T10:00:00.5+01:00\",\"text\":\"hi\","                 \
    "\"wait_seconds\":12.5,\"attributes\":{\"seq\":1}}"

static void test_interaction_valid_and_invalid(void **state)
{
    (void)state;
    problem_field pf;
    cJSON *d = parse(GOOD_DATA);
    assert_int_equal(interaction_validate(d, 100, "/data", &pf), ATTUNE_OK);
    assert_true(interaction_occurred_ms(d) > 0);

    cJSON_DeleteItemFromObject(d, "customer_id");
    assert_int_equal(interaction_validate(d, 100, "/data", &pf), ATTUNE_ERR_INVALID);
    assert_string_equal(pf.pointer, "/data/customer_id");
    assert_string_equal(pf.detail, "is required");
    cJSON_Delete(d);

    static const struct {
        const char *field, *value, *pointer;
        attune_err err;
    } cases[] = {
        {"channel", "\"fax\"", "/channel", ATTUNE_ERR_INVALID},
        {"kind", "1", "/kind", ATTUNE_ERR_INVALID},
        {"occurred_at", "\"2026-02-30T00:00:00Z\"", "/occurred_at", ATTUNE_ERR_INVALID},
        {"wait_seconds", "-1", "/wait_seconds", ATTUNE_ERR_INVALID},
        {"text", "\"0123456789012345678901234567890123456789\"", "/text", ATTUNE_ERR_LIMIT},
        {"customer_id", "\"has space\"", "/customer_id", ATTUNE_ERR_INVALID},
        {"bogus", "1", "/bogus", ATTUNE_ERR_INVALID},
        {"attributes", "{\"x\":[1]}", "/attributes/x", ATTUNE_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        d = parse(GOOD_DATA);
        cJSON *v = parse(cases[i].value);
        if (cJSON_GetObjectItemCaseSensitive(d, cases[i].field))
            cJSON_ReplaceItemInObjectCaseSensitive(d, cases[i].field, v);
        else
            cJSON_AddItemToObject(d, cases[i].field, v);
        assert_int_equal(interaction_validate(d, 32, "", &pf), cases[i].err);
        assert_string_equal(pf.pointer, cases[i].pointer);
        cJSON_Delete(d);
    }
}

static void test_event_validate_and_derive(void **state)
{
    (void)state;
    problem_field pf;
    cJSON *ce = parse("{\"specversion\":\"1.0\",\"id\":\"e1\",\"source\":\"/s\",\"type\":"
                      "\"attune.interaction.v1\",\"data\":" GOOD_DATA "}");
    assert_int_equal(event_validate(ce, EVENT_TYPE_INTERACTION, "/0", &pf), ATTUNE_OK);
    assert_int_equal(event_validate(ce, EVENT_TYPE_ENRICHED, "/0", &pf), ATTUNE_ERR_INVALID);
    assert_string_equal(pf.pointer, "/0/type");

    cJSON *out = event_derive(ce, EVENT_TYPE_ENRICHED, cJSON_CreateObject());
    assert_non_null(out);
    assert_string_equal(json_str(out, "id"), "e1");
    assert_string_equal(json_str(out, "source"), "/s");
    assert_string_equal(json_str(out, "type"), EVENT_TYPE_ENRICHED);
    assert_true(ids_traceparent_valid(json_str(out, "traceparent")));
    cJSON_Delete(out);

    cJSON_AddStringToObject(ce, "traceparent", "00-zz");
    assert_int_equal(event_validate(ce, NULL, "", &pf), ATTUNE_ERR_INVALID);
    assert_string_equal(pf.pointer, "/traceparent");
    cJSON_Delete(ce);

    ce = parse("{\"specversion\":\"1.0\",\"source\":\"/s\",\"type\":\"t\",\"data\":{}}");
    assert_int_equal(event_validate(ce, NULL, "", &pf), ATTUNE_ERR_INVALID);
    assert_string_equal(pf.pointer, "/id");
    cJSON_Delete(ce);
}

static void test_event_attribute_limits(void **state)
{
    (void)state;
    problem_field pf;
    cJSON *ce = parse("{\"specversion\":\"1.0\",\"id\":\"e1\",\"source\":\"/s\",\"type\":"
                      "\"attune.interaction.v1\",\"data\":" GOOD_DATA "}");
    char *value = malloc(EVENT_MAX_ATTRIBUTE_BYTES + 2);
    assert_non_null(value);
    memset(value, 'v', EVENT_MAX_ATTRIBUTE_BYTES);
    value[EVENT_MAX_ATTRIBUTE_BYTES] = '\0';
    cJSON_AddStringToObject(ce, "comexampleref", value);
    cJSON_AddNumberToObject(ce, "comexamplecount", 3);
    assert_int_equal(event_validate(ce, NULL, "/0", &pf), ATTUNE_OK);

    value[EVENT_MAX_ATTRIBUTE_BYTES] = 'v';
    value[EVENT_MAX_ATTRIBUTE_BYTES + 1] = '\0';
    cJSON_ReplaceItemInObjectCaseSensitive(ce, "comexampleref", cJSON_CreateString(value));
    assert_int_equal(event_validate(ce, NULL, "/0", &pf), ATTUNE_ERR_LIMIT);
    assert_string_equal(pf.pointer, "/0/comexampleref");
    cJSON_DeleteItemFromObjectCaseSensitive(ce, "comexampleref");

    cJSON_AddStringToObject(ce, "subject", value); /* subject is bounded too */
    assert_int_equal(event_validate(ce, NULL, "", &pf), ATTUNE_ERR_LIMIT);
    assert_string_equal(pf.pointer, "/subject");
    cJSON_DeleteItemFromObjectCaseSensitive(ce, "subject");
    free(value);

    cJSON_AddItemToObject(ce, "comexamplenested", cJSON_CreateObject());
    assert_int_equal(event_validate(ce, NULL, "", &pf), ATTUNE_ERR_INVALID);
    assert_string_equal(pf.pointer, "/comexamplenested");
    cJSON_DeleteItemFromObjectCaseSensitive(ce, "comexamplenested");

    for (int i = 0; i < EVENT_MAX_ATTRIBUTES; i++) {
        char name[16];
        snprintf(name, sizeof name, "ext%d", i);
        cJSON_AddBoolToObject(ce, name, 1);
    }
    assert_int_equal(event_validate(ce, NULL, "", &pf), ATTUNE_ERR_LIMIT);
    cJSON_Delete(ce);
}

/* A record over message.max.bytes is refused at once with its own code, so
 * ingest can answer 413 instead of 503; no broker is needed for that. */
static void test_kafka_produce_too_large(void **state)
{
    (void)state;
    clear_env();
    setenv("ATTUNE_KAFKA_BOOTSTRAP", "127.0.0.1:1", 1);
    setenv("ATTUNE_KAFKA_MESSAGE_MAX_BYTES", "2000", 1);
    setenv("ATTUNE_PRODUCE_TIMEOUT_MS", "100", 1);
    config cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, "ingest", err, sizeof err), ATTUNE_OK);
    kafka_producer *p = NULL;
    assert_int_equal(kafka_producer_new(&cfg, &p, err, sizeof err), ATTUNE_OK);
    static char value[4000];
    memset(value, 'x', sizeof value);
    kafka_wait w;
    kafka_wait_init(&w);
    kafka_delivery d = {.delivered = 1};
    assert_int_equal(kafka_produce(p, "t", "k", 1, value, sizeof value, NULL, 0, &w, &d),
                     ATTUNE_ERR_TOO_LARGE);
    assert_int_equal(kafka_wait_all(&w, err, sizeof err), ATTUNE_OK); /* nothing was queued */
    assert_int_equal(d.delivered, 0);
    /* a slot without a group to wait on could never be read safely */
    assert_int_equal(kafka_produce(p, "t", "k", 1, "v", 1, NULL, 0, NULL, &d), ATTUNE_ERR_INVALID);
    kafka_wait_fini(&w);
    kafka_producer_free(p);
    assert_string_equal(attune_err_str(ATTUNE_ERR_TOO_LARGE), "record too large for Kafka");
    unsetenv("ATTUNE_KAFKA_MESSAGE_MAX_BYTES");
    unsetenv("ATTUNE_PRODUCE_TIMEOUT_MS");
    config_fini(&cfg);
    clear_env();
}

/* A key that librdkafka's default partitioner (consistent_random) sends to
 * partition want of two. */
static void key_for_partition(int32_t want, char *key, size_t size)
{
    for (int i = 0;; i++) {
        snprintf(key, size, "key-%d", i);
        if (rd_kafka_msg_partitioner_consistent_random(NULL, key, strlen(key), 2, NULL, NULL) ==
            want)
            return;
    }
}

/* When the broker refuses one record of a group (as a topic whose
 * max.message.bytes is below the producer's does) and stores the others,
 * the group fails, and each record's slot says whether it was stored. The
 * mock cluster's two brokers lead a partition each; the second refuses its
 * first produce request. */
static void test_kafka_delivery_per_record(void **state)
{
    (void)state;
    char err[256];
    /* (the handle only hosts the cluster: quiet about its missing bootstrap) */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err), RD_KAFKA_CONF_OK);
    rd_kafka_t *mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(mock_rk);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mock_rk, 2);
    assert_non_null(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "t", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(rd_kafka_mock_partition_set_leader(mc, "t", 0, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(rd_kafka_mock_partition_set_leader(mc, "t", 1, 2), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(
                         mc, 2, 0 /* Produce */, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, 0),
                     RD_KAFKA_RESP_ERR_NO_ERROR);

    clear_env();
    setenv("ATTUNE_KAFKA_BOOTSTRAP", rd_kafka_mock_cluster_bootstraps(mc), 1);
    config cfg;
    assert_int_equal(config_load(&cfg, "ingest", err, sizeof err), ATTUNE_OK);
    kafka_producer *p = NULL;
    assert_int_equal(kafka_producer_new(&cfg, &p, err, sizeof err), ATTUNE_OK);
    char stored_key[16], refused_key[16];
    key_for_partition(0, stored_key, sizeof stored_key);
    key_for_partition(1, refused_key, sizeof refused_key);
    kafka_wait w;
    kafka_wait_init(&w);
    kafka_delivery stored, refused;
    assert_int_equal(
        kafka_produce(p, "t", stored_key, strlen(stored_key), "v1", 2, NULL, 0, &w, &stored),
        ATTUNE_OK);
    assert_int_equal(
        kafka_produce(p, "t", refused_key, strlen(refused_key), "v2", 2, NULL, 0, &w, &refused),
        ATTUNE_OK);
    /* a record without a slot of its own counts in the same group */
    assert_int_equal(
        kafka_produce(p, "t", stored_key, strlen(stored_key), "v3", 2, NULL, 0, &w, NULL),
        ATTUNE_OK);
    assert_int_equal(kafka_wait_all(&w, err, sizeof err), ATTUNE_ERR_TOO_LARGE);
    assert_non_null(strstr(err, "1 record(s) not delivered"));
    assert_int_equal(stored.delivered, 1);
    assert_int_equal(refused.delivered, 0);
    kafka_wait_fini(&w);

    kafka_producer_free(p);
    config_fini(&cfg);
    clear_env();
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mock_rk);
}

static void test_traceparent(void **state)
{
    (void)state;
    char a[IDS_TRACEPARENT_LEN], b[IDS_TRACEPARENT_LEN], u[IDS_UUID_LEN];
    ids_traceparent_new(a);
    assert_true(ids_traceparent_valid(a));
    ids_traceparent_child(a, b);
    assert_true(ids_traceparent_valid(b));
    assert_memory_equal(a, b, 35); /* same trace id */
    assert_memory_not_equal(a + 36, b + 36, 16);
    assert_false(ids_traceparent_valid("00-00000000000000000000000000000000-0000000000000001-01"));
    ids_uuid4(u);
    assert_int_equal(strlen(u), 36);
    assert_int_equal(u[14], '4');
}

static void test_problem_document(void **state)
{
    (void)state;
    problem_field pf;
    problem_field_set(&pf, "/3", "/data/customer_id", "is %s", "required");
    char *text = problem_json(400, "invalid-event", "The event is not valid", NULL, &pf);
    cJSON *doc = parse(text);
    assert_string_equal(json_str(doc, "type"), "urn:attune:problem:invalid-event");
    assert_int_equal(cJSON_GetObjectItem(doc, "status")->valueint, 400);
    assert_string_equal(json_str(doc, "detail"), "[3].data.customer_id: is required");
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "errors"), 0);
    assert_string_equal(json_str(e, "pointer"), "/3/data/customer_id");
    assert_string_equal(json_str(e, "field"), "[3].data.customer_id");
    cJSON_Delete(doc);
    free(text);
}

/* A member name in a JSON pointer is cut on a character boundary and
 * escaped as RFC 6901 says, so the problem document stays valid UTF-8 and
 * the pointer points where it says. */
static void test_problem_pointer_utf8_and_escapes(void **state)
{
    (void)state;
    problem_field pf;
    char name[80], pointer[100];
    memset(name, 'a', 63);
    memcpy(name + 63, "\xc3\xa9", 3); /* 63 x "a" then "é": 65 bytes */

    /* an attribute name over 64 bytes */
    cJSON *d = parse(GOOD_DATA);
    cJSON *attrs = cJSON_GetObjectItemCaseSensitive(d, "attributes");
    cJSON_AddNumberToObject(attrs, name, 1);
    assert_int_equal(interaction_validate(d, 100, "/data", &pf), ATTUNE_ERR_INVALID);
    snprintf(pointer, sizeof pointer, "/data/attributes/%.63s", name);
    assert_string_equal(pf.pointer, pointer);
    assert_int_equal(json_utf8_valid(pf.pointer, strlen(pf.pointer)), 0);
    cJSON_Delete(d);

    /* an unknown interaction field */
    d = parse(GOOD_DATA);
    cJSON_AddNumberToObject(d, name, 1);
    assert_int_equal(interaction_validate(d, 100, "", &pf), ATTUNE_ERR_INVALID);
    assert_string_equal(pf.pointer, pointer + sizeof "/data/attributes" - 1);
    cJSON_Delete(d);

    /* an unknown outcome field, and the document made of it */
    cJSON *o = parse("{\"decision_id\":\"d1\",\"interaction_id\":\"i1\",\"customer_id\":\"c1\","
                     "\"resolved\":true}");
    cJSON_AddNumberToObject(o, name, 1);
    assert_int_equal(outcome_validate(o, "/data", &pf), ATTUNE_ERR_INVALID);
    snprintf(pointer, sizeof pointer, "/data/%.63s", name);
    assert_string_equal(pf.pointer, pointer);
    char *text = problem_json(400, "invalid-outcome", "The outcome is not valid", NULL, &pf);
    assert_non_null(text);
    assert_int_equal(json_utf8_valid(text, strlen(text)), 0);
    free(text);
    cJSON_Delete(o);

    /* "~" and "/" in names */
    d = parse(GOOD_DATA);
    cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(d, "attributes"), "a/b~c",
                          cJSON_CreateObject());
    assert_int_equal(interaction_validate(d, 100, "/data", &pf), ATTUNE_ERR_INVALID);
    assert_string_equal(pf.pointer, "/data/attributes/a~1b~0c");
    text = problem_json(400, "invalid-event", "The event is not valid", NULL, &pf);
    cJSON *doc = parse(text);
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "errors"), 0);
    assert_string_equal(json_str(e, "pointer"), "/data/attributes/a~1b~0c");
    assert_string_equal(json_str(e, "field"), "data.attributes.a/b~c");
    cJSON_Delete(doc);
    free(text);
    cJSON_Delete(d);

    /* the helpers at their edges */
    assert_int_equal(json_utf8_cut("h\xc3\xa9", 3, 2), 1);
    assert_int_equal(json_utf8_cut("h\xc3\xa9", 3, 3), 3);
    assert_int_equal(json_utf8_cut("\xf0\x9f\x98\x80!", 5, 3), 0);
    assert_int_equal(json_utf8_cut("abc", 3, 10), 3);
    char out[8] = "/a";
    assert_int_equal(json_pointer_append(out, sizeof out, "x~/y", 64), 6);
    assert_string_equal(out, "/a/x~0"); /* no half escape */
    char small[4] = "";
    assert_int_equal(json_pointer_append(small, sizeof small, "a\xc3\xa9", 64), 2);
    assert_string_equal(small, "/a"); /* no half character */
    small[0] = '\0';
    assert_int_equal(json_pointer_append(small, sizeof small, "abc", 1), 2);
    assert_string_equal(small, "/a");
    char long_detail[sizeof pf.detail + 8];
    memset(long_detail, 'a', sizeof pf.detail - 2);
    strcpy(long_detail + sizeof pf.detail - 2, "\xc3\xa9");
    problem_field_set(&pf, "/data", "/x", "%s", long_detail);
    assert_int_equal(strlen(pf.detail), sizeof pf.detail - 2);
}

static void test_metrics_text(void **state)
{
    (void)state;
    metrics_reset();
    metric *a = metrics_counter("t_total", "a counter", "result=\"ok\"");
    metric *b = metrics_counter("t_total", "a counter", "result=\"bad\"");
    assert_ptr_equal(a, metrics_counter("t_total", "a counter", "result=\"ok\""));
    metric_add(a, 3);
    metric_inc(b);
    metric_set(metrics_gauge("t_gauge", "a gauge", NULL), 2.5);
    metric *h = metrics_histogram("t_seconds", "a histogram", "stage=\"x\"");
    metric_observe(h, 0.003);
    metric_observe(h, 20);
    metric_inc(NULL); /* a failed registration must not crash */
    buf out;
    buf_init(&out, 1 << 20);
    assert_int_equal(metrics_render(&out), ATTUNE_OK);
    const char *t = out.data;
    assert_non_null(strstr(t, "# HELP t_total a counter\n# TYPE t_total counter\n"
                              "t_total{result=\"ok\"} 3\nt_total{result=\"bad\"} 1\n"));
    assert_non_null(strstr(t, "# TYPE t_gauge gauge\nt_gauge 2.5\n"));
    assert_non_null(strstr(t, "t_seconds_bucket{stage=\"x\",le=\"0.0025\"} 0\n"));
    assert_non_null(strstr(t, "t_seconds_bucket{stage=\"x\",le=\"0.005\"} 1\n"));
    assert_non_null(strstr(t, "t_seconds_bucket{stage=\"x\",le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(t, "t_seconds_count{stage=\"x\"} 2\n"));
    assert_non_null(strstr(t, "t_seconds_sum{stage=\"x\"} 20.003"));
    /* One HELP per family. */
    assert_null(strstr(strstr(t, "# HELP t_total") + 1, "# HELP t_total"));
    buf_fini(&out);
    metrics_reset();
}

static void test_dedup_window(void **state)
{
    (void)state;
    dedup *d = dedup_new(3, 10);
    assert_non_null(d);
    assert_int_equal(dedup_seen(d, "a", 1000), 0);
    assert_int_equal(dedup_add(d, "a", 1000), 0);
    assert_int_equal(dedup_seen(d, "a", 5000), 1);
    assert_int_equal(dedup_seen(d, "a", 11001), 0); /* window passed */
    dedup_add(d, "b", 20000);
    dedup_add(d, "c", 20000);
    dedup_add(d, "d", 20000);
    dedup_add(d, "e", 20000); /* pushes out b */
    assert_int_equal(dedup_size(d), 3);
    assert_int_equal(dedup_seen(d, "b", 20000), 0);
    assert_int_equal(dedup_seen(d, "e", 20000), 1);
    dedup_free(d);
    dedup_free(NULL);
}

static void test_rfc3339(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(ts_parse_rfc3339("1970-01-01T00:00:01Z", &ms), 0);
    assert_int_equal(ms, 1000);
    assert_int_equal(ts_parse_rfc3339("1970-01-01T01:00:00.250+01:00", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(ts_parse_rfc3339("2024-02-29T00:00:00Z", &ms), 0);
    assert_int_equal(ts_parse_rfc3339("2023-02-29T00:00:00Z", &ms), -1);
    assert_int_equal(ts_parse_rfc3339("2026-11-22 10:00:00Z", &ms), -1);
    assert_int_equal(ts_parse_rfc3339("2026-11-22T10:00:00", &ms), -1);
    char out[40];
    ts_format_rfc3339(1000 * 86400LL + 5, out, sizeof out);
    assert_string_equal(out, "1970-01-02T00:00:00.005Z");
}

/* The in-place writer prints strings and integral ids as cJSON does, and
 * leaves the rest to cJSON. */
static void test_json_write_scalar(void **state)
{
    (void)state;
    const char *json = "[\"a\\\"b\\\\c\\n\\t\\u0001\\u00e9\",0,-7,2147483647,-0,1.5,2147483648,"
                       "\"\",null]";
    cJSON *arr = cJSON_Parse(json);
    assert_non_null(arr);
    char out[64];
    int written = 0;
    for (cJSON *it = arr->child; it; it = it->next) {
        size_t n = json_write_scalar(out, sizeof out, it);
        if (n == 0)
            continue;
        written++;
        char *ref = cJSON_PrintUnformatted(it);
        assert_non_null(ref);
        assert_int_equal(n, strlen(ref));
        assert_memory_equal(out, ref, n);
        free(ref);
    }
    assert_int_equal(written, 5); /* two strings, 0, -7, 2147483647 */
    cJSON *first = arr->child;
    assert_int_equal(json_write_scalar(out, 8, first), 0); /* does not fit */
    cJSON_Delete(arr);
}

/* Numbers with the fewest digits that read back as the same double. */
static void test_json_write_number(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {9007199254740991.0, "9007199254740991"},
        {6338035485622269.0, "6338035485622269"},
        {1.5, "1.5"},
        {0.1, "0.1"},
        {2147483648.0, "2147483648"},
        {1e20, "1e+20"},
        {-2.5e-7, "-2.5e-07"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = json_write_number(out, sizeof out, cases[i].v);
        assert_int_equal(n, strlen(cases[i].want));
        assert_memory_equal(out, cases[i].want, n);
        out[n] = '\0';
        assert_true(strtod(out, NULL) == cases[i].v);
    }
    assert_int_equal(json_write_number(out, sizeof out, INFINITY), 0);
    assert_int_equal(json_write_number(out, sizeof out, NAN), 0);
    assert_int_equal(json_write_number(out, 3, 1.5e300), 0); /* does not fit */
}

/* A control byte outside a string is malformed JSON (cJSON skips it as
 * white space); JSON's own white space is not. */
static void test_json_control_outside_string(void **state)
{
    (void)state;
    cJSON *root = NULL;
    char err[128];
    assert_int_equal(json_parse("\x01{\"a\":1}", 7, 16, &root, err, sizeof err), ATTUNE_ERR_PARSE);
    assert_null(root);
    assert_non_null(strstr(err, "control character outside a JSON string at byte 0"));
    assert_int_equal(json_parse("{\"a\":1}\x0c", 8, 16, &root, err, sizeof err), ATTUNE_ERR_PARSE);
    assert_int_equal(json_parse(" \t\r\n{\"a\":1} ", 12, 16, &root, err, sizeof err), ATTUNE_OK);
    cJSON_Delete(root);
}

/* numparse_float must give strtof's value, bit for bit, and its end. */
static void same_as_strtof(const char *s)
{
    char *e1, *e2;
    float a = numparse_float(s, &e1);
    float b = strtof(s, &e2);
    uint32_t ba, bb;
    memcpy(&ba, &a, sizeof ba);
    memcpy(&bb, &b, sizeof bb);
    if (ba != bb || e1 != e2)
        fail_msg("numparse_float(\"%s\") = %a (end +%td), strtof %a (end +%td)", s, (double)a,
                 e1 - s, (double)b, e2 - s);
}

static void test_numparse_float(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "0",      "-0",      "+3.25e-3",  "1e",         "1e+",
        ".5",     "5.",      ".",         "-",          "",
        "inf",    "-nan",    "0x1p3",     "1e10",       "1e11",
        "1e-10",  "1e-11",   "1234567",   "12345678",   "0.000000001234",
        "1.5abc", "  -2.75", "007.50",    "1000000000", "9999999e3",
        "3.4e38", "1e-45",   "0.1",       "-0.8731",    "3.817",
        "2.067",  "-1.44",   "1.2345678", "1E5",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        same_as_strtof(cases[i]);
    /* numbers as the model files print them, and longer ones */
    static const char *const fmts[] = {"%.4g", "%.7g", "%.3e", "%.9g", "%.2f", "%g"};
    uint64_t x = 88172645463325252ULL;
    char num[64];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double mag = (double)(x >> 11) / (double)(1ULL << 53);
        int scale = (int)(x % 17) - 8;
        double v = (x & 1 ? -mag : mag) * __builtin_powi(10.0, scale);
        snprintf(num, sizeof num, fmts[(x >> 5) % 6], v);
        same_as_strtof(num);
    }
}

/* A hung Redis (stopped, not gone): the kernel takes the connection and no
 * command is answered. Each attempt costs its caller the timeout, so the
 * client waits longer and longer before the next one instead of trying every
 * second; the callers in between are told at once. */
static void test_redis_hung_server_backs_off(void **state)
{
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(ls >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 16), 0); /* never accepted, never answered */
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    char url[64], err[256];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", ntohs(a.sin_port));
    redis_client *c = NULL;
    assert_int_equal(redis_client_new(url, 50, &c, err, sizeof err), ATTUNE_OK);
    const char *ping[] = {"PING"};
    int timed_out = 0, told_at_once = 0;
    double t0 = ts_mono(), slow = 0;
    while (ts_mono() - t0 < 6.0) {
        double t = ts_mono();
        if (redis_client_ready(c, err, sizeof err) == ATTUNE_OK) {
            redisReply *r = NULL;
            assert_int_not_equal(redis_command(c, &r, 1, ping, NULL), ATTUNE_OK);
            timed_out++;
        } else {
            told_at_once++;
        }
        slow += ts_mono() - t;
        usleep(20 * 1000);
    }
    /* tried at 0 and again at once (it had never failed), then after 1 and
     * 2 s: four timeouts in 6 s, not one a second and more, and everything
     * else answered without waiting */
    assert_int_equal(timed_out, 4);
    assert_true(told_at_once > 100);
    assert_true(slow < 4 * 0.05 + 0.5);
    redis_client_free(c);
    close(ls);
}

static void test_redis_url(void **state)
{
    (void)state;
    redis_url u;
    char err[128];
    assert_int_equal(redis_url_parse("redis://127.0.0.1:6380/2", &u, err, sizeof err), ATTUNE_OK);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 2);
    assert_int_equal(redis_url_parse("redis://:s3cret@cache", &u, err, sizeof err), ATTUNE_OK);
    assert_string_equal(u.password, "s3cret");
    assert_int_equal(u.port, 6379);
    assert_int_equal(redis_url_parse("redis://app:pw@h:1/0", &u, err, sizeof err), ATTUNE_OK);
    assert_string_equal(u.user, "app");
    assert_int_equal(redis_url_parse("http://h", &u, err, sizeof err), ATTUNE_ERR_CONFIG);
    assert_int_equal(redis_url_parse("redis://h:99999", &u, err, sizeof err), ATTUNE_ERR_CONFIG);
    assert_int_equal(redis_url_parse("redis://h/x", &u, err, sizeof err), ATTUNE_ERR_CONFIG);
}

/* A Redis string reply over text (not copied: the test's own). */
static redisReply str_reply(const char *text, size_t len)
{
    redisReply r = {.type = REDIS_REPLY_STRING, .str = (char *)text, .len = len};
    return r;
}

/* What enrich and decide copy of a customer's Redis keys into a context:
 * typed profile fields, strings kept within their limits, recent records
 * that parse, newest first, until the list's budget is spent. */
static void test_customer_read(void **state)
{
    (void)state;
    static char big[CUSTOMER_CONTEXT_VALUE_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    redisReply f[10] = {str_reply("value", 5),       str_reply("42.5", 4),
                        str_reply("vulnerable", 10), str_reply("YES", 3),
                        str_reply("tier", 4),        str_reply("gold", 4),
                        str_reply("note", 4),        str_reply(big, strlen(big)),
                        str_reply("bad", 3),         str_reply("\xff\xfe", 2)};
    redisReply *fp[10];
    for (size_t i = 0; i < 10; i++)
        fp[i] = &f[i];
    redisReply hash = {.type = REDIS_REPLY_ARRAY, .elements = 10, .element = fp};
    cJSON *profile = cJSON_CreateObject();
    assert_int_equal(customer_read_profile(profile, &hash), 2);
    assert_true(cJSON_GetObjectItem(profile, "value")->valuedouble == 42.5);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(profile, "vulnerable")));
    assert_string_equal(cJSON_GetObjectItem(profile, "tier")->valuestring, "gold");
    assert_null(cJSON_GetObjectItem(profile, "note"));
    assert_null(cJSON_GetObjectItem(profile, "bad"));
    cJSON_Delete(profile);
    cJSON *prefs = cJSON_CreateObject();
    assert_int_equal(customer_read_hash(prefs, &hash), 2);
    assert_string_equal(cJSON_GetObjectItem(prefs, "value")->valuestring, "42.5");
    cJSON_Delete(prefs);

    /* records: two good ones, one not JSON, then one over the budget */
    static char huge[CUSTOMER_CONTEXT_RECENT_MAX];
    snprintf(huge, sizeof huge, "{\"interaction_id\":\"%0*d\"}", (int)sizeof huge - 24, 0);
    redisReply r[5] = {str_reply("{\"interaction_id\":\"a\"}", 22), str_reply("not json", 8),
                       str_reply("{\"interaction_id\":\"b\"}", 22), str_reply(huge, strlen(huge)),
                       str_reply("{\"interaction_id\":\"c\"}", 22)};
    redisReply *rp[5];
    for (size_t i = 0; i < 5; i++)
        rp[i] = &r[i];
    redisReply list = {.type = REDIS_REPLY_ARRAY, .elements = 5, .element = rp};
    cJSON *recent = cJSON_CreateArray();
    customer_read_recent(recent, &list);
    assert_int_equal(cJSON_GetArraySize(recent), 2);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(recent, 1), "interaction_id")->valuestring, "b");
    cJSON_Delete(recent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_errors_name_the_variable),
        cmocka_unit_test(test_config_kafka_passthrough),
        cmocka_unit_test(test_config_kafka_passthrough_roles),
        cmocka_unit_test(test_json_limits),
        cmocka_unit_test(test_json_escaped_nul),
        cmocka_unit_test(test_json_duplicate_members),
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_interaction_valid_and_invalid),
        cmocka_unit_test(test_event_validate_and_derive),
        cmocka_unit_test(test_event_attribute_limits),
        cmocka_unit_test(test_kafka_produce_too_large),
        cmocka_unit_test(test_kafka_delivery_per_record),
        cmocka_unit_test(test_traceparent),
        cmocka_unit_test(test_problem_document),
        cmocka_unit_test(test_problem_pointer_utf8_and_escapes),
        cmocka_unit_test(test_metrics_text),
        cmocka_unit_test(test_dedup_window),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_redis_url),
        cmocka_unit_test(test_redis_hung_server_backs_off),
        cmocka_unit_test(test_numparse_float),
        cmocka_unit_test(test_json_write_scalar),
        cmocka_unit_test(test_json_write_number),
        cmocka_unit_test(test_json_control_outside_string),
        cmocka_unit_test(test_customer_read),
    };
    return cmocka_run_group_tests_name("platform", tests, NULL, NULL);
}
