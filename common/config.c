#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

extern char **environ;

typedef enum { CFG_STR, CFG_INT } cfg_type;

/* The one table of settings. A NULL default for a string means "computed"
 * (see config_default). */
static const struct cfg_entry {
    const char *name;
    cfg_type type;
    size_t offset;
    const char *def;
    long min, max;
    const char *help;
} cfg_table[] = {
    {"ATTUNE_KAFKA_BOOTSTRAP", CFG_STR, offsetof(config, kafka_bootstrap), "127.0.0.1:9092", 0, 0,
     "Kafka bootstrap servers (host:port,...)"},
    {"ATTUNE_REDIS_URL", CFG_STR, offsetof(config, redis_url), "redis://127.0.0.1:6379/0", 0, 0,
     "Redis URL redis://[[user]:password@]host:port[/db]"},
    {"ATTUNE_HTTP_ADDR", CFG_STR, offsetof(config, http_addr), NULL, 0, 0,
     "host:port of the HTTP server (health, readiness, metrics; the API for ingest)"},
    {"ATTUNE_LOG_LEVEL", CFG_STR, offsetof(config, log_level), "info", 0, 0,
     "debug, info, warn or error"},
    {"ATTUNE_API_KEYS", CFG_STR, offsetof(config, api_keys), "", 0, 0,
     "comma-separated API keys accepted as 'Authorization: Bearer <key>' (ingest)"},
    {"ATTUNE_GROUP_ID", CFG_STR, offsetof(config, group_id), NULL, 0, 0, "Kafka consumer group"},
    {"ATTUNE_TOPIC_INTERACTIONS", CFG_STR, offsetof(config, topic_interactions),
     "attune.interactions.v1", 0, 0, "interaction events topic"},
    {"ATTUNE_TOPIC_ENRICHED", CFG_STR, offsetof(config, topic_enriched),
     "attune.interactions.enriched.v1", 0, 0, "enriched events topic"},
    {"ATTUNE_TOPIC_CLASSIFIED", CFG_STR, offsetof(config, topic_classified),
     "attune.interactions.classified.v1", 0, 0, "classified events topic"},
    {"ATTUNE_TOPIC_ROUTING", CFG_STR, offsetof(config, topic_routing),
     "attune.decisions.routing.v1", 0, 0, "routing decisions topic"},
    {"ATTUNE_TOPIC_CRM", CFG_STR, offsetof(config, topic_crm), "attune.decisions.crm.v1", 0, 0,
     "CRM decisions topic"},
    {"ATTUNE_TOPIC_OUTCOMES", CFG_STR, offsetof(config, topic_outcomes), "attune.outcomes.v1", 0, 0,
     "outcomes topic"},
    {"ATTUNE_TOPIC_DEADLETTER", CFG_STR, offsetof(config, topic_deadletter), "attune.deadletter.v1",
     0, 0, "dead-letter topic"},
    {"ATTUNE_TOPIC_PARTITIONS", CFG_INT, offsetof(config, topic_partitions), "6", 1, 1000,
     "partitions per topic created by attune-admin create-topics"},
    {"ATTUNE_MAX_BODY_BYTES", CFG_INT, offsetof(config, max_body_bytes), "1048576", 1024,
     64L * 1024 * 1024, "largest accepted HTTP request body"},
    {"ATTUNE_MAX_BATCH_EVENTS", CFG_INT, offsetof(config, max_batch_events), "500", 1, 10000,
     "most events in one batch request"},
    {"ATTUNE_MAX_TEXT_BYTES", CFG_INT, offsetof(config, max_text_bytes), "8192", 16, 1048576,
     "longest interaction text (bytes of UTF-8)"},
    {"ATTUNE_MAX_JSON_DEPTH", CFG_INT, offsetof(config, max_json_depth), "16", 4, 256,
     "deepest JSON nesting accepted"},
    {"ATTUNE_IDEMPOTENCY_WINDOW_S", CFG_INT, offsetof(config, idempotency_window_s), "600", 0,
     86400 * 7, "an event id seen within this many seconds is accepted but not produced again"},
    {"ATTUNE_IDEMPOTENCY_MAX_IDS", CFG_INT, offsetof(config, idempotency_max_ids), "200000", 16,
     100000000, "most event ids remembered for idempotency (oldest forgotten first)"},
    {"ATTUNE_PRODUCE_TIMEOUT_MS", CFG_INT, offsetof(config, produce_timeout_ms), "10000", 100,
     600000, "how long a produced record may wait for the broker's acknowledgement"},
    {"ATTUNE_BATCH_SIZE", CFG_INT, offsetof(config, batch_size), "2000", 1, 100000,
     "most records a consuming service handles per batch"},
    {"ATTUNE_BATCH_WAIT_MS", CFG_INT, offsetof(config, batch_wait_ms), "5", 0, 10000,
     "longest wait to fill a batch"},
    {"ATTUNE_REDIS_TIMEOUT_MS", CFG_INT, offsetof(config, redis_timeout_ms), "500", 10, 60000,
     "Redis connect and command timeout"},
    {"ATTUNE_RECENT_MAX", CFG_INT, offsetof(config, recent_max), "10", 0, 1000,
     "recent interactions read into the context"},
    {"ATTUNE_HTTP_MAX_CONNECTIONS", CFG_INT, offsetof(config, http_max_connections), "256", 1,
     100000, "most concurrent HTTP connections"},
    {"ATTUNE_HTTP_MAX_CONN_PER_IP", CFG_INT, offsetof(config, http_max_conn_per_ip), "64", 0,
     100000,
     "most concurrent HTTP connections from one client address, more are refused at once (0: no "
     "limit; behind a proxy, at least its connection pool)"},
    {"ATTUNE_HTTP_TIMEOUT_S", CFG_INT, offsetof(config, http_timeout_s), "30", 1, 3600,
     "an HTTP connection silent this long is closed"},
    {"ATTUNE_EXACTLY_ONCE", CFG_INT, offsetof(config, exactly_once), "1", 0, 1,
     "1: Kafka-to-Kafka stages produce and commit offsets in one transaction; 0: at least once"},
    {"ATTUNE_POLICY_FILE", CFG_STR, offsetof(config, policy_file), "", 0, 0,
     "treatment policy of attune-decide and attune-learn, reloaded on change and on SIGHUP "
     "(default: the shipped deploy/policies/default.json)"},
    {"ATTUNE_TRANSACTIONAL_ID", CFG_STR, offsetof(config, transactional_id), NULL, 0, 0,
     "transactional.id of a stage's producer (default <group>-<hostname>-<pid>)"},
    {"ATTUNE_DELIVER_TOPIC", CFG_STR, offsetof(config, deliver_topic), "", 0, 0,
     "decision topic attune-deliver posts from (default: ATTUNE_TOPIC_CRM)"},
    {"ATTUNE_DELIVER_URL", CFG_STR, offsetof(config, deliver_url), "", 0, 0,
     "http(s) URL attune-deliver POSTs each decision to (required by attune-deliver)"},
    {"ATTUNE_DELIVER_TOKEN", CFG_STR, offsetof(config, deliver_token), "", 0, 0,
     "bearer token sent as 'Authorization: Bearer <token>' (secret; empty: none)"},
    {"ATTUNE_DELIVER_HMAC_KEY", CFG_STR, offsetof(config, deliver_hmac_key), "", 0, 0,
     "key of the X-Attune-Signature HMAC-SHA256 header (secret; empty: no signature)"},
    {"ATTUNE_DELIVER_TIMEOUT_MS", CFG_INT, offsetof(config, deliver_timeout_ms), "5000", 50, 600000,
     "whole-request timeout of one delivery attempt"},
    {"ATTUNE_DELIVER_CONNECT_TIMEOUT_MS", CFG_INT, offsetof(config, deliver_connect_timeout_ms),
     "2000", 50, 600000, "connect timeout of one delivery attempt"},
    {"ATTUNE_DELIVER_MAX_ATTEMPTS", CFG_INT, offsetof(config, deliver_max_attempts), "8", 1, 1000,
     "attempts per decision (with the breaker closed) before it is dead-lettered"},
    {"ATTUNE_DELIVER_BACKOFF_MS", CFG_INT, offsetof(config, deliver_backoff_ms), "200", 1, 600000,
     "first retry delay; doubles per attempt, with full jitter"},
    {"ATTUNE_DELIVER_BACKOFF_MAX_MS", CFG_INT, offsetof(config, deliver_backoff_max_ms), "30000", 1,
     3600000, "largest retry delay"},
    {"ATTUNE_DELIVER_RETRY_AFTER_MAX_MS", CFG_INT, offsetof(config, deliver_retry_after_max_ms),
     "300000", 1000, 86400000,
     "longest Retry-After (429/503) honoured; longer ones are cut to this"},
    {"ATTUNE_DELIVER_BREAKER_FAILURES", CFG_INT, offsetof(config, deliver_breaker_failures), "5", 1,
     1000, "consecutive failed requests that open the circuit breaker"},
    {"ATTUNE_DELIVER_BREAKER_COOLDOWN_MS", CFG_INT, offsetof(config, deliver_breaker_cooldown_ms),
     "2000", 10, 3600000, "time the breaker stays open before one probe request"},
    {"ATTUNE_DELIVER_BREAKER_COOLDOWN_MAX_MS", CFG_INT,
     offsetof(config, deliver_breaker_cooldown_max_ms), "60000", 10, 86400000,
     "the cooldown doubles after each failed probe, up to this"},
    {"ATTUNE_DELIVER_CONCURRENCY", CFG_INT, offsetof(config, deliver_concurrency), "8", 1, 256,
     "requests in flight at once (decisions with the same key are never in flight together)"},
    {"ATTUNE_LEARN_REFRESH_MS", CFG_INT, offsetof(config, learn_refresh_ms), "1000", 0, 3600000,
     "how often attune-decide re-reads the learned success counts from Redis"},
    {"ATTUNE_LEARN_DECISION_TTL_S", CFG_INT, offsetof(config, learn_decision_ttl_s), "2592000", 60,
     31536000, "how long a decision's variants are kept for its outcome to find them"},
    {"ATTUNE_OUTCOMES_MAX", CFG_INT, offsetof(config, outcomes_max), "50", 1, 10000,
     "outcomes kept per customer (the CSAT trend reads them)"},
};

