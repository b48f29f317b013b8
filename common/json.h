/* json: the project's way in and out of cJSON. Parsing checks the nesting
 * depth on the raw bytes before cJSON recurses, and requires valid UTF-8
 * without NUL, raw or as the escape \u0000 (cJSON would end the string
 * there), and member names unique within each object (lookups would see
 * one member, the printed tree both).
 * Trees returned through `cJSON **out` belong to the caller (cJSON_Delete);
 * strings from json_print belong to the caller (free). */
#ifndef ATTUNE_JSON_H
#define ATTUNE_JSON_H

#include <cJSON.h>
#include <stddef.h>

#include "err.h"

/* 0 when p[0..n) is valid UTF-8 (no overlongs, no surrogates). */
int json_utf8_valid(const char *p, size_t n);

/* The length of the longest prefix of p[0..n) that has at most max bytes
 * and does not end inside a character: the byte after it is no UTF-8
 * continuation byte (on text that is not UTF-8, the same rule, so the
 * tokenizer's cut of raw input uses it too). */
size_t json_utf8_cut(const char *p, size_t n, size_t max);

/* Appends "/" and name to the NUL-terminated JSON pointer in out (size
 * bytes) as one reference token, escaped as RFC 6901 says ("~" as "~0",
 * "/" as "~1"). At most max bytes of name are taken, and what does not fit
 * in out is left off, never in the middle of a character or an escape.
 * Returns the new length of out. */
size_t json_pointer_append(char *out, size_t size, const char *name, size_t max);

attune_err json_parse(const char *p, size_t n, int max_depth, cJSON **out, char *errstr,
                      size_t errstr_size) ATTUNE_MUST_CHECK;

/* Unformatted JSON text; NULL on allocation failure. */
char *json_print(const cJSON *item);

/* Writes s as a JSON string (quotes included) into buf, escaped as
 * cJSON_PrintUnformatted escapes it, and returns the length written; 0
 * when it does not fit (buf is then unspecified). No terminating NUL. */
size_t json_write_string(char *buf, size_t size, const char *s);

/* Writes a string item, or a number item that cJSON would print as an
 * integer, exactly as cJSON_PrintUnformatted prints it, without allocating
 * (the hot path of line-by-line tools). Returns the length, or 0 for any
 * other item or when it does not fit: use json_print then. */
size_t json_write_scalar(char *buf, size_t size, const cJSON *item);

/* Writes v as a JSON number with the fewest significant digits (15 to 17)
 * that read back as v exactly, so that an integer up to 2^53 keeps every
 * digit. Returns the length (no terminating NUL), or 0 for inf and NaN,
 * which JSON cannot hold, or when it does not fit. */
size_t json_write_number(char *buf, size_t size, double v);

/* Borrowed string member or NULL when absent or not a string. */
const char *json_str(const cJSON *obj, const char *name);

/* Sets member name of obj to item (taken), replacing the one there. */
void json_set(cJSON *obj, const char *name, cJSON *item);

#endif
