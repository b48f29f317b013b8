/* config: every setting of every attune binary, read once from ATTUNE_*
 * environment variables through one table (config.c), validated at start-up.
 * A config owns its strings; config_fini frees them. Services treat the
 * loaded struct as read-only. */
#ifndef ATTUNE_CONFIG_H
#define ATTUNE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

typedef struct {
    const char *service; /* borrowed: "ingest", "enrich", ... */

    char *kafka_bootstrap;
    char *redis_url;
    char *http_addr;
    char *log_level;
    char *api_keys; /* comma-separated bearer tokens (ingest) */
    char *group_id; /* default attune-<service> */

    char *topic_interactions;
    char *topic_enriched;
    char *topic_classified;
    char *topic_routing;
    char *topic_crm;
    char *topic_outcomes;
    char *topic_deadletter;
    long topic_partitions;

    long max_body_bytes;
    long max_batch_events;
    long max_text_bytes;
    long max_json_depth;
    long idempotency_window_s;
    long idempotency_max_ids;
    long produce_timeout_ms;
    long batch_size;
    long batch_wait_ms;
    long redis_timeout_ms;
    long recent_max;
    long http_max_connections;
    long http_max_conn_per_ip; /* 0: no per-address limit */
    long http_timeout_s;
    long exactly_once;      /* Kafka-to-Kafka stages use transactions */
    char *transactional_id; /* default <group>-<hostname>-<pid> */
    char *policy_file;      /* empty: the shipped default policy */

    /* attune-deliver (docs/deliver.md) */
    char *deliver_topic; /* empty: the CRM decisions topic */
    char *deliver_url;
    char *deliver_token;    /* secret */
    char *deliver_hmac_key; /* secret */
    long deliver_timeout_ms;
    long deliver_connect_timeout_ms;
    long deliver_max_attempts;
    long deliver_backoff_ms;
    long deliver_backoff_max_ms;
    long deliver_retry_after_max_ms;
    long deliver_breaker_failures;
    long deliver_breaker_cooldown_ms;
    long deliver_breaker_cooldown_max_ms;
    long deliver_concurrency;

    /* learning (attune-learn, attune-decide; docs/policy.md) */
    long learn_refresh_ms;
    long learn_decision_ttl_s;
    long outcomes_max;

    /* librdkafka pass-through: ATTUNE_KAFKA_SASL_MECHANISM=PLAIN becomes
     * sasl.mechanism=PLAIN. Names and values are owned by the config. */
    size_t kafka_prop_count;
    char **kafka_prop_names;
    char **kafka_prop_values;
} config;

/* Reads the environment into cfg. On error cfg holds nothing to free and
 * errstr names the variable and what is wrong with it. */
attune_err config_load(config *cfg, const char *service, char *errstr,
                       size_t errstr_size) ATTUNE_MUST_CHECK;
void config_fini(config *cfg);

/* Prints every variable with its default and meaning (for --help). */
void config_print_help(FILE *out, const char *service);

/* The librdkafka name of pass-through property i for a client of this role
 * ("consumer" or "producer"; NULL for an admin client): a property given
 * as ATTUNE_KAFKA_CONSUMER_<P> or ATTUNE_KAFKA_PRODUCER_<P> reaches that
 * side only, so a consumer-only property (max.poll.interval.ms) does not
 * make every producer warn that it ignores it. NULL when property i is
 * not for this role. The properties for both sides come first, so that
 * one for a side, applied after, wins. */
const char *config_kafka_prop(const config *cfg, size_t i, const char *role);

/* True when the variable name is a secret whose value must never be logged. */
int config_is_secret(const char *kafka_prop_name);

#endif
