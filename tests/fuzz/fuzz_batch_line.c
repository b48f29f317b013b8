/* libFuzzer harness: the parser of `attune-classify --batch` input lines
 * (JSON, ids, text, context with its types and limits), and the in-place
 * writer of ids and strings checked against cJSON's own printing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same_as_cjson(const cJSON *item)
{
    static char buf[CLASSIFY_BATCH_MAX_LINE * 6 + 8];
    if (!item)
        return;
    size_t n = json_write_scalar(buf, sizeof buf, item);
    if (n == 0) /* not written in place: the caller asks cJSON itself */
        return;
    char *ref = cJSON_PrintUnformatted(item);
    if (!ref)
        return;
    if (strlen(ref) != n || memcmp(ref, buf, n) != 0)
        abort();
    free(ref);
}

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
        /* the writer --batch uses for ids and strings must print them
         * exactly as cJSON does */
        check_same_as_cjson(item.id);
        /* a numeric id --batch writes itself reads back as the same double */
        if (cJSON_IsNumber(item.id)) {
            char num[64];
            size_t nn = json_write_number(num, sizeof num - 1, item.id->valuedouble);
            if (nn == 0)
                abort(); /* the parser lets only finite ids through */
            num[nn] = '\0';
            if (strtod(num, NULL) != item.id->valuedouble)
                abort();
        }
        cJSON *text = cJSON_CreateString(item.text);
        check_same_as_cjson(text);
        cJSON_Delete(text);
        classify_batch_item_fini(&item);
    } else if (item.root) {
        abort(); /* nothing may be held after a failure */
    }
    cJSON_Delete(id);
    return 0;
}
