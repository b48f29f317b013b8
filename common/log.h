/* log: one JSON object per line on stderr. The level is checked before any
 * formatting. Never pass secrets or customer free text to these calls. */
#ifndef ATTUNE_LOG_H
#define ATTUNE_LOG_H

typedef enum { LOG_LVL_DEBUG = 0, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR } log_level;

extern log_level log_threshold;

/* service is borrowed and must outlive logging (a string literal). */
void log_init(const char *service, log_level threshold);
/* Returns 0 and sets *out for debug|info|warn|error, -1 otherwise. */
int log_level_parse(const char *s, log_level *out);
void log_write(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(lvl, ...)                                                                           \
    do {                                                                                           \
        if ((lvl) >= log_threshold)                                                                \
            log_write((lvl), __VA_ARGS__);                                                         \
    } while (0)
#define log_debug(...) log_at(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_at(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_at(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_LVL_ERROR, __VA_ARGS__)

#endif
