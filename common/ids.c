#include "ids.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static void random_bytes(unsigned char *p, size_t n)
{
    ssize_t got = getrandom(p, n, 0);
    if (got == (ssize_t)n)
        return;
    /* getrandom cannot fail for small sizes after boot; keep a weak fallback
     * rather than returning zeros. */
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t x = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 32) ^ (uintptr_t)p;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        p[i] = (unsigned char)x;
    }
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void ids_uuid4(char out[IDS_UUID_LEN])
{
    unsigned char b[16];
    char h[33];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    hex(b, sizeof b, h);
    snprintf(out, IDS_UUID_LEN, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static int all_hex(const char *s, size_t n, int *nonzero)
{
    *nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
        if (c != '0')
            *nonzero = 1;
    }
    return 1;
}

int ids_traceparent_valid(const char *s)
{
    int nz_trace, nz_span, nz;
    if (!s || strlen(s) != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-')
        return 0;
    return s[0] == '0' && s[1] == '0' && all_hex(s + 3, 32, &nz_trace) && nz_trace &&
           all_hex(s + 36, 16, &nz_span) && nz_span && all_hex(s + 53, 2, &nz);
}

void ids_traceparent_new(char out[IDS_TRACEPARENT_LEN])
{
    unsigned char b[24];
    char h[49];
    random_bytes(b, sizeof b);
    b[0] |= 1;  /* never an all-zero trace id */
    b[16] |= 1; /* nor span id */
    hex(b, sizeof b, h);
    snprintf(out, IDS_TRACEPARENT_LEN, "00-%.32s-%.16s-01", h, h + 32);
}

void ids_traceparent_child(const char *parent, char out[IDS_TRACEPARENT_LEN])
{
    unsigned char b[8];
    char h[17];
    random_bytes(b, sizeof b);
    b[0] |= 1;
    hex(b, sizeof b, h);
    snprintf(out, IDS_TRACEPARENT_LEN, "00-%.32s-%s-%.2s", parent + 3, h, parent + 53);
}
