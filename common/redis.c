#include "redis.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"
#include "ts.h"

/* The wait before connecting again after a failure doubles from the first
 * to the last: a hung server (stopped, not gone) answers no command and
 * every attempt costs a caller the whole timeout, while a server that comes
 * back is found within the last. */
#define REDIS_RETRY_S 1.0
#define REDIS_RETRY_MAX_S 8.0

struct redis_client {
    redis_url url;
    int timeout_ms;
    redisContext *ctx;
    double last_attempt;
    double retry_s; /* the wait after the last failure */
    int was_down;   /* since the last failure, no command was answered */
};

static void failed(redis_client *c)
{
    if (!c->was_down) {
        /* a connection that answered until now (a restart, an idle one
         * closed by the server) is tried again at once */
        c->last_attempt = -1e9;
        c->was_down = 1;
        return;
    }
    c->last_attempt = ts_mono();
    c->retry_s = c->retry_s * 2 < REDIS_RETRY_MAX_S ? c->retry_s * 2 : REDIS_RETRY_MAX_S;
}

static int parse_port(const char *s, size_t n, int *out)
{
    if (n == 0 || n > 5)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *out = v;
    return 0;
}

attune_err redis_url_parse(const char *url, redis_url *out, char *errstr, size_t errstr_size)
{
    static const char scheme[] = "redis://";
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (strncmp(url, scheme, sizeof scheme - 1) != 0)
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                           "redis URL must start with redis://");
    const char *p = url + sizeof scheme - 1;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon)
            return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                               "redis URL credentials must be user:password@ or :password@");
        size_t ulen = (size_t)(colon - p), plen = (size_t)(at - colon - 1);
        if (ulen >= sizeof out->user || plen >= sizeof out->password)
            return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                               "redis URL credentials too long");
        memcpy(out->user, p, ulen);
        memcpy(out->password, colon + 1, plen);
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *hostend = slash ? slash : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(hostend - p));
    const char *hend = colon ? colon : hostend;
    if (hend == p || (size_t)(hend - p) >= sizeof out->host)
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size, "redis URL has no host");
    memcpy(out->host, p, (size_t)(hend - p));
    if (colon && parse_port(colon + 1, (size_t)(hostend - colon - 1), &out->port) != 0)
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                           "redis URL port must be 1-65535");
    if (slash && slash[1]) {
        char *end;
        errno = 0;
        long db = strtol(slash + 1, &end, 10);
        if (errno || *end || db < 0 || db > 1000)
            return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                               "redis URL database must be a number");
        out->db = (int)db;
    }
    return ATTUNE_OK;
}

attune_err redis_client_new(const char *url, int timeout_ms, redis_client **out, char *errstr,
                            size_t errstr_size)
{
    *out = NULL;
    redis_client *c = calloc(1, sizeof *c);
    if (!c)
        return ATTUNE_ERR_NOMEM;
    attune_err err = redis_url_parse(url, &c->url, errstr, errstr_size);
    if (err) {
        free(c);
        return err;
    }
    c->timeout_ms = timeout_ms;
    c->last_attempt = -1e9;
    c->retry_s = REDIS_RETRY_S / 2; /* the first failure waits REDIS_RETRY_S */
    *out = c;
    return ATTUNE_OK;
}

void redis_client_drop(redis_client *c)
{
    if (c && c->ctx) {
        redisFree(c->ctx);
        c->ctx = NULL;
    }
}

void redis_client_free(redis_client *c)
{
    if (!c)
        return;
    redis_client_drop(c);
    free(c);
}

static attune_err setup(redis_client *c, char *errstr, size_t errstr_size)
{
    redisReply *r = NULL;
    if (c->url.password[0]) {
        if (c->url.user[0])
            r = redisCommand(c->ctx, "AUTH %s %s", c->url.user, c->url.password);
        else
            r = redisCommand(c->ctx, "AUTH %s", c->url.password);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            /* Never echo the password: only Redis's own message. */
            attune_err err = attune_errf(ATTUNE_ERR_REDIS, errstr, errstr_size,
                                         "redis AUTH failed: %s", r ? r->str : c->ctx->errstr);
            if (r)
                freeReplyObject(r);
            return err;
        }
        freeReplyObject(r);
    }
    if (c->url.db) {
        r = redisCommand(c->ctx, "SELECT %d", c->url.db);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            attune_err err = attune_errf(ATTUNE_ERR_REDIS, errstr, errstr_size,
                                         "redis SELECT %d failed", c->url.db);
            if (r)
                freeReplyObject(r);
            return err;
        }
        freeReplyObject(r);
    }
    return ATTUNE_OK;
}

attune_err redis_client_ready(redis_client *c, char *errstr, size_t errstr_size)
{
    if (c->ctx && !c->ctx->err)
        return ATTUNE_OK;
    redis_client_drop(c);
    double now = ts_mono();
    if (now - c->last_attempt < c->retry_s)
        return attune_errf(ATTUNE_ERR_REDIS, errstr, errstr_size, "redis unavailable");
    c->last_attempt = now;
    struct timeval tv = {c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000};
    c->ctx = redisConnectWithTimeout(c->url.host, c->url.port, tv);
    attune_err err = ATTUNE_OK;
    if (!c->ctx || c->ctx->err) {
        err = attune_errf(ATTUNE_ERR_REDIS, errstr, errstr_size, "redis connect %s:%d: %s",
                          c->url.host, c->url.port, c->ctx ? c->ctx->errstr : "out of memory");
    } else {
        redisSetTimeout(c->ctx, tv);
        redisEnableKeepAlive(c->ctx);
        err = setup(c, errstr, errstr_size);
    }
    if (err) {
        redis_client_drop(c);
        if (!c->was_down)
            log_warn("%s", errstr ? errstr : "redis unavailable");
        failed(c);
        return err;
    }
    /* (restored once a command is answered: a hung server takes the
     * connection and answers nothing) */
    return ATTUNE_OK;
}

attune_err redis_append(redis_client *c, int argc, const char **argv, const size_t *argv_len)
{
    if (!c->ctx)
        return ATTUNE_ERR_REDIS;
    return redisAppendCommandArgv(c->ctx, argc, argv, argv_len) == REDIS_OK ? ATTUNE_OK
                                                                            : ATTUNE_ERR_REDIS;
}

attune_err redis_reply(redis_client *c, redisReply **out)
{
    void *r = NULL;
    *out = NULL;
    if (!c->ctx)
        return ATTUNE_ERR_REDIS;
    if (redisGetReply(c->ctx, &r) != REDIS_OK || !r) {
        if (!c->was_down)
            log_warn("redis: %s", c->ctx->errstr[0] ? c->ctx->errstr : "no reply");
        failed(c);
        redis_client_drop(c);
        return c->ctx == NULL && errno == EAGAIN ? ATTUNE_ERR_TIMEOUT : ATTUNE_ERR_REDIS;
    }
    if (c->was_down)
        log_info("redis connection restored (%s:%d)", c->url.host, c->url.port);
    c->was_down = 0;
    c->retry_s = REDIS_RETRY_S / 2;
    *out = r;
    return ATTUNE_OK;
}

attune_err redis_command(redis_client *c, redisReply **out, int argc, const char **argv,
                         const size_t *argv_len)
{
    attune_err err = redis_append(c, argc, argv, argv_len);
    return err ? err : redis_reply(c, out);
}