#define CFG_COUNT (sizeof cfg_table / sizeof cfg_table[0])

/* Default HTTP ports, one per service, so a whole stack runs on one host. */
static const struct {
    const char *service;
    int port;
} default_ports[] = {
    {"ingest", 8080}, {"enrich", 8081},  {"classify", 8082},
    {"decide", 8083}, {"deliver", 8084}, {"learn", 8085},
};

static char *config_default(const struct cfg_entry *e, const char *service)
{
    char tmp[512];
    if (e->def)
        return strdup(e->def);
    if (e->offset == offsetof(config, transactional_id)) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        const char *group = getenv("ATTUNE_GROUP_ID");
        if (group && *group)
            snprintf(tmp, sizeof tmp, "%s-%s-%ld", group, host, (long)getpid());
        else
            snprintf(tmp, sizeof tmp, "attune-%s-%s-%ld", service, host, (long)getpid());
        return strdup(tmp);
    }
    if (e->offset == offsetof(config, http_addr)) {
        int port = 8090;
        for (size_t i = 0; i < sizeof default_ports / sizeof default_ports[0]; i++)
            if (strcmp(default_ports[i].service, service) == 0)
                port = default_ports[i].port;
        snprintf(tmp, sizeof tmp, "127.0.0.1:%d", port);
        return strdup(tmp);
    }
    if (e->offset == offsetof(config, group_id) && strcmp(service, "deliver") == 0) {
        /* (one group per topic: deliver's own settings pick it) */
        const char *topic = getenv("ATTUNE_DELIVER_TOPIC");
        snprintf(tmp, sizeof tmp, "attune-deliver-%s",
                 topic && *topic ? topic : "<ATTUNE_DELIVER_TOPIC>");
        return strdup(tmp);
    }
    snprintf(tmp, sizeof tmp, "attune-%s", service);
    return strdup(tmp);
}

