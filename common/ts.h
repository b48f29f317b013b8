/* ts: wall-clock and monotonic time in milliseconds, RFC 3339 timestamps. */
#ifndef ATTUNE_TS_H
#define ATTUNE_TS_H

#include <stddef.h>
#include <stdint.h>

int64_t ts_now_ms(void);
/* Monotonic clock, for durations. */
double ts_mono(void);
/* Parses an RFC 3339 date-time ("2026-11-22T10:00:00Z", fractional seconds
 * and numeric offsets allowed) into milliseconds since the epoch. 0 on
 * success, -1 when malformed or out of range. */
int ts_parse_rfc3339(const char *s, int64_t *ms);
/* Formats ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (at least 32 bytes). */
void ts_format_rfc3339(int64_t ms, char *out, size_t out_size);

#endif
