/* attune-decide: turns classified interactions into treatment decisions.
 *
 *   attune-decide --check-policy FILE [--intent-model MODEL]
 *       validates a policy file: every error with its JSON pointer; exit 0
 *       valid, 1 invalid, 2 usage or unreadable file. An intent label that
 *       the intent model does not have is a warning (a model of one's own
 *       may have other labels).
 *   attune-decide [--policy FILE]
 *       the Kafka service (classified in, decisions out), see service_mode.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "config.h"
#include "files.h"
#include "json.h"
#include "policy/policy.h"
#include "service.h"
#include "service_mode.h"

#define MAX_REPORTED_ERRORS 200

static void usage(FILE *f)
{
    fputs("usage: attune-decide [--check-policy FILE [--intent-model MODEL]] [--policy FILE]\n"
          "  --check-policy FILE  validate a policy file and print every error with its JSON\n"
          "                       pointer (exit 0 valid, 1 invalid, 2 usage); an intent\n"
          "                       label the intent model lacks is a warning\n"
          "  --intent-model MODEL the model whose labels --check-policy knows (default:\n"
          "                       intent.model of $ATTUNE_DATA_DIR, else of the shipped data)\n"
          "  --policy FILE        the policy the service runs (service mode)\n",
          f);
}

/* The intent labels a policy compares that the model does not have: a
 * typo ("biling") is valid JSON of the right type and never matches, so
 * the rule would silently never fire. Walks the policy's JSON for
 * conditions on situation.intent.label or .second; returns the number of
 * warnings printed. */
static size_t warn_intents(const char *path, const cJSON *node, char *ptr, size_t ptr_size,
                           const classify *c)
{
    size_t warnings = 0;
    const size_t len = strlen(ptr);
    const char *cpath = json_str(node, "path");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(node, "value");
    if (cpath && value &&
        (strcmp(cpath, "situation.intent.label") == 0 ||
         strcmp(cpath, "situation.intent.second") == 0)) {
        json_pointer_append(ptr, ptr_size, "value", 5);
        const size_t vlen = strlen(ptr);
        int idx = 0;
        for (const cJSON *v = cJSON_IsArray(value) ? value->child : value; v;
             v = cJSON_IsArray(value) ? v->next : NULL, idx++) {
            if (!cJSON_IsString(v))
                continue;
            size_t k = 0, n = classify_intent_count(c);
            while (k < n && strcmp(classify_intent_label(c, k), v->valuestring) != 0)
                k++;
            if (k < n)
                continue;
            if (cJSON_IsArray(value))
                snprintf(ptr + vlen, ptr_size - vlen, "/%d", idx);
            printf("%s: %s: warning: intent '%s' is no label of the intent model, so this "
                   "never matches; its labels:",
                   path, ptr, v->valuestring);
            for (k = 0; k < n; k++)
                printf("%s %s", k ? "," : "", classify_intent_label(c, k));
            putchar('\n');
            warnings++;
            ptr[vlen] = '\0';
        }
        ptr[len] = '\0';
    }
    int idx = 0;
    for (const cJSON *child = node->child; child; child = child->next, idx++) {
        if (!cJSON_IsObject(child) && !cJSON_IsArray(child))
            continue;
        if (cJSON_IsArray(node)) {
            char num[16];
            snprintf(num, sizeof num, "%d", idx);
            json_pointer_append(ptr, ptr_size, num, sizeof num);
        } else {
            json_pointer_append(ptr, ptr_size, child->string, strlen(child->string));
        }
        warnings += warn_intents(path, child, ptr, ptr_size, c);
        ptr[len] = '\0';
    }
    return warnings;
}

/* Loads the classifier's data and intent model to learn the labels, and
 * warns of every intent label of the (valid) policy text that it lacks.
 * Returns the warnings printed; a model that cannot be loaded is said on
 * stderr and checks nothing. */
