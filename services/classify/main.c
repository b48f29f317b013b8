/* attune-classify: reads the situation and sentiment of interactions.
 *
 *   attune-classify --batch [--threads T] [--data-dir DIR] [--intent-model FILE]
 *       JSON lines on stdin, one JSON line per input on stdout, in input order.
 *   attune-classify --bench-lib N [--bench-threads T] < lines
 *       times the library alone over the texts (tests/bench/bench_classifier.py),
 *       on one thread or on T at once (0: one per online core).
 *   attune-classify [--data-dir DIR] [--intent-model FILE]
 *       the Kafka service: enriched interactions in, classified out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "classify/classify.h"
#include "config.h"
#include "log.h"
#include "service.h"
#include "service_mode.h"

static void usage(FILE *f)
{
    fputs("usage: attune-classify [--batch [--threads T]] [--data-dir DIR] [--intent-model FILE]\n"
          "  (no --batch)         the Kafka service: consumes ATTUNE_TOPIC_ENRICHED, produces\n"
          "                       ATTUNE_TOPIC_CLASSIFIED (settings: see below)\n"
          "  --batch              classify JSON lines {\"id\",\"text\",\"context\"} from stdin\n"
          "                       (\"channel\" and \"wait_seconds\" are read at the top level\n"
          "                       or in \"context\": urgency weighs them)\n"
          "  --threads T          with --batch: T workers, output still in input order and\n"
          "                       written in blocks of 512 lines (0: one per online core;\n"
          "                       default 1, which answers line by line)\n"
          "  --data-dir DIR       lexicons and rules (default: $ATTUNE_DATA_DIR, then\n"
          "                       <exe>/../../deploy/data, then /usr/share/attune/data)\n"
          "  --intent-model FILE  intent model (default: DIR/intent.model; \"\" for none)\n"
          "  --bench-lib N        time N passes of the library over the input texts\n"
          "  --bench-threads T    with --bench-lib: T threads at once, each making the N\n"
          "                       passes (0: one per online core; default 1)\n",
          f);
}

/* A thread count in [0, 256]; 0 means one per online core. */
/* arg as a number of digits only (not " 2" or "+3"), or -1. */
static long digits(const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    return *arg >= '0' && *arg <= '9' && !*end ? v : -1;
}

static int parse_threads(const char *opt, const char *arg, int *out)
{
    long v = digits(arg);
    if (v < 0 || v > 256) {
        fprintf(stderr, "attune-classify: %s wants a number in [0, 256]\n", opt);
        return -1;
    }
    if (v == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        v = cores < 1 ? 1 : cores > 256 ? 256 : cores;
    }
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    int batch = 0;
    int bench_passes = 0;
    int bench_threads = 1;
    int batch_threads = 1;
    int threads_given = 0, bench_threads_given = 0;
    const char *data_dir = NULL;
    const char *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--batch") == 0) {
            batch = 1;
        } else if (strcmp(argv[i], "--bench-lib") == 0 && i + 1 < argc) {
            long v = digits(argv[++i]);
            if (v < 1 || v > 1000) {
                fputs("attune-classify: --bench-lib wants a number of passes in [1, 1000]\n",
                      stderr);
                return 2;
            }
            bench_passes = (int)v;
        } else if (strcmp(argv[i], "--bench-threads") == 0 && i + 1 < argc) {
            if (parse_threads("--bench-threads", argv[++i], &bench_threads) != 0)
                return 2;
            bench_threads_given = 1;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (parse_threads("--threads", argv[++i], &batch_threads) != 0)
                return 2;
            threads_given = 1;
        } else if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
            data_dir = argv[++i];
        } else if (strcmp(argv[i], "--intent-model") == 0 && i + 1 < argc) {
            model = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            fputs("\n", stdout);
            config_print_help(stdout, "classify");
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("attune-classify %s\n", ATTUNE_VERSION);
            return 0;
        } else {
            fprintf(stderr, "attune-classify: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    /* an option of one mode given to another is a mistake, not a no-op:
     * "--threads 4" without --batch would start the Kafka service */
    const char *conflict = batch && bench_passes     ? "--batch and --bench-lib are two modes"
                           : threads_given && !batch ? "--threads goes with --batch"
                           : bench_threads_given && !bench_passes
                               ? "--bench-threads goes with --bench-lib"
                               : NULL;
    if (conflict) {
        fprintf(stderr, "attune-classify: %s\n", conflict);
        usage(stderr);
        return 2;
    }
    config cfg;
    int service = !batch && !bench_passes;
    if (service) {
        /* Options are parsed above; service_init only loads the settings. */
        char *no_args[] = {argv[0], NULL};
        int rc =
            service_init(1, no_args, "classify", "classifies enriched interactions", NULL, &cfg);
        if (rc != 0)
            return rc > 0 ? 0 : 2;
    }
    char dir[4096];
    if (classify_data_dir(data_dir, dir, sizeof dir) != 0) {
        fputs("attune-classify: data directory path too long\n", stderr);
        return 2;
    }
    classify_options opts = {.data_dir = dir, .intent_model = model};
    classify *c = NULL;
    char err[512];
    attune_err rc = classify_new(&opts, &c, err, sizeof err);
    if (rc != ATTUNE_OK) {
        fprintf(stderr, "attune-classify: %s: %s\n", attune_err_str(rc), err);
        if (service)
            config_fini(&cfg);
        return 2;
    }
    if (service) {
        log_info("classifier loaded from %s", dir);
        int code = classify_service_run(&cfg, c);
        classify_free(c);
        config_fini(&cfg);
        return code;
    }
    int status = bench_passes ? classify_bench_run(c, stdin, stdout, bench_passes, bench_threads)
                              : classify_batch_run(c, stdin, stdout, batch_threads);
    classify_free(c);
    if (status != 0)
        fputs("attune-classify: input or output error\n", stderr);
    return status;
}
