#include "err.h"

#include <stdarg.h>
#include <stdio.h>

const char *attune_err_str(attune_err err)
{
    switch (err) {
    case ATTUNE_OK:
        return "ok";
    case ATTUNE_ERR_NOMEM:
        return "out of memory";
    case ATTUNE_ERR_INVALID:
        return "invalid";
    case ATTUNE_ERR_LIMIT:
        return "limit exceeded";
    case ATTUNE_ERR_PARSE:
        return "parse error";
    case ATTUNE_ERR_CONFIG:
        return "configuration error";
    case ATTUNE_ERR_IO:
        return "i/o error";
    case ATTUNE_ERR_KAFKA:
        return "kafka error";
    case ATTUNE_ERR_REDIS:
        return "redis error";
    case ATTUNE_ERR_TIMEOUT:
        return "timeout";
    case ATTUNE_ERR_NOT_FOUND:
        return "not found";
    case ATTUNE_ERR_STOPPED:
        return "stopped";
    case ATTUNE_ERR_TOO_LARGE:
        return "record too large for Kafka";
    case ATTUNE_ERR_CONFLICT:
        return "conflict";
    }
    return "unknown error";
}

attune_err attune_errf(attune_err err, char *errstr, size_t errstr_size, const char *fmt, ...)
{
    if (errstr && errstr_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return err;
}