static size_t check_intents(const char *path, const char *text, size_t len, const char *model)
{
    char dir[4096], why[512];
    if (classify_data_dir(NULL, dir, sizeof dir) != 0) {
        fputs("attune-decide: note: intent labels not checked: data directory path too long\n",
              stderr);
        return 0;
    }
    classify_options opts = {.data_dir = dir, .intent_model = model};
    classify *c = NULL;
    if (classify_new(&opts, &c, why, sizeof why) != ATTUNE_OK) {
        fprintf(stderr, "attune-decide: note: intent labels not checked: %s\n", why);
        return 0;
    }
    size_t warnings = 0;
    cJSON *root = NULL;
    if (classify_intent_count(c) == 0) {
        fputs("attune-decide: note: intent labels not checked: no intent model\n", stderr);
    } else if (json_parse(text, len, 64, &root, why, sizeof why) == ATTUNE_OK) {
        char ptr[1024] = "";
        warnings = warn_intents(path, root, ptr, sizeof ptr, c);
    }
    cJSON_Delete(root);
    classify_free(c);
    return warnings;
}

static int check_policy(const char *path, const char *model)
{
    size_t len = 0;
    char *text = NULL;
    char why[512];
    attune_err rerr = files_read(path, POLICY_MAX_BYTES, &text, &len, why, sizeof why);
    if (rerr == ATTUNE_ERR_LIMIT) {
        printf("%s: /: the policy is larger than %d bytes\n", path, POLICY_MAX_BYTES);
        return 1;
    }
    if (rerr) {
        fprintf(stderr, "attune-decide: %s\n", why);
        return 2;
    }
    problem_field *errs = calloc(MAX_REPORTED_ERRORS, sizeof *errs);
    if (!errs) {
        free(text);
        fputs("attune-decide: out of memory\n", stderr);
        return 2;
    }
    policy *p = NULL;
    size_t n = 0;
    attune_err rc = policy_load(text, len, &p, errs, MAX_REPORTED_ERRORS, &n);
    size_t warnings = rc == ATTUNE_OK ? check_intents(path, text, len, model) : 0;
    free(text);
    int status = 0;
    if (rc == ATTUNE_OK) {
        printf("%s: valid (version %s)", path, policy_version(p));
        if (warnings)
            printf(", %zu warning%s", warnings, warnings == 1 ? "" : "s");
        putchar('\n');
        policy_free(p);
    } else if (rc == ATTUNE_ERR_NOMEM) {
        fputs("attune-decide: out of memory\n", stderr);
        status = 2;
    } else {
        size_t shown = n < MAX_REPORTED_ERRORS ? n : MAX_REPORTED_ERRORS;
        for (size_t i = 0; i < shown; i++)
            printf("%s: %s: %s\n", path, errs[i].pointer, errs[i].detail);
        if (n > shown)
            printf("%s: ... and %zu more error(s)\n", path, n - shown);
        printf("%s: invalid (%zu error%s)\n", path, n, n == 1 ? "" : "s");
        status = 1;
    }
    free(errs);
    return status;
}

/* The Kafka service: settings from the environment, the policy from
 * --policy, else ATTUNE_POLICY_FILE, else the shipped default. */
static int service_mode(char *argv0, const char *policy_path)
{
    config cfg;
    char *no_args[] = {argv0, NULL};
    int rc = service_init(1, no_args, "decide", "turns classified interactions into decisions",
                          NULL, &cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    int code = decide_service_run(&cfg, policy_path);
    config_fini(&cfg);
    return code;
}

int main(int argc, char **argv)
{
    const char *check = NULL;
    const char *policy_path = NULL;
    const char *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check-policy") == 0 && i + 1 < argc) {
            check = argv[++i];
        } else if (strcmp(argv[i], "--intent-model") == 0 && i + 1 < argc) {
            model = argv[++i];
        } else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            policy_path = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            fputs("\n", stdout);
            config_print_help(stdout, "decide");
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("attune-decide %s\n", ATTUNE_VERSION);
            return 0;
        } else {
            fprintf(stderr, "attune-decide: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (model && !check) {
        fputs("attune-decide: --intent-model goes with --check-policy\n", stderr);
        return 2;
    }
    if (check)
        return check_policy(check, model);
    return service_mode(argv[0], policy_path);
}
