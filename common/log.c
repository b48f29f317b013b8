#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

log_level log_threshold = LOG_LVL_INFO;
static const char *log_service = "attune";

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *service, log_level threshold)
{
    log_service = service;
    log_threshold = threshold;
}

int log_level_parse(const char *s, log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_write(log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[64];
    size_t n = strftime(ts, sizeof ts - 6, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)(tv.tv_usec / 1000) % 1000);

    /* One write(2) per line so lines from several threads never interleave. */
    buf b;
    buf_init(&b, 8192);
    attune_err err =
        buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"service\":", ts, level_names[level]);
    if (!err)
        err = buf_json_str(&b, log_service);
    if (!err)
        err = buf_puts(&b, ",\"msg\":");
    if (!err)
        err = buf_json_str(&b, msg);
    if (!err)
        err = buf_puts(&b, "}\n");
    if (!err) {
        ssize_t w = write(STDERR_FILENO, b.data, b.len);
        (void)w;
    }
    buf_fini(&b);
}
