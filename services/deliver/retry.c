#include "retry.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

retry_verdict retry_classify(long status)
{
    if (status >= 200 && status < 300)
        return RETRY_DELIVERED;
    if (status == 0 || status == 408 || status == 429 || status >= 500)
        return RETRY_AGAIN;
    /* 1xx as a final answer, 3xx (redirects are not followed: the URL is
     * configured, a redirect is a misconfiguration) and other 4xx. */
    return RETRY_REJECT;
}

int retry_endpoint_failed(long status)
{
    return status == 0 || status >= 500;
}

int retry_endpoint_down(long status)
{
    return status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
}

int retry_honours_retry_after(long status)
{
    return status == 429 || status == 503;
}

long retry_backoff_ms(long attempts, long base_ms, long max_ms, uint32_t rnd)
{
    if (base_ms < 0)
        base_ms = 0;
    if (max_ms < 0)
        max_ms = 0;
    long cap = base_ms < max_ms ? base_ms : max_ms;
    /* Double until the cap is reached; stops early so nothing overflows. */
    for (long i = 1; i < attempts && cap < max_ms; i++)
        cap = cap > max_ms / 2 ? max_ms : cap * 2;
    return (long)(rnd % ((uint64_t)cap + 1));
}

int retry_after_parse(const char *value, int64_t now_s, long max_ms, long *out)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (*value == '\0')
        return -1;
    int64_t wait_s;
    if (isdigit((unsigned char)*value)) {
        char *end = NULL;
        errno = 0;
        long long s = strtoll(value, &end, 10);
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end != '\0')
            return -1;
        /* An absurd delta is still "wait as long as you allow". */
        wait_s = errno == ERANGE ? INT64_MAX / 1000 : (int64_t)s;
    } else {
        /* curl_getdate reads all three HTTP-date forms (RFC 9110 5.6.7);
         * it is a pure parser. */
        time_t t = curl_getdate(value, NULL);
        if (t == (time_t)-1)
            return -1;
        wait_s = (int64_t)t - now_s;
        if (wait_s < 0)
            wait_s = 0;
    }
    if (wait_s > INT64_MAX / 1000)
        wait_s = INT64_MAX / 1000;
    int64_t ms = wait_s * 1000;
    *out = ms > max_ms ? max_ms : (long)ms;
    return 0;
}

uint32_t retry_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}
