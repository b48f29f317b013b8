/* httpd: attune's HTTP server on libmicrohttpd. Every service gets
 * GET /healthz, /readyz and /metrics; a service adds its own routes. Each
 * connection has its own thread, so a handler may block (ingest waits for
 * Kafka's acknowledgement). Request bodies are capped at max_body. */
#ifndef ATTUNE_HTTPD_H
#define ATTUNE_HTTPD_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "problem.h"

typedef struct {
    const char *method;
    const char *path; /* without the query string */
    const char *content_type;
    const char *authorization;
    const char *idempotency_key;
    const char *traceparent;
    const char *body; /* NUL-terminated copy of the body */
    size_t body_len;
} http_request;

typedef struct {
    int status;
    const char *content_type; /* static string */
    char *body;               /* malloc'd; the server frees it */
    size_t body_len;
    int retry_after_s;            /* > 0 adds Retry-After */
    const char *www_authenticate; /* static string; adds WWW-Authenticate */
    char allow[64];               /* non-empty adds Allow (a 405 must say what is) */
    int close;                    /* adds Connection: close: the stream cannot go on */
} http_response;

typedef void (*httpd_handler)(void *ud, const http_request *req, http_response *resp);
typedef int (*httpd_ready_fn)(void *ud);

/* path ending in '*' matches by prefix. */
typedef struct {
    const char *method;
    const char *path;
    httpd_handler handler;
} httpd_route;

typedef struct httpd httpd;

/* Listens on cfg->http_addr with cfg's limits: body size, connections in
 * all and per client address, idle timeout. Routes are borrowed and must
 * outlive the server; cfg is read only here. ready may be NULL (always
 * ready). */
attune_err httpd_start(const config *cfg, const httpd_route *routes, size_t route_count,
                       httpd_ready_fn ready, void *ud, httpd **out, char *errstr,
                       size_t errstr_size) ATTUNE_MUST_CHECK;
/* Stops accepting, waits for running requests, frees. */
void httpd_stop(httpd *h);
/* The port actually bound (useful with port 0). */
int httpd_port(const httpd *h);

/* Fills resp with body (taken) as application/json. */
void http_respond_json(http_response *resp, int status, char *body);
/* Fills resp with an RFC 9457 problem document. */
void http_respond_problem(http_response *resp, int status, const char *slug, const char *title,
                          const char *detail, const problem_field *field);
/* The same with doc, a problem_new document the caller extended; doc stays
 * the caller's (NULL: out of memory, answered without a body). */
void http_respond_problem_doc(http_response *resp, int status, const cJSON *doc);

#endif