static int is_own_name(const char *name, size_t len)
{
    for (size_t i = 0; i < CFG_COUNT; i++)
        if (strlen(cfg_table[i].name) == len && strncmp(cfg_table[i].name, name, len) == 0)
            return 1;
    return 0;
}

int config_is_secret(const char *prop)
{
    return strstr(prop, "password") || strstr(prop, "secret") || strstr(prop, "key") ||
           strstr(prop, "token");
}

/* The sides a pass-through property may be given for alone. */
static const char *const SIDES[] = {"consumer", "producer"};

/* The side s starts with, then sep ("CONSUMER_" in a variable, "consumer."
 * in a property name): its index in SIDES, -1 for none. */
static int side_of(const char *s, char sep)
{
    for (size_t k = 0; k < sizeof SIDES / sizeof SIDES[0]; k++) {
        const size_t n = strlen(SIDES[k]);
        if (strncasecmp(s, SIDES[k], n) == 0 && s[n] == sep)
            return (int)k;
    }
    return -1;
}

const char *config_kafka_prop(const config *cfg, size_t i, const char *role)
{
    const char *name = cfg->kafka_prop_names[i];
    const int k = side_of(name, '.');
    if (k < 0)
        return name;
    return role && strcmp(role, SIDES[k]) == 0 ? name + strlen(SIDES[k]) + 1 : NULL;
}

