/* attune-decide: turns classified interactions into treatment decisions.
 *
 *   attune-decide --check-policy FILE
 *       validates a policy file: every error with its JSON pointer; exit 0
 *       valid, 1 invalid, 2 usage or unreadable file.
 *   attune-decide [--policy FILE]
 *       the Kafka service (classified in, decisions out), see service_mode.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "files.h"
#include "policy/policy.h"
#include "service.h"
#include "service_mode.h"

#define MAX_REPORTED_ERRORS 200

static void usage(FILE *f)
{
    fputs("usage: attune-decide [--check-policy FILE] [--policy FILE]\n"
          "  --check-policy FILE  validate a policy file and print every error with its JSON\n"
          "                       pointer (exit 0 valid, 1 invalid, 2 usage)\n"
          "  --policy FILE        the policy the service runs (service mode)\n",
          f);
}

static int check_policy(const char *path)
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
    free(text);
    int status = 0;
    if (rc == ATTUNE_OK) {
        printf("%s: valid (version %s)\n", path, policy_version(p));
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
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check-policy") == 0 && i + 1 < argc) {
            check = argv[++i];
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
    if (check)
        return check_policy(check);
    return service_mode(argv[0], policy_path);
}
