#include "httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "ts.h"

struct httpd {
    struct MHD_Daemon *daemon;
    const httpd_route *routes;
    size_t route_count;
    httpd_ready_fn ready;
    void *ud;
    size_t max_body;
    int port;
};

/* A body over max_body whose size was not announced (chunked) is read and
 * thrown away to its end, so the client, which sends it all before reading,
 * gets its 413 rather than a reset connection; up to this much, past which
 * the connection is closed: reading without end would be free work for a
 * client that never stops. */
#define HTTPD_DISCARD_MAX (64UL * 1024 * 1024)

/* Header values are copied here without the whitespace around them (RFC
 * 9110 5.5: it is no part of the value); a longer one is passed as it is. */
#define HTTPD_TRIM_MAX 1024

typedef struct {
    buf body;
    int too_large;
    const char *framing; /* why the body's length is ambiguous, or NULL */
    size_t discarded;    /* body bytes thrown away once too_large */
    int answered;        /* a response is queued (and counted): never twice */
    double started;
    char idem[HTTPD_TRIM_MAX];
} request_state;

/* Counts the Content-Length headers whose value differs from the first,
 * and notes a Transfer-Encoding. */
typedef struct {
    const char *first;
    int differs;
    int chunked;
} length_check;

static enum MHD_Result check_length(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    length_check *lc = cls;
    if (strcasecmp(key, "Transfer-Encoding") == 0)
        lc->chunked = 1;
    if (strcasecmp(key, "Content-Length") != 0)
        return MHD_YES;
    if (!lc->first)
        lc->first = value ? value : "";
    else if (strcmp(lc->first, value ? value : "") != 0)
        lc->differs = 1;
    return MHD_YES;
}

/* value without surrounding spaces and tabs, copied into out; value itself
 * when it has none or does not fit. */
static const char *trimmed(const char *value, char *out, size_t out_size)
{
    if (!value)
        return NULL;
    size_t from = 0, to = strlen(value);
    while (from < to && (value[from] == ' ' || value[from] == '\t'))
        from++;
    while (to > from && (value[to - 1] == ' ' || value[to - 1] == '\t'))
        to--;
    if ((from == 0 && value[to] == '\0') || to - from >= out_size)
        return value;
    memcpy(out, value + from, to - from);
    out[to - from] = '\0';
    return out;
}

void http_respond_json(http_response *resp, int status, char *body)
{
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = body;
    resp->body_len = body ? strlen(body) : 0;
}

void http_respond_problem(http_response *resp, int status, const char *slug, const char *title,
                          const char *detail, const problem_field *field)
{
    cJSON *doc = problem_new(status, slug, title, detail, field);
    http_respond_problem_doc(resp, status, doc);
    cJSON_Delete(doc);
}

void http_respond_problem_doc(http_response *resp, int status, const cJSON *doc)
{
    http_respond_json(resp, status, doc ? json_print(doc) : NULL);
    resp->content_type = "application/problem+json";
}

/* libmicrohttpd's own messages ("connection closed with incomplete
 * request", "reached connection limit") come one per connection, so a
 * client that needs no key could fill the log: at most this many a second,
 * and then a count of the rest. */
