#include "files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int files_find(const char *explicit, const char *repo_relative, const char *system_path, char *out,
               size_t out_size)
{
    int n;
    if (explicit && explicit[0]) {
        n = snprintf(out, out_size, "%s", explicit);
        return n < 0 || (size_t)n >= out_size ? -1 : 0;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            n = snprintf(out, out_size, "%s/../../%s", exe, repo_relative);
            if (n > 0 && (size_t)n < out_size && access(out, F_OK) == 0)
                return 0;
        }
    }
    n = snprintf(out, out_size, "%s", system_path);
    return n < 0 || (size_t)n >= out_size ? -1 : 0;
}

attune_err files_read(const char *path, size_t max, char **out, size_t *len, char *errstr,
                      size_t errstr_size)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return attune_errf(ATTUNE_ERR_IO, errstr, errstr_size, "cannot read %s: %s", path,
                           strerror(errno));
    char *data = malloc(max + 1);
    if (!data) {
        fclose(f);
        return attune_errf(ATTUNE_ERR_NOMEM, errstr, errstr_size, "out of memory reading %s", path);
    }
    size_t n = fread(data, 1, max, f);
    int failed = ferror(f);
    int more = !failed && n == max && fgetc(f) != EOF;
    fclose(f);
    if (failed || more) {
        free(data);
        if (failed)
            return attune_errf(ATTUNE_ERR_IO, errstr, errstr_size, "cannot read %s", path);
        return attune_errf(ATTUNE_ERR_LIMIT, errstr, errstr_size, "%s is larger than %zu bytes",
                           path, max);
    }
    data[n] = '\0';
    *out = data;
    *len = n;
    return ATTUNE_OK;
}
