#include "service.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

volatile sig_atomic_t service_running = 1;
volatile sig_atomic_t service_reload = 0;

static void on_stop(int sig)
{
    (void)sig;
    service_running = 0;
}

static void on_hup(int sig)
{
    (void)sig;
    service_reload = 1;
}

void service_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

int service_init(int argc, char **argv, const char *service, const char *summary, const char *usage,
                 config *cfg)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("attune-%s %s: %s\n\nUsage: attune-%s [options]\n", service, ATTUNE_VERSION,
                   summary, service);
            printf("  --help       this text\n  --version    print the version\n");
            if (usage)
                fputs(usage, stdout);
            printf("\n");
            config_print_help(stdout, service);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("attune-%s %s\n", service, ATTUNE_VERSION);
            return 1;
        }
    }
    char errstr[512];
    if (config_load(cfg, service, errstr, sizeof errstr) != ATTUNE_OK) {
        fprintf(stderr, "attune-%s: configuration error: %s\n", service, errstr);
        return -1;
    }
    log_level level = LOG_LVL_INFO;
    if (log_level_parse(cfg->log_level, &level) != 0) {
        fprintf(stderr,
                "attune-%s: configuration error: ATTUNE_LOG_LEVEL: '%s' is not one of debug, "
                "info, warn, error\n",
                service, cfg->log_level);
        config_fini(cfg);
        return -1;
    }
    log_init(service, level);
    return 0;
}
