/* libFuzzer harness: the parser of `attune-classify --batch` input lines
 * (JSON, ids, text, context with its types and limits). */
#include <stdint.h>
#include <stdlib.h>

#include "classify/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    classify_batch_item item;
    cJSON *id = NULL;
    char err[256];
    attune_err rc =
        classify_batch_parse_line((const char *)data, size, &item, &id, err, sizeof err);
    if (rc == ATTUNE_OK) {
        if (!item.root || !item.text)
            abort();
        if (item.ctx.wait_seconds < -1 || item.ctx.contacts_24h < -1)
            abort();
        classify_batch_item_fini(&item);
    } else if (item.root) {
        abort(); /* nothing may be held after a failure */
    }
    cJSON_Delete(id);
    return 0;
}
