#include "hmac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

attune_err hmac_sha256_hex(const void *key, size_t key_len, const hmac_part *parts, size_t count,
                           char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    attune_err err = ATTUNE_ERR_NOMEM;
    /* EVP_MAC (OpenSSL 3) instead of HMAC_CTX, which 3.0 deprecates. An
     * empty key is legal for HMAC, but EVP wants a non-NULL pointer. */
    static const unsigned char empty_key[1] = {0};
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (!ctx || !EVP_MAC_init(ctx, key_len ? key : empty_key, key_len, params))
        goto out;
    for (size_t i = 0; i < count; i++)
        if (parts[i].len && !EVP_MAC_update(ctx, parts[i].data, parts[i].len))
            goto out;
    if (!EVP_MAC_final(ctx, mac, &mac_len, sizeof mac) || mac_len != HMAC_SHA256_HEX_LEN / 2)
        goto out;
    for (size_t i = 0; i < mac_len; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[2 * mac_len] = '\0';
    err = ATTUNE_OK;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    return err;
}
