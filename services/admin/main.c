/* attune-admin: operator commands. create-topics makes every attune topic
 * with explicit partition counts; load-profiles writes customer profiles and
 * preferences into Redis from JSON lines; erase-customer deletes all of one
 * customer's data; learned prints what attune-learn has counted. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "customer.h"
#include "interaction.h"
#include "json.h"
#include "learn.h"
#include "log.h"
#include "service.h"

#define MAX_LINE (1024 * 1024)

static const char usage[] =
    "\nCommands:\n"
    "  create-topics                create every attune topic (idempotent); the dead-letter\n"
    "                               topic gets 3 partitions, the others ATTUNE_TOPIC_PARTITIONS\n"
    "  load-profiles FILE|-         load JSON lines {\"customer_id\": ..., \"profile\": {...},\n"
    "                               \"preferences\": {...}} into Redis (replaces each hash)\n"
    "  erase-customer ID            delete every Redis key of one customer\n"
    "  learned [RULE...]            what attune-learn has counted: one JSON line per rule,\n"
    "                               bucket and variant with successes, failures and the\n"
    "                               posterior mean success rate (all rules when none given)\n";

static int create_topics(const config *cfg)
{
    const char *names[] = {cfg->topic_interactions, cfg->topic_enriched, cfg->topic_classified,
                           cfg->topic_routing,      cfg->topic_crm,      cfg->topic_outcomes,
                           cfg->topic_deadletter};
    const size_t count = sizeof names / sizeof names[0];
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", cfg->kafka_bootstrap, errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "attune-admin: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    for (size_t i = 0; i < cfg->kafka_prop_count; i++) {
        const char *name = config_kafka_prop(cfg, i, NULL);
        if (name && rd_kafka_conf_set(conf, name, cfg->kafka_prop_values[i], errstr,
                                      sizeof errstr) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "attune-admin: kafka property %s: %s\n", name, errstr);
            rd_kafka_conf_destroy(conf);
            return 1;
        }
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "attune-admin: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    conf = NULL; /* now owned by rk */
    rd_kafka_NewTopic_t *topics[7];
    for (size_t i = 0; i < count; i++) {
        int partitions = names[i] == cfg->topic_deadletter ? 3 : (int)cfg->topic_partitions;
        topics[i] = rd_kafka_NewTopic_new(names[i], partitions, -1, errstr, sizeof errstr);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, errstr, sizeof errstr);
    rd_kafka_AdminOptions_set_request_timeout(opts, 30000, errstr, sizeof errstr);
    rd_kafka_CreateTopics(rk, topics, count, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    int code = 0;
    if (!ev || rd_kafka_event_error(ev)) {
        fprintf(stderr, "attune-admin: create topics: %s\n",
                ev ? rd_kafka_event_error_string(ev) : "timed out");
        code = 1;
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        for (size_t i = 0; i < n; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
            const char *name = rd_kafka_topic_result_name(res[i]);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                printf("created %s\n", name);
            } else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                printf("exists  %s\n", name);
            } else {
                fprintf(stderr, "attune-admin: %s: %s\n", name,
                        rd_kafka_topic_result_error_string(res[i]));
                code = 1;
            }
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy_array(topics, count);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return code;
}

