/* buf: a growing byte buffer with a hard maximum. The buffer owns data;
 * buf_fini frees it. Appends that would pass max fail with ATTUNE_ERR_LIMIT
 * and leave the buffer unchanged. data is always NUL-terminated. */
#ifndef ATTUNE_BUF_H
#define ATTUNE_BUF_H

#include <stddef.h>

#include "err.h"

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} buf;

void buf_init(buf *b, size_t max);
void buf_fini(buf *b);
void buf_reset(buf *b);
attune_err buf_append(buf *b, const void *p, size_t n) ATTUNE_MUST_CHECK;
attune_err buf_puts(buf *b, const char *s) ATTUNE_MUST_CHECK;
attune_err buf_printf(buf *b, const char *fmt, ...) ATTUNE_MUST_CHECK
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes included). */
attune_err buf_json_str(buf *b, const char *s) ATTUNE_MUST_CHECK;
/* Hands data to the caller (free() it) and resets the buffer. */
char *buf_steal(buf *b, size_t *len);

#endif
