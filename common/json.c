#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int json_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        size_t len;
        unsigned min;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, min = 0x10000, c &= 0x07;
        } else {
            return -1;
        }
        if ((size_t)(end - p) < len)
            return -1;
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return -1;
            c = (c << 6) | (p[i] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return -1;
        p += len;
    }
    return 0;
}

size_t json_utf8_cut(const char *p, size_t n, size_t max)
{
    if (n <= max)
        return n;
    /* p[max] is the first byte left off: while it continues a character,
     * that character is left off whole */
    while (max > 0 && ((unsigned char)p[max] & 0xC0) == 0x80)
        max--;
    return max;
}

size_t json_pointer_append(char *out, size_t size, const char *name, size_t max)
{
    size_t o = strlen(out);
    if (size - o < 2)
        return o;
    out[o++] = '/';
    size_t n = json_utf8_cut(name, strlen(name), max);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)name[i];
        size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (len > n - i)
            break; /* not UTF-8: the parser never lets such a name through */
        size_t w = c == '~' || c == '/' ? 2 : len;
        if (size - o < w + 1)
            break;
        if (w == 2 && len == 1) {
            out[o++] = '~';
            out[o++] = c == '~' ? '0' : '1';
        } else {
            memcpy(out + o, name + i, len);
            o += len;
        }
        i += len;
    }
    out[o] = '\0';
    return o;
}

typedef enum { RAW_OK, RAW_TOO_DEEP, RAW_ESCAPED_NUL, RAW_CONTROL } raw_verdict;

/* One pass over the raw bytes before cJSON sees them. The depth of [ and {
 * outside strings, so a hostile "[[[[..." never reaches cJSON's recursion.
 * And the escape \u0000 in a string or member name: cJSON decodes it into
 * the terminator of a C string, which would cut the rest off silently (a
 * validated "c1\u0000evil" stored as "c1"). An escape is a backslash and
 * the byte after it, skipped together, so "\\u0000" (an escaped
 * backslash) is not taken for one. *at is the byte offset of the escape.
 * And a control character outside a string other than JSON's white space:
 * cJSON skips any byte below a space there, so "\x01{...}" would pass. */
static raw_verdict scan_raw(const char *p, size_t n, int max_depth, size_t *at)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\') {
                if (n - i >= 6 && memcmp(p + i + 1, "u0000", 5) == 0) {
                    *at = i;
                    return RAW_ESCAPED_NUL;
                }
                i++;
            } else if (c == '"') {
                in_str = 0;
            }
        } else if (c == '"') {
            in_str = 1;
        } else if ((unsigned char)c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            *at = i;
            return RAW_CONTROL;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return RAW_TOO_DEEP;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return RAW_OK;
}

/* Objects with more members than this are checked by sorting their names,
 * smaller ones by comparing every pair (cheaper at that size). */
#define DUP_PAIRWISE_MAX 16
/* Bytes of a member name quoted in an error message. */
#define ERR_NAME_MAX 64

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A name that two members of obj share, or NULL; *nomem is set when the
 * sort could not allocate. */
