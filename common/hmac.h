/* hmac: HMAC-SHA256 over a message given in pieces (OpenSSL's EVP_MAC), as
 * lowercase hex. Pure: no I/O, no global state of ours; safe from any
 * thread. Callers own every buffer. */
#ifndef ATTUNE_HMAC_H
#define ATTUNE_HMAC_H

#include <stddef.h>

#include "err.h"

#define HMAC_SHA256_HEX_LEN 64

typedef struct {
    const void *data;
    size_t len;
} hmac_part;

/* MACs the concatenation of parts[0..count) under key and writes 64 hex
 * digits and a NUL into out (at least HMAC_SHA256_HEX_LEN + 1 bytes).
 * ATTUNE_ERR_NOMEM when OpenSSL could not set up the MAC. */
attune_err hmac_sha256_hex(const void *key, size_t key_len, const hmac_part *parts, size_t count,
                           char *out) ATTUNE_MUST_CHECK;

#endif