#define HTTPD_LOG_PER_SECOND 5

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static double window;
    static unsigned logged, dropped;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    pthread_mutex_lock(&mu);
    const double now = ts_mono();
    unsigned were_dropped = 0;
    if (now - window >= 1.0) {
        were_dropped = dropped;
        window = now;
        logged = dropped = 0;
    }
    const int show = logged < HTTPD_LOG_PER_SECOND;
    if (show)
        logged++;
    else
        dropped++;
    pthread_mutex_unlock(&mu);
    if (were_dropped)
        log_warn("http: %u more messages of the HTTP layer left out in the last second",
                 were_dropped);
    if (show)
        log_warn("http: %s", msg);
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    request_state *st = *con_cls;
    if (st) {
        buf_fini(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* The route for method and path; when there is none but the path has
 * routes, their methods are listed in allow ("GET, POST"), else allow is
 * left empty. */
static const httpd_route *find_route(const httpd *h, const char *method, const char *path,
                                     char *allow, size_t allow_size)
{
    size_t used = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < h->route_count; i++) {
        const httpd_route *r = &h->routes[i];
        size_t n = strlen(r->path);
        int match = (n && r->path[n - 1] == '*') ? strncmp(path, r->path, n - 1) == 0
                                                 : strcmp(path, r->path) == 0;
        if (!match)
            continue;
        if (strcmp(method, r->method) == 0)
            return r;
        int w = snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", r->method);
        if (w > 0 && (size_t)w < allow_size - used)
            used += (size_t)w;
        else
            allow[used] = '\0'; /* (a method that does not fit is left out whole) */
    }
    return NULL;
}

static void builtin(httpd *h, const char *method, const char *path, http_response *resp,
                    int *handled)
{
    *handled = 1;
    if (strcmp(path, "/healthz") == 0 && strcmp(method, "GET") == 0) {
        http_respond_json(resp, 200, strdup("{\"status\":\"ok\"}"));
    } else if (strcmp(path, "/readyz") == 0 && strcmp(method, "GET") == 0) {
        int ok = !h->ready || h->ready(h->ud);
        http_respond_json(resp, ok ? 200 : 503,
                          strdup(ok ? "{\"status\":\"ready\"}" : "{\"status\":\"not ready\"}"));
    } else if (strcmp(path, "/metrics") == 0 && strcmp(method, "GET") == 0) {
        buf b;
        buf_init(&b, 16 * 1024 * 1024);
        if (metrics_render(&b) != ATTUNE_OK) {
            buf_fini(&b);
            http_respond_problem(resp, 500, "internal", "Internal error", "metrics too large",
                                 NULL);
            return;
        }
        resp->status = 200;
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        resp->body = buf_steal(&b, &resp->body_len);
    } else if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
               strcmp(path, "/metrics") == 0) {
        snprintf(resp->allow, sizeof resp->allow, "GET, HEAD");
        http_respond_problem(resp, 405, "method-not-allowed", "Method not allowed",
                             "this path does not accept that method", NULL);
    } else {
        *handled = 0;
    }
}

