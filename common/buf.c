#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_fini(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static attune_err buf_reserve(buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return ATTUNE_ERR_LIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return ATTUNE_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return ATTUNE_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return ATTUNE_OK;
}

attune_err buf_append(buf *b, const void *p, size_t n)
{
    attune_err err = buf_reserve(b, n);
    if (err)
        return err;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ATTUNE_OK;
}

attune_err buf_puts(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

attune_err buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ATTUNE_ERR_INVALID;
    attune_err err = buf_reserve(b, (size_t)n);
    if (err)
        return err;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ATTUNE_OK;
}

attune_err buf_json_str(buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    attune_err err = buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; !err && *p; p++) {
        switch (*p) {
        case '"':
            err = buf_append(b, "\\\"", 2);
            break;
        case '\\':
            err = buf_append(b, "\\\\", 2);
            break;
        case '\n':
            err = buf_append(b, "\\n", 2);
            break;
        case '\r':
            err = buf_append(b, "\\r", 2);
            break;
        case '\t':
            err = buf_append(b, "\\t", 2);
            break;
        default:
            if (*p < 0x20) {
                char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
                err = buf_append(b, esc, sizeof esc);
            } else {
                err = buf_append(b, p, 1);
            }
        }
    }
    if (!err)
        err = buf_append(b, "\"", 1);
    return err;
}

char *buf_steal(buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    if (!p) {
        p = calloc(1, 1);
        if (len)
            *len = 0;
    }
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
