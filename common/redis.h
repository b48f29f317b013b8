/* redis: one hiredis connection with attune's URL format, timeouts and
 * reconnection. Not thread-safe: one client per thread. Replies returned
 * through `redisReply **out` belong to the caller (freeReplyObject). */
#ifndef ATTUNE_REDIS_H
#define ATTUNE_REDIS_H

#include <hiredis.h>
#include <stddef.h>

#include "err.h"

typedef struct {
    char host[256];
    int port;
    int db;
    char user[128];
    char password[256];
} redis_url;

/* redis://[[user]:password@]host[:port][/db] */
attune_err redis_url_parse(const char *url, redis_url *out, char *errstr,
                           size_t errstr_size) ATTUNE_MUST_CHECK;

typedef struct redis_client redis_client;

/* Parses the URL; connects lazily (redis_client_ready). */
attune_err redis_client_new(const char *url, int timeout_ms, redis_client **out, char *errstr,
                            size_t errstr_size) ATTUNE_MUST_CHECK;
void redis_client_free(redis_client *c);
/* Makes sure a connection is up, connecting (AUTH, SELECT) if needed. While
 * Redis is down, new attempts are spaced at least a second apart so a dead
 * server costs nothing per batch. */
attune_err redis_client_ready(redis_client *c, char *errstr, size_t errstr_size) ATTUNE_MUST_CHECK;
/* Queues a command for the next round trip (pipelining). */
attune_err redis_append(redis_client *c, int argc, const char **argv,
                        const size_t *argv_len) ATTUNE_MUST_CHECK;
/* Reads the next reply, sending queued commands first. An I/O error or
 * timeout drops the connection (replies still queued are lost). An error
 * reply is returned as a reply, not as a failure. */
attune_err redis_reply(redis_client *c, redisReply **out) ATTUNE_MUST_CHECK;
/* A whole command in one call: argv form, reply to the caller. */
attune_err redis_command(redis_client *c, redisReply **out, int argc, const char **argv,
                         const size_t *argv_len) ATTUNE_MUST_CHECK;
/* Drops the connection (after an error that leaves it unusable). */
void redis_client_drop(redis_client *c);

#endif