static const char *repeated_name(const cJSON *obj, int *nomem)
{
    size_t n = 0;
    for (const cJSON *m = obj->child; m; m = m->next)
        n++;
    if (n <= DUP_PAIRWISE_MAX) {
        for (const cJSON *a = obj->child; a; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (strcmp(a->string, b->string) == 0)
                    return a->string;
        return NULL;
    }
    const char **names = malloc(n * sizeof *names);
    if (!names) {
        *nomem = 1;
        return NULL;
    }
    size_t i = 0;
    for (const cJSON *m = obj->child; m; m = m->next)
        names[i++] = m->string;
    qsort(names, n, sizeof *names, cmp_names);
    const char *dup = NULL;
    for (i = 1; i < n && !dup; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            dup = names[i];
    free(names);
    return dup;
}

/* Looks for a repeated member name in item and below, depth first (the
 * depth is bounded before parsing). ptr holds item's JSON pointer; on 1 it
 * holds the repeated member's (cut when it does not fit). -1: no memory. */
static int find_repeated(const cJSON *item, char *ptr, size_t size)
{
    int nomem = 0;
    if (cJSON_IsObject(item)) {
        const char *name = repeated_name(item, &nomem);
        if (nomem)
            return -1;
        if (name) {
            json_pointer_append(ptr, size, name, ERR_NAME_MAX);
            return 1;
        }
    }
    size_t len = strlen(ptr), index = 0;
    for (const cJSON *c = item->child; c; c = c->next, index++) {
        if (!cJSON_IsObject(c) && !cJSON_IsArray(c))
            continue;
        if (cJSON_IsObject(item)) {
            json_pointer_append(ptr, size, c->string, ERR_NAME_MAX);
        } else {
            char token[24];
            int w = snprintf(token, sizeof token, "/%zu", index);
            if (w > 0 && (size_t)w < size - len)
                memcpy(ptr + len, token, (size_t)w + 1);
        }
        int r = find_repeated(c, ptr, size);
        if (r)
            return r;
        ptr[len] = '\0';
    }
    return 0;
}

attune_err json_parse(const char *p, size_t n, int max_depth, cJSON **out, char *errstr,
                      size_t errstr_size)
{
    *out = NULL;
    if (n == 0)
        return attune_errf(ATTUNE_ERR_PARSE, errstr, errstr_size, "empty body");
    if (json_utf8_valid(p, n) != 0)
        return attune_errf(ATTUNE_ERR_PARSE, errstr, errstr_size, "not valid UTF-8");
    if (memchr(p, '\0', n))
        return attune_errf(ATTUNE_ERR_PARSE, errstr, errstr_size, "NUL byte in JSON text");
    size_t at = 0;
    switch (scan_raw(p, n, max_depth, &at)) {
    case RAW_TOO_DEEP:
        return attune_errf(ATTUNE_ERR_LIMIT, errstr, errstr_size,
                           "JSON nested deeper than %d levels", max_depth);
    case RAW_ESCAPED_NUL:
        return attune_errf(ATTUNE_ERR_PARSE, errstr, errstr_size,
                           "\\u0000 (NUL) in a JSON string at byte %zu", at);
    case RAW_CONTROL:
        return attune_errf(ATTUNE_ERR_PARSE, errstr, errstr_size,
                           "control character outside a JSON string at byte %zu", at);
    case RAW_OK:
        break;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(p, n, &end, 0);
    if (!root) {
        size_t off = end && end >= p ? (size_t)(end - p) : 0;
        if (!end) {
            const char *e = cJSON_GetErrorPtr();
            off = e && e >= p && e <= p + n ? (size_t)(e - p) : 0;
        }
        return attune_errf(ATTUNE_ERR_PARSE, errstr, errstr_size, "malformed JSON near byte %zu",
                           off);
    }
    /* Only whitespace may follow the value. */
    for (const char *q = end; q && q < p + n; q++) {
        if (*q != ' ' && *q != '\n' && *q != '\r' && *q != '\t') {
            cJSON_Delete(root);
            return attune_errf(ATTUNE_ERR_PARSE, errstr, errstr_size,
                               "unexpected data after JSON value at byte %zu", (size_t)(q - p));
        }
    }
    /* RFC 8259 leaves a repeated member name to the parser; cJSON keeps
     * both, lookups see the first and the record travels on with both, so
     * what is validated would not be what is published. */
    char ptr[256] = "";
    int r = find_repeated(root, ptr, sizeof ptr);
    if (r) {
        cJSON_Delete(root);
        if (r < 0)
            return attune_errf(ATTUNE_ERR_NOMEM, errstr, errstr_size, "out of memory");
        /* the pointer holds member names: cut between characters */
        static const char what[] = "duplicate member name at ";
        size_t room = errstr_size > sizeof what ? errstr_size - sizeof what : 0;
        return attune_errf(ATTUNE_ERR_PARSE, errstr, errstr_size, "%s%.*s", what,
                           (int)json_utf8_cut(ptr, strlen(ptr), room), ptr);
    }
    *out = root;
    return ATTUNE_OK;
}

char *json_print(const cJSON *item)
{
    return cJSON_PrintUnformatted(item);
}

size_t json_write_string(char *buf, size_t size, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *c = (const unsigned char *)s;
    size_t n = 0;
    if (size < 2)
        return 0;
    buf[n++] = '"';
    for (;;) {
        /* the run of bytes that need no escape, in one copy */
        const unsigned char *run = c;
        while (*c >= 0x20 && *c != '"' && *c != '\\')
            c++;
        size_t rl = (size_t)(c - run);
        /* room for the run, the longest escape (six) and the closing quote */
        if (size - n < rl + 7)
            return 0;
        memcpy(buf + n, run, rl);
        n += rl;
        if (!*c)
            break;
        unsigned ch = *c++;
        buf[n++] = '\\';
        switch (ch) {
        case '"':
        case '\\':
            buf[n++] = (char)ch;
            break;
        case '\b':
            buf[n++] = 'b';
            break;
        case '\f':
            buf[n++] = 'f';
            break;
        case '\n':
            buf[n++] = 'n';
            break;
        case '\r':
            buf[n++] = 'r';
            break;
        case '\t':
            buf[n++] = 't';
            break;
        default:
            memcpy(buf + n, "u00", 3);
            buf[n + 3] = hex[ch >> 4];
            buf[n + 4] = hex[ch & 15];
            n += 5;
        }
    }
    buf[n++] = '"';
    return n;
}

size_t json_write_scalar(char *buf, size_t size, const cJSON *item)
{
    if (cJSON_IsString(item) && item->valuestring)
        return json_write_string(buf, size, item->valuestring);
    /* an integral number in int range; cJSON keeps the sign of -0, so that
     * one goes to it as well */
    if (!cJSON_IsNumber(item) || item->valuedouble != (double)item->valueint ||
        (item->valueint == 0 && signbit(item->valuedouble)))
        return 0;
    char digits[16];
    int nd = 0;
    long long v = item->valueint;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        digits[nd++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    size_t n = 0;
    if (size < (size_t)nd + 2)
        return 0;
    if (v < 0)
        buf[n++] = '-';
    while (nd > 0)
        buf[n++] = digits[--nd];
    return n;
}

size_t json_write_number(char *buf, size_t size, double v)
{
    if (!isfinite(v))
        return 0;
    char tmp[40];
    int n = 0;
    /* the fewest significant digits that read back as v itself: cJSON
     * keeps 15 whenever they read back as nearly v, which turns the id
     * 9007199254740991 into 9.00719925474099e+15 */
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (n > 0 && strtod(tmp, NULL) == v)
            break;
    }
    if (n <= 0 || (size_t)n > size)
        return 0;
    memcpy(buf, tmp, (size_t)n);
    return (size_t)n;
}

const char *json_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void json_set(cJSON *obj, const char *name, cJSON *item)
{
    /* (cJSON's replace takes the item only when the member is there; a
     * failure, out of memory, leaves item to no one: it is freed) */
    const int ok = cJSON_GetObjectItemCaseSensitive(obj, name)
                       ? cJSON_ReplaceItemInObjectCaseSensitive(obj, name, item)
                       : cJSON_AddItemToObject(obj, name, item);
    if (!ok)
        cJSON_Delete(item);
}