static attune_err load_passthrough(config *cfg, char *errstr, size_t errstr_size)
{
    static const char prefix[] = "ATTUNE_KAFKA_";
    size_t n = 0;
    for (char **e = environ; *e; e++)
        if (strncmp(*e, prefix, sizeof prefix - 1) == 0)
            n++;
    if (n == 0)
        return ATTUNE_OK;
    cfg->kafka_prop_names = calloc(n, sizeof(char *));
    cfg->kafka_prop_values = calloc(n, sizeof(char *));
    if (!cfg->kafka_prop_names || !cfg->kafka_prop_values)
        return ATTUNE_ERR_NOMEM;
    /* both sides' properties first (in the environment's order), then the
     * sides' own: applied in this order, a side's value wins */
    for (int side = 0; side < 2; side++) {
        for (char **e = environ; *e; e++) {
            const char *eq = strchr(*e, '=');
            if (strncmp(*e, prefix, sizeof prefix - 1) != 0 || !eq)
                continue;
            const int k = side_of(*e + sizeof prefix - 1, '_');
            if ((k >= 0) != side)
                continue;
            if (is_own_name(*e, (size_t)(eq - *e)))
                continue;
            size_t len = (size_t)(eq - *e) - (sizeof prefix - 1);
            /* (a name, and a side's a name of its own after the side; none
             * starts with "_", which would be a ".") */
            const char *own = *e + sizeof prefix - 1 + (k >= 0 ? strlen(SIDES[k]) + 1 : 0);
            if (len == 0 || own == eq || *own == '_')
                return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                                   "%.*s: no librdkafka property name", (int)(eq - *e), *e);
            char *name = malloc(len + 1);
            char *value = strdup(eq + 1);
            if (!name || !value) {
                free(name);
                free(value);
                return ATTUNE_ERR_NOMEM;
            }
            for (size_t i = 0; i < len; i++) {
                char c = (*e)[sizeof prefix - 1 + i];
                name[i] = c == '_' ? '.' : (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            }
            name[len] = '\0';
            cfg->kafka_prop_names[cfg->kafka_prop_count] = name;
            cfg->kafka_prop_values[cfg->kafka_prop_count] = value;
            cfg->kafka_prop_count++;
        }
    }
    return ATTUNE_OK;
}

