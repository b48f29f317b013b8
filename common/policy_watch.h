/* policy_watch: a service's running policy file. Loads it at start-up,
 * reloads it when the file changes or on SIGHUP, and keeps the running
 * policy when a new one is invalid (every error logged with its JSON
 * pointer). Owns the policy it holds; attune-decide and attune-learn use it
 * from their batch thread only. */
#ifndef ATTUNE_POLICY_WATCH_H
#define ATTUNE_POLICY_WATCH_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "metrics.h"
#include "policy/policy.h"

typedef struct {
    char path[4096];
    policy *pol;
    struct timespec mtime;
    uint64_t digest; /* of the running policy's file */
    double last_check;
    metric *reload_ok;
    metric *reload_failed;
} policy_watch;

/* The policy file: path if not NULL, else ATTUNE_POLICY_FILE, else the
 * shipped default (the source tree's, then the installed one). Loads it;
 * ATTUNE_ERR_* (logged) when it cannot. */
attune_err policy_watch_open(policy_watch *w, const config *cfg,
                             const char *path) ATTUNE_MUST_CHECK;
/* Between batches: reloads on SIGHUP or (checked once a second) when the
 * file changed; a file whose bytes are those running is not reloaded.
 * Returns 1 when a new policy replaced the old one. */
int policy_watch_poll(policy_watch *w);
void policy_watch_close(policy_watch *w);

#endif
