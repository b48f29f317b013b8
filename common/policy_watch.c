#include "policy_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"
#include "hash.h"
#include "log.h"
#include "service.h"
#include "ts.h"

#define RELOAD_CHECK_S 1.0
#define LOGGED_POLICY_ERRORS 50

static int same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Loads the policy file; on any error logs every problem with its JSON
 * pointer and leaves *out NULL. *digest: a hash of the file's bytes. */
static attune_err load(const char *path, policy **out, struct timespec *mtime, uint64_t *digest)
{
    char errstr[512];
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    *out = NULL;
    if (stat(path, &st) == 0)
        *mtime = st.st_mtim;
    attune_err err = files_read(path, POLICY_MAX_BYTES, &text, &len, errstr, sizeof errstr);
    if (err) {
        log_error("policy %s: %s", path, errstr);
        return err;
    }
    *digest = hash_fnv1a(text); /* (a NUL byte makes the file invalid anyway) */
    problem_field errs[LOGGED_POLICY_ERRORS];
    size_t n = 0;
    err = policy_load(text, len, out, errs, LOGGED_POLICY_ERRORS, &n);
    free(text);
    if (err) {
        size_t shown = n < LOGGED_POLICY_ERRORS ? n : LOGGED_POLICY_ERRORS;
        for (size_t i = 0; i < shown; i++)
            log_error("policy %s: %s: %s", path, errs[i].pointer, errs[i].detail);
        log_error("policy %s rejected: %zu error(s)", path, n);
    }
    return err;
}

attune_err policy_watch_open(policy_watch *w, const config *cfg, const char *path)
{
    memset(w, 0, sizeof *w);
    if (files_find(path ? path : cfg->policy_file, "deploy/policies/default.json",
                   "/usr/share/attune/policies/default.json", w->path, sizeof w->path) != 0) {
        log_error("policy path too long");
        return ATTUNE_ERR_CONFIG;
    }
    attune_err err = load(w->path, &w->pol, &w->mtime, &w->digest);
    if (err)
        return err;
    w->reload_ok =
        metrics_counter("attune_policy_reloads_total", "policy reloads", "result=\"ok\"");
    w->reload_failed =
        metrics_counter("attune_policy_reloads_total", "policy reloads", "result=\"rejected\"");
    w->last_check = ts_mono();
    log_info("policy %s version %s", w->path, policy_version(w->pol));
    return ATTUNE_OK;
}

int policy_watch_poll(policy_watch *w)
{
    double now = ts_mono();
    int forced = service_reload;
    if (!forced && now - w->last_check < RELOAD_CHECK_S)
        return 0;
    w->last_check = now;
    service_reload = 0;
    struct stat st;
    if (!forced && (stat(w->path, &st) != 0 || same_time(st.st_mtim, w->mtime)))
        return 0;
    policy *fresh = NULL;
    struct timespec mtime = w->mtime;
    uint64_t digest = w->digest;
    if (load(w->path, &fresh, &mtime, &digest) != ATTUNE_OK) {
        w->mtime = mtime; /* do not retry a bad file until it changes again */
        metric_inc(w->reload_failed);
        log_error("keeping policy version %s", policy_version(w->pol));
        return 0;
    }
    if (digest == w->digest) {
        /* a SIGHUP, a touch, a copy of the same bytes: nothing to reload */
        policy_free(fresh);
        w->mtime = mtime;
        if (forced)
            log_info("policy %s unchanged: version %s stays", w->path, policy_version(w->pol));
        return 0;
    }
    log_info("policy reloaded: version %s replaces %s", policy_version(fresh),
             policy_version(w->pol));
    if (strcmp(policy_version(fresh), policy_version(w->pol)) == 0)
        log_warn("the policy file changed but kept its version %s: decision ids derive from "
                 "it, so decisions of the two policies can share one; give each change a new "
                 "version",
                 policy_version(fresh));
    policy_free(w->pol);
    w->pol = fresh;
    w->mtime = mtime;
    w->digest = digest;
    metric_inc(w->reload_ok);
    return 1;
}

void policy_watch_close(policy_watch *w)
{
    policy_free(w->pol);
    w->pol = NULL;
}
