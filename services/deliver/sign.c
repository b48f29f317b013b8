#include "sign.h"

#include <stdio.h>

#include "hmac.h"

attune_err sign_header(const char *key, size_t key_len, int64_t t, const char *body,
                       size_t body_len, char *out, size_t out_size)
{
    char ts[24];
    int ts_len = snprintf(ts, sizeof ts, "%lld", (long long)t);
    if (ts_len <= 0 || (size_t)ts_len >= sizeof ts || out_size < SIGN_HEADER_MAX)
        return ATTUNE_ERR_LIMIT;
    /* The signed input is "<t>.<body>": binding the timestamp lets the
     * receiver refuse replays older than its tolerance. */
    const hmac_part parts[] = {{ts, (size_t)ts_len}, {".", 1}, {body, body_len}};
    char mac[HMAC_SHA256_HEX_LEN + 1];
    attune_err err = hmac_sha256_hex(key, key_len, parts, 3, mac);
    if (err)
        return err;
    snprintf(out, out_size, "t=%s,v1=%s", ts, mac);
    return ATTUNE_OK;
}
