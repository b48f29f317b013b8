/* libFuzzer harness: the intent model loader (intent_model_load) on
 * arbitrary files, versions 3 and 4 (heads), refused or loaded, never a
 * crash, a leak or a model whose tables disagree with its columns. The
 * model file is written by attune-train, but a file on disk can be cut
 * short or edited by hand. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify/classify_int.h"

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/attune-fuzz-model-%ld", (long)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    if (size && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return 0;
    }
    fclose(f);
    intent_model m;
    char err[256];
    if (intent_model_load(&m, path, err, sizeof err) == ATTUNE_OK) {
        if (m.n_class < 2 || m.n_head > INTENT_MAX_HEADS || m.n_col != m.n_class + m.n_head ||
            m.stride % 12 != 0 || m.n_col > m.stride)
            abort();
        for (size_t h = 0; h < m.n_head; h++)
            if (!(m.heads[h].at > 0.0f && m.heads[h].at < 1.0f))
                abort();
        intent_model_fini(&m);
    } else if (!err[0]) {
        abort(); /* a refusal always says why */
    }
    return 0;
}