static enum MHD_Result send_response(struct MHD_Connection *conn, http_response *resp)
{
    if (!resp->body) {
        /* A handler or builtin that ran out of memory still answers. */
        resp->status = resp->status ? resp->status : 500;
        resp->body = strdup("");
        resp->body_len = 0;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(resp->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type",
                            resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (resp->retry_after_s > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", resp->retry_after_s);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    if (resp->www_authenticate)
        MHD_add_response_header(r, "WWW-Authenticate", resp->www_authenticate);
    if (resp->allow[0] && resp->status == 405)
        MHD_add_response_header(r, "Allow", resp->allow);
    if (resp->close)
        MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void count_request(const char *route, int status, double seconds)
{
    char labels[160];
    snprintf(labels, sizeof labels, "route=\"%s\",code=\"%d\"", route, status);
    metric_inc(
        metrics_counter("attune_http_requests_total", "HTTP requests by route and status", labels));
    snprintf(labels, sizeof labels, "route=\"%s\"", route);
    metric_observe(metrics_histogram("attune_http_request_duration_seconds",
                                     "HTTP request handling time", labels),
                   seconds);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    httpd *h = cls;
    request_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        buf_init(&st->body, h->max_body);
        st->started = ts_mono();
        *con_cls = st;
        /* Two different lengths, or a length and a transfer coding: another
         * server on the path may frame the body by the other one (request
         * smuggling, RFC 9112 6.3, which says to handle it as an error). */
        length_check lc = {NULL, 0, 0};
        MHD_get_connection_values(conn, MHD_HEADER_KIND, check_length, &lc);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (lc.differs) /* answered below without reading the body */
            st->framing = "Content-Length is given twice with different values";
        else if (cl && lc.chunked)
            st->framing = "Content-Length and Transfer-Encoding are both given";
        else if (cl && strtoull(cl, NULL, 10) > h->max_body)
            st->too_large = 1; /* the same */
        else
            return MHD_YES;
    }
    /* libmicrohttpd refuses a response queued while the body is still
     * arriving, so every piece is taken here and the answer waits for the
     * last call (*upload_data_size == 0). */
    if (*upload_data_size) {
        if (st->too_large || st->framing) {
            st->discarded += *upload_data_size;
            if (st->discarded > HTTPD_DISCARD_MAX)
                return MHD_NO;
        } else if (buf_append(&st->body, upload_data, *upload_data_size) != ATTUNE_OK) {
            st->too_large = 1;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->answered)
        return MHD_YES;
    st->answered = 1;

    http_response resp = {0};
    const char *route_name = "other";
    int handled = 0;
    /* HEAD is answered wherever GET is; libmicrohttpd sends the headers of
     * the GET answer (Content-Length included) without its body. */
    if (strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
        method = MHD_HTTP_METHOD_GET;
    if (st->framing || st->too_large) {
        /* (counted under the route the request was for) */
        char allow[64];
        const httpd_route *r = find_route(h, method, url, allow, sizeof allow);
        if (r)
            route_name = r->path;
        if (st->framing) {
            http_respond_problem(&resp, 400, "bad-framing", "Bad request framing", st->framing,
                                 NULL);
            resp.close = 1;
        } else {
            char detail[96];
            snprintf(detail, sizeof detail, "the request body exceeds %zu bytes", h->max_body);
            http_respond_problem(&resp, 413, "body-too-large", "Request body too large", detail,
                                 NULL);
        }
    } else {
        builtin(h, method, url, &resp, &handled);
        if (handled) {
            route_name = url;
        } else {
            const httpd_route *r = find_route(h, method, url, resp.allow, sizeof resp.allow);
            if (r) {
                http_request req = {
                    .method = method,
                    .path = url,
                    .content_type =
                        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"),
                    .authorization =
                        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
                    .idempotency_key = trimmed(
                        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key"),
                        st->idem, sizeof st->idem),
                    .traceparent =
                        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent"),
                    .body = st->body.data ? st->body.data : "",
                    .body_len = st->body.len,
                };
                route_name = r->path;
                r->handler(h->ud, &req, &resp);
            } else if (resp.allow[0]) {
                http_respond_problem(&resp, 405, "method-not-allowed", "Method not allowed",
                                     "this path does not accept that method", NULL);
            } else {
                http_respond_problem(&resp, 404, "not-found", "Not found", "no such path", NULL);
            }
        }
    }
    count_request(route_name, resp.status, ts_mono() - st->started);
    return send_response(conn, &resp);
}

static attune_err resolve(const char *addr, struct sockaddr_storage *ss, socklen_t *len, int *port,
                          char *errstr, size_t errstr_size)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size,
                           "ATTUNE_HTTP_ADDR '%s' is not host:port", addr);
    const char *h = addr;
    size_t hlen = (size_t)(colon - addr);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']')
        h++, hlen -= 2;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(hlen ? host : NULL, colon + 1, &hints, &res);
    if (rc != 0 || !res) {
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size, "ATTUNE_HTTP_ADDR '%s': %s",
                           addr, gai_strerror(rc));
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    *port = (int)strtol(colon + 1, NULL, 10);
    freeaddrinfo(res);
    return ATTUNE_OK;
}

attune_err httpd_start(const config *cfg, const httpd_route *routes, size_t route_count,
                       httpd_ready_fn ready, void *ud, httpd **out, char *errstr,
                       size_t errstr_size)
{
    const char *addr = cfg->http_addr;
    *out = NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sslen = 0;
    int port = 0;
    attune_err err = resolve(addr, &ss, &sslen, &port, errstr, errstr_size);
    if (err)
        return err;
    httpd *h = calloc(1, sizeof *h);
    if (!h)
        return ATTUNE_ERR_NOMEM;
    h->routes = routes;
    h->route_count = route_count;
    h->ready = ready;
    h->ud = ud;
    h->max_body = (size_t)cfg->max_body_bytes;
    unsigned flags =
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The per-address limit: slow clients from one address (slowloris)
     * cannot take every slot; over it, a new connection is closed as soon as
     * accepted, whereas at the overall limit it would wait in the backlog,
     * health checks included. */
    h->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_NOTIFY_COMPLETED, request_done, h,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->http_max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->http_max_conn_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->http_timeout_s, MHD_OPTION_END);
    if (!h->daemon) {
        free(h);
        return attune_errf(ATTUNE_ERR_IO, errstr, errstr_size,
                           "cannot listen on %s (address in use or not permitted)", addr);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : port;
    *out = h;
    return ATTUNE_OK;
}

void httpd_stop(httpd *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    free(h);
}

int httpd_port(const httpd *h)
{
    return h->port;
}
