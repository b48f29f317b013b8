/* files: finding attune's shipped files (data, policies) in a source tree
 * or an installed system, and reading a whole file with a size cap. */
#ifndef ATTUNE_FILES_H
#define ATTUNE_FILES_H

#include <stddef.h>

#include "err.h"

/* Writes into out the first of: explicit (a configured path; NULL or empty
 * when none), <directory of the executable>/../../<repo_relative> (a binary
 * in build/bin/ of a source tree) when it exists, system_path. -1 when out
 * is too small. */
int files_find(const char *explicit, const char *repo_relative, const char *system_path, char *out,
               size_t out_size);

/* Reads path into *out (malloc'd, NUL-terminated, caller frees).
 * ATTUNE_ERR_LIMIT when the file holds more than max bytes, ATTUNE_ERR_IO
 * when it cannot be read; errstr says which. */
attune_err files_read(const char *path, size_t max, char **out, size_t *len, char *errstr,
                      size_t errstr_size) ATTUNE_MUST_CHECK;

#endif
