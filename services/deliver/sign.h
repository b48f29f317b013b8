/* sign: the X-Attune-Signature header value of attune-deliver,
 * "t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>" (docs/deliver.md
 * shows how a receiver checks it). Pure. */
#ifndef ATTUNE_DELIVER_SIGN_H
#define ATTUNE_DELIVER_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Room for "t=" + 20 digits + ",v1=" + 64 hex digits + NUL. */
#define SIGN_HEADER_MAX 96

/* Writes the header value (without the name) into out (at least
 * SIGN_HEADER_MAX bytes). key is not logged or kept. */
attune_err sign_header(const char *key, size_t key_len, int64_t t, const char *body,
                       size_t body_len, char *out, size_t out_size) ATTUNE_MUST_CHECK;

#endif
