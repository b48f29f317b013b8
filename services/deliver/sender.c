#include "sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sign.h"
#include "ts.h"

struct sender {
    CURL *curl;
    sender_opts opts;
    char *auth_header;      /* "Authorization: Bearer <token>"; owned, secret */
    sender_result *current; /* the result the header callback fills */
};

/* The body of the answer is not used: read and dropped. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * nmemb;
}

/* Keeps the Retry-After of the final answer (a 100 Continue before it
 * starts a new header block and clears it). */
static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
    sender *s = ud;
    size_t len = size * nitems;
    static const char name[] = "retry-after:";
    if (!s->current)
        return len;
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        s->current->retry_after[0] = '\0';
    } else if (len > sizeof name - 1 && strncasecmp(line, name, sizeof name - 1) == 0) {
        const char *v = line + sizeof name - 1;
        size_t n = len - (sizeof name - 1);
        while (n && (*v == ' ' || *v == '\t')) {
            v++;
            n--;
        }
        while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
            n--;
        if (n >= sizeof s->current->retry_after)
            n = sizeof s->current->retry_after - 1;
        memcpy(s->current->retry_after, v, n);
        s->current->retry_after[n] = '\0';
    }
    return len;
}

/* Lets a shutdown end a request that would otherwise run to its timeout. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const sender *s = ud;
    return s->opts.running && !*s->opts.running;
}

attune_err sender_new(const sender_opts *opts, sender **out)
{
    *out = NULL;
    sender *s = calloc(1, sizeof *s);
    if (!s)
        return ATTUNE_ERR_NOMEM;
    s->opts = *opts;
    s->curl = curl_easy_init();
    if (!s->curl) {
        free(s);
        return ATTUNE_ERR_NOMEM;
    }
    if (opts->token && *opts->token) {
        size_t n = strlen(opts->token) + sizeof "Authorization: Bearer ";
        s->auth_header = malloc(n);
        if (!s->auth_header) {
            sender_free(s);
            return ATTUNE_ERR_NOMEM;
        }
        snprintf(s->auth_header, n, "Authorization: Bearer %s", opts->token);
    }
    CURL *c = s->curl;
    CURLcode rc = CURLE_OK;
    char ua[64];
    snprintf(ua, sizeof ua, "attune-deliver/%s", ATTUNE_VERSION);
    /* NOSIGNAL: senders run on worker threads, where curl's SIGALRM-based
     * resolver timeout is unsafe. */
    rc |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(c, CURLOPT_URL, opts->url);
    rc |= curl_easy_setopt(c, CURLOPT_POST, 1L);
    rc |= curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
    rc |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opts->timeout_ms);
    rc |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, opts->connect_timeout_ms);
    rc |= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    rc |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    rc |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    rc |= curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
    rc |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    rc |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
    rc |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    if (rc != CURLE_OK) {
        sender_free(s);
        return ATTUNE_ERR_CONFIG;
    }
    *out = s;
    return ATTUNE_OK;
}

void sender_free(sender *s)
{
    if (!s)
        return;
    curl_easy_cleanup(s->curl);
    if (s->auth_header) {
        /* A secret: do not leave it in freed memory. */
        memset(s->auth_header, 0, strlen(s->auth_header));
        free(s->auth_header);
    }
    free(s);
}

static struct curl_slist *add(struct curl_slist *l, const char *h, int *failed)
{
    struct curl_slist *n = curl_slist_append(l, h);
    if (!n) {
        *failed = 1;
        return l;
    }
    return n;
}

attune_err sender_post(sender *s, const char *body, size_t body_len, const char *idempotency_key,
                       const char *traceparent, sender_result *r)
{
    memset(r, 0, sizeof *r);
    char idem[300], tp[160], sig[SIGN_HEADER_MAX + 32];
    int failed = 0;
    struct curl_slist *h = NULL;
    h = add(h, "Content-Type: application/cloudevents+json", &failed);
    /* curl would send "Expect: 100-continue" for large bodies and wait for
     * an answer many servers never give. */
    h = add(h, "Expect:", &failed);
    snprintf(idem, sizeof idem, "Idempotency-Key: %s", idempotency_key);
    h = add(h, idem, &failed);
    if (s->auth_header)
        h = add(h, s->auth_header, &failed);
    if (s->opts.hmac_key && *s->opts.hmac_key) {
        char value[SIGN_HEADER_MAX];
        attune_err err = sign_header(s->opts.hmac_key, strlen(s->opts.hmac_key), ts_now_ms() / 1000,
                                     body, body_len, value, sizeof value);
        if (err) {
            curl_slist_free_all(h);
            return err;
        }
        snprintf(sig, sizeof sig, "X-Attune-Signature: %s", value);
        h = add(h, sig, &failed);
    }
    if (traceparent && *traceparent) {
        snprintf(tp, sizeof tp, "traceparent: %s", traceparent);
        h = add(h, tp, &failed);
    }
    if (failed) {
        curl_slist_free_all(h);
        return ATTUNE_ERR_NOMEM;
    }
    CURL *c = s->curl;
    CURLcode rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    rc |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->detail);
    if (rc != CURLE_OK) {
        curl_slist_free_all(h);
        return ATTUNE_ERR_CONFIG;
    }
    s->current = r;
    double t0 = ts_mono();
    CURLcode res = curl_easy_perform(c);
    r->seconds = ts_mono() - t0;
    s->current = NULL;
    if (res == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        r->detail[0] = '\0';
    } else {
        r->status = 0;
        r->aborted = res == CURLE_ABORTED_BY_CALLBACK;
        snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(res));
    }
    /* The handle must not point at buffers that die with this call. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(h);
    return ATTUNE_OK;
}
