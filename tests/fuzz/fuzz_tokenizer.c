/* libFuzzer harness: the tokenizer and the whole classify_text pipeline on
 * arbitrary bytes (invalid UTF-8, huge runs, emoticon fragments). The
 * classifier is loaded once from $ATTUNE_DATA_DIR or deploy/data; without
 * it only the tokenizer is fuzzed. The tokenizer's one-pass path for plain
 * ASCII words is checked against the general path, token by token, on the
 * input and on word-like text made from it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "classify/classify_int.h"

static classify *clf;
static int tried;
static ctok_buf tb, tb_slow;

/* The one-pass path for plain ASCII words must change nothing. */
static void check_fast_path(const char *text, size_t size)
{
    ctok_run_opts(text, size, &tb, 1);
    if (tb.n > CLASSIFY_MAX_TOKENS || tb.norm_used > sizeof tb.norm)
        abort();
    ctok_run_opts(text, size, &tb_slow, 0);
    if (tb_slow.n != tb.n || tb_slow.norm_used != tb.norm_used ||
        memcmp(tb_slow.norm, tb.norm, tb.norm_used) != 0 || tb_slow.truncated != tb.truncated ||
        tb_slow.n_words != tb.n_words || tb_slow.n_nums != tb.n_nums ||
        tb_slow.all_caps_text != tb.all_caps_text || tb_slow.title_text != tb.title_text)
        abort();
    unsigned nums = 0;
    for (size_t i = 0; i < tb.n; i++)
        nums += tb.tok[i].kind == CTOK_NUM;
    if (nums != tb.n_nums)
        abort();
    for (size_t i = 0; i < tb.n; i++)
        if (memcmp(&tb_slow.tok[i], &tb.tok[i], sizeof tb.tok[i]) != 0)
            abort();
    /* a token's hash is the hash of its normalised bytes, hash1 that of
     * the bytes with every run squeezed to one */
    for (size_t i = 0; i < tb.n; i++) {
        const ctok *t = &tb.tok[i];
        const char *w = ctok_text(&tb, i);
        char sq[CTOK_MAX_LEN];
        size_t m = 0;
        for (size_t k = 0; k < t->norm_len; k++)
            if (k == 0 || w[k] != w[k - 1])
                sq[m++] = w[k];
        if (t->hash != ctok_hash_bytes(w, t->norm_len) ||
            t->hash1 != ((t->flags & CTOK_F_ELONG) ? ctok_hash_bytes(sq, m) : t->hash))
            abort();
    }
}

/* Random bytes seldom make words: the same input read as text made of the
 * pieces where the fast path and read_word part ways (capitals, runs of
 * one letter, apostrophes, digits with : . , between them, '*' '_', UTF-8
 * letters and apostrophes, invisible format characters, emoticons that
 * begin with letters, web addresses and handles, which take a token back or
 * make none), long enough to reach
 * the caps on text and tokens. */
static void check_wordy(const uint8_t *data, size_t size)
{
    static const char *const piece[32] = {
        "a",   "A",  "b",        "\xe2\x80\x8b", "1",  "0",    " ",        "'",     ".",   ",",
        ":",   "*_", "\xc3\xa9", "\xe2\x80\x99", "xD", "\xff", "http",     "https", "://", "@",
        "@a_", "#",  "/",        "HTTP",         "(",  " @",   "\xc2\xad", "b ",    "1 ",  "x",
        "-",   "?",
    };
    static char text[CLASSIFY_MAX_TEXT + 64];
    size_t n = 0;
    for (size_t i = 0; i < size && n + 8 < sizeof text; i++) {
        const char *pc = piece[data[i] & 31];
        size_t len = strlen(pc), rep = 1 + (data[i] >> 6);
        for (size_t r = 0; r < rep && n + len < sizeof text; r++, n += len)
            memcpy(text + n, pc, len);
    }
    check_fast_path(text, n);
}

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
    check_wordy(data, size);
    check_fast_path((const char *)data, size);
    ctok_run((const char *)data, size, &tb);
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
