/* service: what every attune binary does before and around its work: the
 * common command line (--help, --version), configuration and logging set-up,
 * and the signal flags for an orderly stop and a reload. */
#ifndef ATTUNE_SERVICE_H
#define ATTUNE_SERVICE_H

#include <signal.h>

#include "config.h"

extern volatile sig_atomic_t service_running; /* cleared by SIGTERM/SIGINT */
extern volatile sig_atomic_t service_reload;  /* set by SIGHUP */

/* Handles --help / --version (returns 1: exit 0 now), loads cfg and sets up
 * logging (returns 0), or prints the configuration error (returns -1: exit
 * 2). usage is the service's own option text, may be NULL. */
int service_init(int argc, char **argv, const char *service, const char *summary, const char *usage,
                 config *cfg);
void service_install_signals(void);

#endif