static int load_profiles(const config *cfg, const char *path)
{
    char errstr[512];
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "attune-admin: cannot open %s\n", path);
        return 1;
    }
    redis_client *rc = NULL;
    if (redis_client_new(cfg->redis_url, (int)cfg->redis_timeout_ms, &rc, errstr, sizeof errstr) !=
        ATTUNE_OK) {
        fprintf(stderr, "attune-admin: %s\n", errstr);
        if (in != stdin)
            fclose(in);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, loaded = 0, bad = 0;
    int skipped = 0;
    while ((len = getline(&line, &cap, in)) > 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue;
        if (len > MAX_LINE) {
            fprintf(stderr, "line %ld: longer than %d bytes\n", lineno, MAX_LINE);
            bad++;
            continue;
        }
        cJSON *doc = NULL;
        if (json_parse(line, (size_t)len, 16, &doc, errstr, sizeof errstr) != ATTUNE_OK) {
            fprintf(stderr, "line %ld: %s\n", lineno, errstr);
            bad++;
            continue;
        }
        const char *id = json_str(doc, "customer_id");
        const cJSON *profile = cJSON_GetObjectItemCaseSensitive(doc, "profile");
        const cJSON *prefs = cJSON_GetObjectItemCaseSensitive(doc, "preferences");
        if (!id || !interaction_id_valid(id) || (profile && !cJSON_IsObject(profile)) ||
            (prefs && !cJSON_IsObject(prefs))) {
            fprintf(stderr,
                    "line %ld: needs a customer_id (1-128 printable ASCII, no spaces) and "
                    "objects for profile/preferences\n",
                    lineno);
            bad++;
        } else if (customer_store(rc, id, profile, prefs, &skipped, errstr, sizeof errstr) !=
                   ATTUNE_OK) {
            fprintf(stderr, "line %ld: %s\n", lineno, errstr);
            bad++;
        } else {
            if (skipped)
                fprintf(stderr, "line %ld: %d nested or null value(s) skipped\n", lineno, skipped);
            loaded++;
        }
        cJSON_Delete(doc);
    }
    free(line);
    if (in != stdin)
        fclose(in);
    redis_client_free(rc);
    printf("loaded %ld customer(s), %ld line(s) rejected\n", loaded, bad);
    return bad ? 1 : 0;
}

static int erase_customer(const config *cfg, const char *id)
{
    char errstr[512];
    redis_client *rc = NULL;
    long long deleted = 0;
    if (redis_client_new(cfg->redis_url, (int)cfg->redis_timeout_ms, &rc, errstr, sizeof errstr) !=
            ATTUNE_OK ||
        customer_erase(rc, id, &deleted, errstr, sizeof errstr) != ATTUNE_OK) {
        fprintf(stderr, "attune-admin: %s\n", errstr);
        redis_client_free(rc);
        return 1;
    }
    redis_client_free(rc);
    printf("erased %lld key(s) of customer %s\n", deleted, id);
    return 0;
}

/* The rules asked for and whether any count of each was printed: a rule
 * with none is named on stderr, so that a typo is not mistaken for a rule
 * that has learnt nothing yet. */
typedef struct {
    char **rules;
    size_t n;
    unsigned char *printed;
    size_t lines;
} learned_seen;

static void print_learned(void *arg, const char *rule, const char *bucket, const char *variant,
                          long s, long f)
{
    learned_seen *seen = arg;
    seen->lines++;
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->rules[i], rule) == 0)
            seen->printed[i] = 1;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rule", rule);
    cJSON_AddStringToObject(o, "bucket", bucket);
    cJSON_AddStringToObject(o, "variant", variant);
    cJSON_AddNumberToObject(o, "successes", (double)s);
    cJSON_AddNumberToObject(o, "failures", (double)f);
    /* The mean of Beta(1 + s, 1 + f): what Thompson sampling draws around. */
    cJSON_AddNumberToObject(o, "success_rate",
                            (double)(long)((double)(s + 1) / (double)(s + f + 2) * 1000) / 1000);
    char *text = json_print(o);
    if (text)
        puts(text);
    free(text);
    cJSON_Delete(o);
}

