/* err: the one error enum of attune. Functions that can fail return an
 * attune_err (0 is success) and put details in a caller-provided errstr
 * buffer; results travel through out-parameters. */
#ifndef ATTUNE_ERR_H
#define ATTUNE_ERR_H

#include <stddef.h>

#define ATTUNE_MUST_CHECK __attribute__((warn_unused_result))

typedef enum {
    ATTUNE_OK = 0,
    ATTUNE_ERR_NOMEM,     /* allocation failed */
    ATTUNE_ERR_INVALID,   /* input failed validation */
    ATTUNE_ERR_LIMIT,     /* input exceeds a documented limit */
    ATTUNE_ERR_PARSE,     /* input is not well-formed (JSON, UTF-8, number) */
    ATTUNE_ERR_CONFIG,    /* configuration is missing or wrong */
    ATTUNE_ERR_IO,        /* file or socket error */
    ATTUNE_ERR_KAFKA,     /* Kafka client or broker error */
    ATTUNE_ERR_REDIS,     /* Redis unreachable or answered an error */
    ATTUNE_ERR_TIMEOUT,   /* an operation ran out of time */
    ATTUNE_ERR_NOT_FOUND, /* the thing asked for does not exist */
    ATTUNE_ERR_STOPPED,   /* shutdown was requested while waiting */
    ATTUNE_ERR_TOO_LARGE, /* Kafka refused a record as too large: a retry cannot help */
    ATTUNE_ERR_CONFLICT,  /* an id already used for other content (idempotency) */
} attune_err;

/* Static, never NULL. */
const char *attune_err_str(attune_err err);

/* Formats into errstr (if not NULL) and returns err, so callers can write
 * `return attune_errf(ATTUNE_ERR_INVALID, errstr, size, "bad %s", name);`. */
attune_err attune_errf(attune_err err, char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