attune_err config_load(config *cfg, const char *service, char *errstr, size_t errstr_size)
{
    attune_err err = ATTUNE_OK;
    memset(cfg, 0, sizeof *cfg);
    cfg->service = service;
    for (size_t i = 0; i < CFG_COUNT && !err; i++) {
        const struct cfg_entry *e = &cfg_table[i];
        const char *v = getenv(e->name);
        if (e->type == CFG_STR) {
            char *s = (v && *v) ? strdup(v) : config_default(e, service);
            if (!s) {
                err = ATTUNE_ERR_NOMEM;
                break;
            }
            *(char **)((char *)cfg + e->offset) = s;
            continue;
        }
        const char *text = (v && *v) ? v : e->def;
        char *end = NULL;
        errno = 0;
        long n = strtol(text, &end, 10);
        if (errno || end == text || *end != '\0') {
            err = attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size, "%s: '%s' is not an integer",
                              e->name, text);
        } else if (n < e->min || n > e->max) {
            err = attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                              "%s: %ld is out of range [%ld, %ld]", e->name, n, e->min, e->max);
        } else {
            *(long *)((char *)cfg + e->offset) = n;
        }
    }
    if (!err)
        err = load_passthrough(cfg, errstr, errstr_size);
    if (!err && cfg->kafka_bootstrap[0] == '\0')
        err = attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                          "ATTUNE_KAFKA_BOOTSTRAP: must not be empty");
    if (!err && !strchr(cfg->http_addr, ':'))
        err = attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                          "ATTUNE_HTTP_ADDR: '%s' is not host:port", cfg->http_addr);
    if (err == ATTUNE_ERR_NOMEM)
        attune_errf(err, errstr, errstr_size, "out of memory reading configuration");
    if (err)
        config_fini(cfg);
    return err;
}

void config_fini(config *cfg)
{
    for (size_t i = 0; i < CFG_COUNT; i++) {
        if (cfg_table[i].type != CFG_STR)
            continue;
        char **p = (char **)((char *)cfg + cfg_table[i].offset);
        free(*p);
        *p = NULL;
    }
    for (size_t i = 0; i < cfg->kafka_prop_count; i++) {
        free(cfg->kafka_prop_names[i]);
        free(cfg->kafka_prop_values[i]);
    }
    free(cfg->kafka_prop_names);
    free(cfg->kafka_prop_values);
    cfg->kafka_prop_names = cfg->kafka_prop_values = NULL;
    cfg->kafka_prop_count = 0;
}

void config_print_help(FILE *out, const char *service)
{
    fprintf(out, "Environment (read once at start-up):\n");
    for (size_t i = 0; i < CFG_COUNT; i++) {
        const struct cfg_entry *e = &cfg_table[i];
        char *def = config_default(e, service);
        /* a help that says its default itself ("(default: the shipped
         * policy)") is not given a second one */
        if (strstr(e->help, "(default"))
            fprintf(out, "  %-30s %s\n", e->name, e->help);
        else
            fprintf(out, "  %-30s %s (default: %s)\n", e->name, e->help,
                    def && *def ? def : "empty");
        free(def);
    }
    fprintf(out, "  %-30s any librdkafka property, e.g. ATTUNE_KAFKA_SASL_MECHANISM=PLAIN\n",
            "ATTUNE_KAFKA_<PROPERTY>");
    fprintf(out, "  %-30s the same, for the consumer only (max.poll.interval.ms...)\n",
            "ATTUNE_KAFKA_CONSUMER_<PROPERTY>");
    fprintf(out, "  %-30s the same, for the producer only\n", "ATTUNE_KAFKA_PRODUCER_<PROPERTY>");
}
