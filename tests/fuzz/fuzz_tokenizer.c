/* libFuzzer harness: the tokenizer and the whole classify_text pipeline on
 * arbitrary bytes (invalid UTF-8, huge runs, emoticon fragments). The
 * classifier is loaded once from $ATTUNE_DATA_DIR or deploy/data; without
 * it only the tokenizer is fuzzed. The tokenizer's one-pass path for plain
 * ASCII words is checked against the general path, token by token. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "classify/classify_int.h"

static classify *clf;
static int tried;
static ctok_buf tb, tb_slow;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!tried) {
        tried = 1;
        const char *dir = getenv("ATTUNE_DATA_DIR");
        classify_options o = {.data_dir = dir && dir[0] ? dir : "deploy/data",
                              .intent_model = NULL};
        char err[256];
        if (classify_new(&o, &clf, err, sizeof err) != ATTUNE_OK)
            clf = NULL;
    }
    ctok_run((const char *)data, size, &tb);
    if (tb.n > CLASSIFY_MAX_TOKENS || tb.norm_used > sizeof tb.norm)
        abort();
    /* the one-pass path for plain ASCII words must change nothing */
    ctok_run_opts((const char *)data, size, &tb_slow, 0);
    if (tb_slow.n != tb.n || tb_slow.norm_used != tb.norm_used ||
        memcmp(tb_slow.norm, tb.norm, tb.norm_used) != 0 || tb_slow.truncated != tb.truncated ||
        tb_slow.n_words != tb.n_words || tb_slow.all_caps_text != tb.all_caps_text ||
        tb_slow.title_text != tb.title_text)
        abort();
    for (size_t i = 0; i < tb.n; i++)
        if (memcmp(&tb_slow.tok[i], &tb.tok[i], sizeof tb.tok[i]) != 0)
            abort();
    for (size_t i = 0; i < tb.n; i++) {
        const ctok *t = &tb.tok[i];
        if (t->norm_len == 0 || t->norm_off + t->norm_len > tb.norm_used ||
            t->norm_len > CTOK_MAX_LEN || (size_t)t->src_off + t->src_len > size)
            abort();
    }
    if (clf) {
        classify_result r;
        if (classify_text(clf, (const char *)data, size, NULL, &r) != ATTUNE_OK)
            abort();
        if (!(r.sentiment.score >= -1.0f && r.sentiment.score <= 1.0f))
            abort();
        static char out[CLASSIFY_JSON_MAX];
        size_t n = classify_result_write_json(&r, out, sizeof out);
        if (n == 0 || n >= sizeof out)
            abort();
        cJSON *j = NULL;
        if (classify_result_to_json(&r, &j) == ATTUNE_OK) {
            char *s = cJSON_PrintUnformatted(j);
            cJSON_free(s);
            cJSON_Delete(j);
        }
    }
    return 0;
}