/* The rule ids with learned counts: SCAN over attune:learn:rule:*. */
static int learned_rules(redis_client *rc, char ***out, size_t *n, char *errstr, size_t size)
{
    static const char prefix[] = LEARN_KEY_PREFIX "rule:";
    char cursor[32] = "0";
    *out = NULL;
    *n = 0;
    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", LEARN_KEY_PREFIX "rule:*", "COUNT", "1000"};
        redisReply *r = NULL;
        if (redis_command(rc, &r, 6, argv, NULL) != ATTUNE_OK || r->type != REDIS_REPLY_ARRAY ||
            r->elements != 2 || r->element[1]->type != REDIS_REPLY_ARRAY) {
            snprintf(errstr, size, "SCAN failed");
            if (r)
                freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str ? r->element[0]->str : "0");
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *key = r->element[1]->element[i]->str;
            char **grown = realloc(*out, (*n + 1) * sizeof *grown);
            char *id = key ? strdup(key + sizeof prefix - 1) : NULL;
            if (!grown || !id) {
                free(id);
                if (grown)
                    *out = grown;
                freeReplyObject(r);
                snprintf(errstr, size, "out of memory");
                return -1;
            }
            *out = grown;
            (*out)[(*n)++] = id;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

static int learned(const config *cfg, char **rules, size_t nrules)
{
    /* The failures that set no message (learn_counts_each, a load out of
     * memory) are out of memory. */
    char errstr[512] = "out of memory";
    redis_client *rc = NULL;
    learn_counts *counts = learn_counts_new();
    char **found = NULL;
    size_t nfound = 0;
    learned_seen seen = {0};
    int code = 1;
    if (!counts || redis_client_new(cfg->redis_url, (int)cfg->redis_timeout_ms, &rc, errstr,
                                    sizeof errstr) != ATTUNE_OK) {
        fprintf(stderr, "attune-admin: %s\n", counts ? errstr : "out of memory");
        goto out;
    }
    if (nrules == 0) {
        if (redis_client_ready(rc, errstr, sizeof errstr) != ATTUNE_OK ||
            learned_rules(rc, &found, &nfound, errstr, sizeof errstr) != 0) {
            fprintf(stderr, "attune-admin: %s\n", errstr);
            goto out;
        }
        rules = found;
        nrules = nfound;
    }
    seen.rules = rules;
    seen.n = nrules;
    seen.printed = calloc(nrules ? nrules : 1, 1);
    if (!seen.printed ||
        learn_counts_load(rc, (const char *const *)rules, nrules, counts, errstr, sizeof errstr) !=
            ATTUNE_OK ||
        learn_counts_each(counts, print_learned, &seen) != 0) {
        fprintf(stderr, "attune-admin: %s\n", errstr);
        goto out;
    }
    if (nfound == 0 && nrules == 0)
        fputs("attune-admin: no rule has learned counts yet (attune-learn counts the outcomes "
              "of decisions made by rules with a learning section)\n",
              stderr);
    for (size_t i = 0; i < nrules; i++)
        if (!seen.printed[i])
            fprintf(stderr,
                    "attune-admin: rule '%s' has no learned counts: no outcome of its "
                    "decisions yet, or no rule of that id learns\n",
                    rules[i]);
    code = 0;
out:
    for (size_t i = 0; i < nfound; i++)
        free(found[i]);
    free(found);
    free(seen.printed);
    learn_counts_free(counts);
    redis_client_free(rc);
    return code;
}

/* What a command of fixed arguments takes, said when it is given others;
 * NULL for a name that is no such command. */
static const char *arguments_of(const char *command)
{
    static const char *const commands[][2] = {
        {"create-topics", "takes no argument"},
        {"load-profiles", "needs one FILE (or - for stdin)"},
        {"erase-customer", "needs one customer ID"},
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i][0], command) == 0)
            return commands[i][1];
    return NULL;
}

int main(int argc, char **argv)
{
    config cfg;
    int rc = service_init(argc, argv, "admin", "operator commands for topics and customer data",
                          usage, &cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    int code = 2;
    if (argc == 2 && strcmp(argv[1], "create-topics") == 0)
        code = create_topics(&cfg);
    else if (argc == 3 && strcmp(argv[1], "load-profiles") == 0)
        code = load_profiles(&cfg, argv[2]);
    else if (argc == 3 && strcmp(argv[1], "erase-customer") == 0)
        code = erase_customer(&cfg, argv[2]);
    else if (argc >= 2 && strcmp(argv[1], "learned") == 0)
        code = learned(&cfg, argv + 2, (size_t)(argc - 2));
    else if (argc >= 2 && arguments_of(argv[1]))
        fprintf(stderr, "attune-admin: %s: %s; see attune-admin --help\n", argv[1],
                arguments_of(argv[1]));
    else
        fprintf(stderr, "attune-admin: unknown command; see attune-admin --help\n");
    config_fini(&cfg);
    return code;
}
