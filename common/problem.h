/* problem: RFC 9457 problem documents (application/problem+json) and the
 * field-level error that validators fill in. */
#ifndef ATTUNE_PROBLEM_H
#define ATTUNE_PROBLEM_H

#include <stddef.h>

/* A validation error: a JSON pointer into the request ("/data/customer_id",
 * "/3/data/text") and what is wrong there. */
typedef struct {
    char pointer[160];
    char detail[320];
} problem_field;

void problem_field_set(problem_field *pf, const char *prefix, const char *path, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

/* Returns the document as a malloc'd string (caller frees), NULL on
 * allocation failure. slug names the problem type
 * ("urn:attune:problem:<slug>"); field may be NULL. */
char *problem_json(int status, const char *slug, const char *title, const char *detail,
                   const problem_field *field);

#endif
