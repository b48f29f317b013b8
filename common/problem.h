/* problem: RFC 9457 problem documents (application/problem+json) and the
 * field-level error that validators fill in. */
#ifndef ATTUNE_PROBLEM_H
#define ATTUNE_PROBLEM_H

#include <cJSON.h>
#include <stddef.h>

#include "err.h"

/* A validation error: a JSON pointer into the request ("/data/customer_id",
 * "/3/data/text") and what is wrong there. */
typedef struct {
    char pointer[160];
    char detail[320];
} problem_field;

void problem_field_set(problem_field *pf, const char *prefix, const char *path, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

/* Checks an attribute's value (CloudEvent extensions, interaction
 * attributes): a string of at most max_bytes (else ATTUNE_ERR_LIMIT), a
 * number, a boolean or null (else ATTUNE_ERR_INVALID); pf says which. */
attune_err problem_check_flat(const cJSON *v, size_t max_bytes, problem_field *pf,
                              const char *prefix, const char *path);

/* Returns the document as a malloc'd string (caller frees), NULL on
 * allocation failure. slug names the problem type
 * ("urn:attune:problem:<slug>"); field may be NULL. */
char *problem_json(int status, const char *slug, const char *title, const char *detail,
                   const problem_field *field);
/* The same document as a tree (caller deletes), for a caller that adds
 * extension members (RFC 9457 section 3.2); NULL on allocation failure. */
cJSON *problem_new(int status, const char *slug, const char *title, const char *detail,
                   const problem_field *field);

#endif
