/* intent: a linear model over word unigrams and bigrams, character
 * 3-grams of each word and a passive-verb feature, trained offline by
 * attune-train (LIBLINEAR) and applied here with nothing but table look-ups
 * and additions.
 *
 * Model file (text, one record per line):
 *   attune-intent-model 3
 *   solver lr|svm|cs
 *   classes K
 *   label NAME            (K lines, in weight-column order)
 *   bias B W_1 .. W_K
 *   features N
 *   NAME<TAB>W_1 .. W_K   (N lines; NAME is the feature as printed by
 *                          classify_intent_features: w:WORD, b:WORD WORD,
 *                          c:GRAM, p:STEM)
 * A text's feature vector sums the weights of each occurrence and is scaled
 * to unit length, in training and here alike. Version 2 added p:STEM,
 * version 3 kept only character 3-grams (3-4 before: half the look-ups for
 * a word the model does not know); older models are refused (their vectors
 * were made of other features).
 *
 * Prediction does not look features up one by one: at load, each word the
 * model has a unigram for gets one row holding its unigram and all its
 * character grams (a word's grams depend on the word alone), keyed by the
 * tokenizer's hash of the word, and bigrams are keyed by the two words'
 * hashes; so a known word costs two look-ups, and only words the model has
 * never seen are split into grams (an ASCII word's 3-grams are read from a
 * table indexed by their bytes). The rows a text adds are summed in the
 * order of the definition (as they are found for a model of up to eleven
 * labels, after for a wider one), so that the sums are those of the
 * definition, bit for bit, and listed for the evidence. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify_int.h"
#include "numparse.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define INTENT_MAX_FEATURES 4000000
#define INTENT_LINE_MAX 16384
/* Prediction sums the columns of the weight rows twelve at a time: three
 * vectors of four floats, in registers. */
#define INTENT_CHUNK 12
/* row_word flags */
#define INTENT_ROW_WORD 1 /* a word row (its unigram and its grams) */
/* Weights of the feature families: whole words say more than the many
 * character n-grams that mostly back them up against typos and inflection. */
#ifndef INTENT_W_WORD
#define INTENT_W_WORD 1.0f
#endif
#ifndef INTENT_W_BIGRAM
#define INTENT_W_BIGRAM 1.0f
#endif
#ifndef INTENT_W_CHAR
#define INTENT_W_CHAR 0.5f
#endif
#define INTENT_W_PASSIVE 1.0f
/* Shortest and longest character n-gram (code points). 3 to 3 since
 * version 3 of the model: 3-4 gave 0.903 on banking77 held out, 3 alone
 * 0.901, and a word the model does not know costs half the look-ups. */
#ifndef INTENT_MIN_GRAM
#define INTENT_MIN_GRAM 3
#endif
#ifndef INTENT_MAX_GRAM
#define INTENT_MAX_GRAM 3
#endif

static uint64_t fnv_add(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* Emits one feature made of up to three parts. */
static void emit(classify_feature_fn fn, void *arg, int want_names, float wt, const char *a,
                 size_t al, const char *b, size_t bl, const char *c, size_t cl)
{
    uint64_t h = fnv_add(fnv_add(fnv_add(FNV_OFFSET, a, al), b, bl), c, cl);
    if (!h)
        h = 1;
    if (!want_names) {
        fn(h, NULL, 0, wt, arg);
        return;
    }
    char name[CTOK_MAX_LEN * 2 + 16];
    size_t n = 0;
    if (al + bl + cl < sizeof name) {
        memcpy(name + n, a, al);
        n += al;
        memcpy(name + n, b, bl);
        n += bl;
        memcpy(name + n, c, cl);
        n += cl;
    }
    name[n] = '\0';
    fn(h, name, n, wt, arg);
}

/* The text of a word for features: numbers collapse to "#" so that "2
 * weeks" and "3 weeks" share their features. */
static void word_of(const ctok_buf *tb, size_t i, const char **s, size_t *n)
{
    if (tb->tok[i].kind == CTOK_NUM) {
        *s = "#";
        *n = 1;
    } else {
        *s = ctok_text(tb, i);
        *n = tb->tok[i].norm_len;
    }
}

/* A passive or resultative verb: "was cancelled", "got canceled", "has
 * been charged", "is blocked" (an auxiliary one or two words before a word
 * ending in -ed). Its feature "p:STEM" says that something was done to the
 * customer's order, flight or card, which the word alone cannot: "my flight
 * was cancelled" is a service failure, "cancel my flight" is a request. */
static int is_aux(const char *w, size_t n)
{
    /* not "be" or "get": "it needs to be cancelled" and "can I get it
     * cancelled" are requests */
    switch (n) {
    case 2:
        return memcmp(w, "is", 2) == 0;
    case 3:
        return memcmp(w, "was", 3) == 0 || memcmp(w, "are", 3) == 0 || memcmp(w, "got", 3) == 0;
    case 4:
        return memcmp(w, "were", 4) == 0 || memcmp(w, "been", 4) == 0 || memcmp(w, "gets", 4) == 0;
    }
    return 0;
}

/* The stem of a word ending in -ed, for the passive feature: "cancelled"
 * and "canceled" both give "cancel", "stopped" gives "stop". Returns 0 when
 * the word does not end in -ed. */
static inline int ends_ed(const char *w, size_t n)
{
    return word_ends(w, n, "ed", 5);
}

static size_t passive_stem(const char *w, size_t n)
{
    if (!ends_ed(w, n))
        return 0;
    n -= 2;
    if (w[n - 1] == w[n - 2] && w[n - 1] != 'e' && w[n - 1] != 's')
        n--;
    return n;
}

/* Calls fn for every character n-gram of "<w>" (code point boundaries):
 * the FNV-1a hash of "c:<gram>", the gram's bytes and length. One running
 * hash per start serves all its lengths. */
typedef void (*gram_fn)(uint64_t hash, const char *gram, size_t len, void *arg);

static size_t word_grams(const char *w, size_t wl, gram_fn fn, void *arg)
{
    const uint64_t seed_c = fnv_add(FNV_OFFSET, "c:", 2);
    char padded[CTOK_MAX_LEN + 2];
    uint8_t starts[CTOK_MAX_LEN + 3];
    size_t pl = 0, ncp = 0, n = 0;
    if (wl > CTOK_MAX_LEN)
        wl = CTOK_MAX_LEN;
    padded[pl++] = '<';
    memcpy(padded + pl, w, wl);
    pl += wl;
    padded[pl++] = '>';
    for (size_t b = 0; b < pl; b++)
        if (((unsigned char)padded[b] & 0xC0) != 0x80)
            starts[ncp++] = (uint8_t)b;
    starts[ncp] = (uint8_t)pl;
    for (size_t s0 = 0; s0 + INTENT_MIN_GRAM <= ncp; s0++) {
        uint64_t h = seed_c;
        size_t b = starts[s0];
        for (size_t gram = 1; gram <= INTENT_MAX_GRAM && s0 + gram <= ncp; gram++) {
            for (; b < starts[s0 + gram]; b++)
                h = (h ^ (unsigned char)padded[b]) * FNV_PRIME;
            if (gram < INTENT_MIN_GRAM)
                continue;
            fn(h ? h : 1, padded + starts[s0], starts[s0 + gram] - starts[s0], arg);
            n++;
        }
    }
    return n;
}

typedef struct {
    classify_feature_fn fn;
    void *arg;
    int want_names;
} names_arg;

static void gram_to_feature(uint64_t hash, const char *gram, size_t len, void *arg)
{
    const names_arg *a = arg;
    if (!a->want_names) {
        a->fn(hash, NULL, 0, INTENT_W_CHAR, a->arg);
        return;
    }
    char name[CTOK_MAX_LEN + 8];
    memcpy(name, "c:", 2);
    memcpy(name + 2, gram, len);
    name[len + 2] = '\0';
    a->fn(hash, name, len + 2, INTENT_W_CHAR, a->arg);
}

/* The definition of the features (training calls it through
 * classify_intent_features; prediction computes the same sums from tables
 * built at load time, see intent_model_load). */
double classify_intent_features_tb(const ctok_buf *tb, int want_names, classify_feature_fn fn,
                                   void *arg)
{
    double sq = 0;
    size_t count = 0;
    const char *prev = "<s>";
    size_t prev_len = 3;
    names_arg na = {fn, arg, want_names};
    int prev_aux = 0, pprev_aux = 0;
    for (size_t i = 0; i < tb->n; i++) {
        if (tb->tok[i].kind != CTOK_WORD && tb->tok[i].kind != CTOK_NUM)
            continue;
        const char *w;
        size_t wl;
        word_of(tb, i, &w, &wl);
        emit(fn, arg, want_names, INTENT_W_WORD, "w:", 2, w, wl, "", 0);
        char pair[CTOK_MAX_LEN + 8];
        memcpy(pair, prev, prev_len);
        pair[prev_len] = ' ';
        emit(fn, arg, want_names, INTENT_W_BIGRAM, "b:", 2, pair, prev_len + 1, w, wl);
        count += 2;
        sq += INTENT_W_WORD * INTENT_W_WORD + INTENT_W_BIGRAM * INTENT_W_BIGRAM;
        size_t ng = word_grams(w, wl, gram_to_feature, &na);
        count += ng;
        sq += (double)ng * INTENT_W_CHAR * INTENT_W_CHAR;
        size_t stem = passive_stem(w, wl);
        if (stem && (prev_aux || pprev_aux)) {
            emit(fn, arg, want_names, INTENT_W_PASSIVE, "p:", 2, w, stem, "", 0);
            sq += INTENT_W_PASSIVE * INTENT_W_PASSIVE;
        }
        pprev_aux = prev_aux;
        prev_aux = is_aux(w, wl);
        prev = w;
        prev_len = wl;
    }
    if (count > 0) {
        char pair[CTOK_MAX_LEN + 8];
        memcpy(pair, prev, prev_len);
        pair[prev_len] = ' ';
        emit(fn, arg, want_names, INTENT_W_BIGRAM, "b:", 2, pair, prev_len + 1, "</s>", 4);
        sq += INTENT_W_BIGRAM * INTENT_W_BIGRAM;
    }
    return sq;
}

double classify_intent_features(const char *text, size_t len, int want_names,
                                classify_feature_fn fn, void *arg)
{
    /* the trainer calls this; its buffer would be heavy on a small stack */
    ctok_buf *tb = malloc(sizeof *tb);
    if (!tb)
        return 0;
    ctok_run(text, len, tb);
    double sq = classify_intent_features_tb(tb, want_names, fn, arg);
    free(tb);
    return sq;
}

/* --- model --------------------------------------------------------------- */

/* The key of the bigram of two words, from the tokenizer's hashes of the
 * words, so that prediction hashes no bytes for it: a multiply of each,
 * the first one's carried over from the word before. */
/* (odd, and small enough to be an instruction's immediate operand) */
#define BIGRAM_MUL_A 0x5BD1E995ULL
#define BIGRAM_MUL_B 0x27D4EB2FULL

static inline uint64_t bigram_first(uint64_t a)
{
    return a * BIGRAM_MUL_A;
}

static inline uint64_t bigram_key(uint64_t first, uint64_t b)
{
    return (first ^ b) * BIGRAM_MUL_B;
}

/* The key of a character gram in the gram table (which serves the load and
 * words outside ASCII; ASCII words read the direct table of 3-grams): up to
 * seven bytes packed into an integer with their count in the byte above
 * (so that two grams never share it), a longer gram hashed with the top bit
 * set; then multiplied by an odd constant, which mixes the bits and still
 * maps distinct integers to distinct keys. */
#define GRAM_MIX 0x9E3779B97F4A7C15ULL

static inline uint64_t gram_key(const char *g, size_t n)
{
    uint64_t k = 0;
    if (n <= 7) {
        for (size_t i = 0; i < n; i++)
            k = k << 8 | (unsigned char)g[i];
        k |= (uint64_t)n << (8 * n);
    } else {
        k = fnv_add(FNV_OFFSET, g, n) | 1ULL << 63;
    }
    return k * GRAM_MIX;
}

/* A slot holds the low 40 bits of the key under the row number plus one
 * (so that a used slot is never 0), and the key's top bits pick the slot:
 * eight bytes, so that a table can stay under a third full (short probes,
 * most look-ups of free text miss) in the space a half-full table of
 * 16-byte slots would take. Two keys that agree on the 40 bits and on the
 * slot would be taken for one (about one chance in 2^40 per probe; never
 * for two grams of up to four bytes, whose packed forms differ in the low
 * 40 bits and so do their keys). */
#define SLOT_TAG_BITS 40
#define SLOT_ROWS_MAX ((1U << (64 - SLOT_TAG_BITS)) - 2)
/* a row number plus one fits above the tag, and the slot numbers of the
 * largest table (three per key, rounded up to a power of two) in the bits
 * that pick the slot */
_Static_assert(INTENT_MAX_FEATURES <= SLOT_ROWS_MAX, "row numbers fit above the tag");
_Static_assert(INTENT_MAX_FEATURES * 3ULL <= 1ULL << (64 - SLOT_TAG_BITS), "slots fit the key");

static inline size_t slot_of(uint64_t key, size_t mask)
{
    return (size_t)(key >> SLOT_TAG_BITS) & mask;
}

/* The row of key plus one, or 0. */
static inline uint32_t slots_find(const uint64_t *slots, size_t mask, uint64_t key)
{
    for (size_t j = slot_of(key, mask);; j = (j + 1) & mask) {
        const uint64_t v = slots[j];
        if (((v ^ key) << (64 - SLOT_TAG_BITS)) == 0)
            return (uint32_t)(v >> SLOT_TAG_BITS);
        if (v == 0)
            return 0;
    }
}

/* Returns 0 when key is there already. */
static int slots_insert(uint64_t *slots, size_t mask, uint64_t key, uint32_t row)
{
    if (slots_find(slots, mask, key))
        return 0;
    size_t j = slot_of(key, mask);
    while (slots[j])
        j = (j + 1) & mask;
    slots[j] = (uint64_t)(row + 1) << SLOT_TAG_BITS | (key & ((1ULL << SLOT_TAG_BITS) - 1));
    return 1;
}

/* Adds the (raw) rows of a word's character grams, times wt, to row. */
typedef struct {
    const intent_model *m;
    float *row;
    float wt;
} fold_arg;

static void fold_gram(uint64_t hash, const char *gram, size_t len, void *arg)
{
    (void)hash;
    const fold_arg *a = arg;
    const uint32_t r1 = slots_find(a->m->gslots, a->m->gcap - 1, gram_key(gram, len));
    if (!r1)
        return;
    const float *g = a->m->rows + (size_t)r1 * a->m->stride;
    for (size_t k = 0; k < a->m->n_col; k++)
        a->row[k] += a->wt * g[k];
}

void intent_model_fini(intent_model *m)
{
    free(m->bias_w);
    free(m->bias);
    free(m->rows);
    free(m->slots);
    free(m->gslots);
    free(m->g3);
    free(m->row_word);
    free(m->row_grams);
    free(m->row_name);
    free(m->row_nlen);
    free(m->names);
    memset(m, 0, sizeof *m);
}

/* Parses k floats separated by spaces. */
static int parse_weights(char *s, float *w, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        char *end;
        errno = 0;
        /* hundreds of thousands of numbers: strtof was 90% of start-up */
        float v = numparse_float(s, &end);
        if (end == s || errno == ERANGE || !isfinite(v))
            return 0;
        w[i] = v;
        s = end;
    }
    while (*s == ' ')
        s++;
    return *s == '\0';
}

static int read_line(FILE *f, char *buf, size_t size, unsigned *lineno)
{
    if (!fgets(buf, (int)size, f))
        return -1;
    (*lineno)++;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(f))
        return 0;
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return 1;
}

static long parse_count(const char *s, const char *prefix, long max)
{
    size_t pl = strlen(prefix);
    if (strncmp(s, prefix, pl) != 0)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s + pl, &end, 10);
    if (errno || end == s + pl || *end != '\0' || v < 1 || v > max)
        return -1;
    return v;
}

/* Parses "head NAME P": the heads attune knows and the level each raises
 * the threat reading to. */
static int parse_head(const char *s, intent_head *h)
{
    static const struct {
        const char *name;
        classify_threat_level level;
    } known[] = {{"threat", CLASSIFY_THREAT_THREAT}, {"hostile", CLASSIFY_THREAT_ABUSE}};
    if (strncmp(s, "head ", 5) != 0)
        return 0;
    s += 5;
    const char *sp = strchr(s, ' ');
    if (!sp)
        return 0;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        const size_t n = strlen(known[k].name);
        if ((size_t)(sp - s) != n || memcmp(s, known[k].name, n) != 0)
            continue;
        char *end;
        errno = 0;
        const float at = strtof(sp + 1, &end);
        if (errno || end == sp + 1 || *end != '\0' || !(at > 0.0f && at < 1.0f))
            return 0;
        memcpy(h->name, known[k].name, n + 1);
        h->level = known[k].level;
        h->at = at;
        h->at_log_odds = logf(at / (1.0f - at));
        return 1;
    }
    return 0;
}

/* Whether a head before head h has this name. */
static int head_named(const intent_model *m, size_t h, const char *name)
{
    for (size_t k = 0; k < h; k++)
        if (strcmp(m->heads[k].name, name) == 0)
            return 1;
    return 0;
}

/* Rows of stride floats, 16-byte aligned (whole vectors at prediction),
 * zeroed. */
static float *alloc_rows(size_t n, size_t stride)
{
    float *w = aligned_alloc(16, n * stride * sizeof *w);
    if (w)
        memset(w, 0, n * stride * sizeof *w);
    return w;
}

/* The direct table of ASCII 3-grams (the grams of most words the model
 * does not know): a gram's row is found with no hash and no probe, and
 * the table holds where the row starts in rows (in floats), so that
 * prediction has its address with one add. Left out when the grams' bytes
 * need more than 6 bits of code (a table of a megabyte). Gram rows come
 * first. */
_Static_assert((INTENT_MAX_FEATURES + 1ULL) * (CLASSIFY_MAX_INTENTS + INTENT_CHUNK) <= UINT32_MAX,
               "a row's offset fits the direct table");
static int build_gram3_table(intent_model *m, size_t n_gram)
{
    unsigned n_codes = 0;
    for (size_t r = 0; r < n_gram; r++) {
        const unsigned char *g = (const unsigned char *)m->names + m->row_name[r] + 2;
        if (m->row_nlen[r] != 5 || (g[0] | g[1] | g[2]) >= 0x80)
            continue;
        for (size_t k = 0; k < 3; k++)
            if (!m->g3_code[g[k]])
                m->g3_code[g[k]] = (uint8_t)(n_codes < 255 ? ++n_codes : n_codes);
    }
    if (n_codes == 0 || n_codes > 63) {
        memset(m->g3_code, 0, sizeof m->g3_code);
        return 1;
    }
    m->g3_bits = n_codes < 32 ? 5 : 6;
    m->g3_mask = ((size_t)1 << (3 * m->g3_bits)) - 1;
    m->g3 = calloc((size_t)1 << (3 * m->g3_bits), sizeof *m->g3);
    if (!m->g3)
        return 0;
    for (size_t r = 0; r < n_gram; r++) {
        const unsigned char *g = (const unsigned char *)m->names + m->row_name[r] + 2;
        if (m->row_nlen[r] != 5 || (g[0] | g[1] | g[2]) >= 0x80)
            continue;
        size_t at = 0;
        for (size_t k = 0; k < 3; k++)
            at = at << m->g3_bits | m->g3_code[g[k]];
        m->g3[at] = (uint32_t)((r + 1) * m->stride);
    }
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Whether h is in the n sorted hashes at set, or is the hash of "<s>" or
 * "</s>" (which may begin or end a bigram, and are no words). */
static int has_hash(const uint64_t *set, size_t n, uint64_t h)
{
    if (h == ctok_hash_bytes("<s>", 3) || h == ctok_hash_bytes("</s>", 4))
        return 1;
    return bsearch(&h, set, n, sizeof *set, cmp_u64) != NULL;
}

/* A table of at least three slots per key: under a third full. */
static size_t table_cap(size_t keys)
{
    size_t cap = 16;
    while (cap < keys * 3)
        cap *= 2;
    return cap;
}

attune_err intent_model_load(intent_model *m, const char *path, char *errstr, size_t errstr_size)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "r");
    if (!f)
        return attune_errf(ATTUNE_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
    char *line = malloc(INTENT_LINE_MAX);
    attune_err err = ATTUNE_OK;
    unsigned lineno = 0;
    const char *why = NULL;
    size_t n_gram = 0; /* rows of character grams */
    if (!line) {
        err = ATTUNE_ERR_NOMEM;
        why = "out of memory";
        goto out;
    }
#define NEXT_LINE()                                                                                \
    do {                                                                                           \
        int rl_ = read_line(f, line, INTENT_LINE_MAX, &lineno);                                    \
        if (rl_ <= 0) {                                                                            \
            why = rl_ < 0 ? "unexpected end of file" : "line too long";                            \
            err = ATTUNE_ERR_PARSE;                                                                \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)
    NEXT_LINE();
    /* version 4 adds the heads; the features are those of version 3 */
    const int version = strcmp(line, "attune-intent-model 4") == 0   ? 4
                        : strcmp(line, "attune-intent-model 3") == 0 ? 3
                                                                     : 0;
    if (!version) {
        why = "not an attune intent model of version 3 or 4 (retrain older models with "
              "attune-train)";
        err = ATTUNE_ERR_PARSE;
        goto out;
    }
    NEXT_LINE();
    if (strncmp(line, "solver ", 7) != 0) {
        why = "want: solver NAME";
        err = ATTUNE_ERR_PARSE;
        goto out;
    }
    m->probabilistic = strcmp(line + 7, "lr") == 0;
    NEXT_LINE();
    long k = parse_count(line, "classes ", CLASSIFY_MAX_INTENTS);
    if (k < 2) {
        why = "want: classes K (2 to 128)";
        err = ATTUNE_ERR_PARSE;
        goto out;
    }
    m->n_class = (size_t)k;
    for (size_t i = 0; i < m->n_class; i++) {
        NEXT_LINE();
        size_t ll = strlen(line);
        if (strncmp(line, "label ", 6) != 0 || ll - 6 == 0 || ll - 6 >= CLASSIFY_LABEL_MAX) {
            why = "want: label NAME (shorter than 64 bytes)";
            err = ATTUNE_ERR_PARSE;
            goto out;
        }
        memcpy(m->labels[i], line + 6, ll - 6 + 1);
    }
    if (version == 4) {
        NEXT_LINE();
        long nh = strcmp(line, "heads 0") == 0 ? 0 : parse_count(line, "heads ", INTENT_MAX_HEADS);
        if (nh < 0) {
            why = "want: heads H (0 to 2)";
            err = ATTUNE_ERR_PARSE;
            goto out;
        }
        m->n_head = (size_t)nh;
        for (size_t h = 0; h < m->n_head; h++) {
            NEXT_LINE();
            if (!parse_head(line, &m->heads[h]) || head_named(m, h, m->heads[h].name)) {
                why = "want: head threat|hostile P (each once, 0 < P < 1)";
                err = ATTUNE_ERR_PARSE;
                goto out;
            }
        }
    }
    m->n_col = m->n_class + m->n_head;
    m->bias_w = calloc(m->n_col, sizeof *m->bias_w);
    if (!m->bias_w) {
        err = ATTUNE_ERR_NOMEM;
        why = "out of memory";
        goto out;
    }
    NEXT_LINE();
    {
        char *end;
        if (strncmp(line, "bias ", 5) != 0) {
            why = "want: bias B W...";
            err = ATTUNE_ERR_PARSE;
            goto out;
        }
        m->bias_value = strtof(line + 5, &end);
        if (end == line + 5 || !isfinite(m->bias_value) ||
            !parse_weights(end, m->bias_w, m->n_col)) {
            why = "bad bias line";
            err = ATTUNE_ERR_PARSE;
            goto out;
        }
    }
    NEXT_LINE();
    long nf = parse_count(line, "features ", INTENT_MAX_FEATURES);
    if (nf < 1) {
        why = "want: features N (1 to 4000000)";
        err = ATTUNE_ERR_PARSE;
        goto out;
    }
    m->n_feat = (size_t)nf;
    /* rows of whole chunks of twelve floats, which prediction sums in
     * registers (one chunk for the shipped model's ten labels and two
     * heads) */
    m->stride = (m->n_col + INTENT_CHUNK - 1) / INTENT_CHUNK * INTENT_CHUNK;
    m->rows = alloc_rows(m->n_feat + 1, m->stride);
    m->weights = m->rows ? m->rows + m->stride : NULL;
    m->bias = alloc_rows(1, m->stride);
    m->row_word = calloc(m->n_feat, sizeof *m->row_word);
    m->row_grams = calloc(m->n_feat, sizeof *m->row_grams);
    m->row_name = calloc(m->n_feat, sizeof *m->row_name);
    m->row_nlen = calloc(m->n_feat, sizeof *m->row_nlen);
    size_t names_cap = 1 << 16;
    m->names = malloc(names_cap);
    if (!m->weights || !m->bias || !m->row_word || !m->row_grams || !m->row_name || !m->row_nlen ||
        !m->names) {
        err = ATTUNE_ERR_NOMEM;
        why = "out of memory";
        goto out;
    }
    for (size_t r = 0; r < m->n_feat; r++) {
        NEXT_LINE();
        char *tab = strchr(line, '\t');
        if (!tab || tab == line) {
            why = "want: NAME<TAB>weights";
            err = ATTUNE_ERR_PARSE;
            goto out;
        }
        *tab = '\0';
        size_t nl = (size_t)(tab - line);
        if (!parse_weights(tab + 1, m->weights + r * m->stride, m->n_col)) {
            why = "bad weights";
            err = ATTUNE_ERR_PARSE;
            goto out;
        }
        if (m->names_used + nl + 1 > names_cap) {
            while (m->names_used + nl + 1 > names_cap)
                names_cap *= 2;
            char *nn = realloc(m->names, names_cap);
            if (!nn) {
                err = ATTUNE_ERR_NOMEM;
                why = "out of memory";
                goto out;
            }
            m->names = nn;
        }
        memcpy(m->names + m->names_used, line, nl + 1);
        m->row_name[r] = (uint32_t)m->names_used;
        m->row_nlen[r] = (uint16_t)nl;
        m->names_used += nl + 1;
        if (nl < 3 || line[1] != ':' || !strchr("wbcp", line[0])) {
            why = "want a feature name w:WORD, b:WORD WORD, c:GRAM or p:STEM";
            err = ATTUNE_ERR_PARSE;
            goto out;
        }
    }
    /* The rows are regrouped by family, character grams first: prediction
     * reads gram rows for every word the model does not know, and packed
     * together they share the cache. The words in -ed come after the other
     * words, so that a word's row number tells whether it may be passive. */
    {
        float *nr = alloc_rows(m->n_feat + 1, m->stride);
        uint32_t *nn = malloc(m->n_feat * sizeof *nn);
        uint16_t *nnl = malloc(m->n_feat * sizeof *nnl);
        if (!nr || !nn || !nnl) {
            free(nr);
            free(nn);
            free(nnl);
            err = ATTUNE_ERR_NOMEM;
            why = "out of memory";
            goto out;
        }
        float *nw = nr + m->stride;
        static const char family[5] = {'c', 'w', 'w', 'b', 'p'};
        size_t to = 0;
        for (size_t fam = 0; fam < 5; fam++) {
            if (fam == 2)
                m->ed_from = (int32_t)to;
            for (size_t r = 0; r < m->n_feat; r++) {
                const char *name = m->names + m->row_name[r];
                const int ed = name[0] == 'w' && passive_stem(name + 2, m->row_nlen[r] - 2U);
                if (name[0] != family[fam] || (fam == 1 && ed) || (fam == 2 && !ed))
                    continue;
                memcpy(nw + to * m->stride, m->weights + r * m->stride, m->stride * sizeof *nw);
                nnl[to] = m->row_nlen[r];
                nn[to++] = m->row_name[r];
                n_gram += fam == 0;
            }
        }
        free(m->rows);
        free(m->row_name);
        free(m->row_nlen);
        m->rows = nr;
        m->weights = nw;
        m->row_name = nn;
        m->row_nlen = nnl;
    }
    /* under a third full: most look-ups of free text miss, and a miss
     * walks to the next free slot; the grams get a table of their own,
     * small enough to stay in the cache */
    m->cap = table_cap(m->n_feat - n_gram);
    m->gcap = table_cap(n_gram);
    m->slots = calloc(m->cap, sizeof *m->slots);
    m->gslots = calloc(m->gcap, sizeof *m->gslots);
    if (!m->slots || !m->gslots) {
        err = ATTUNE_ERR_NOMEM;
        why = "out of memory";
        goto out;
    }
    /* the words' hashes, sorted, to tell whether every bigram is made of
     * words the model has rows for (see bigram_words_known) */
    size_t n_word = 0;
    uint64_t *word_hash = malloc(m->n_feat * sizeof *word_hash);
    if (!word_hash) {
        err = ATTUNE_ERR_NOMEM;
        why = "out of memory";
        goto out;
    }
    for (size_t r = 0; r < m->n_feat; r++) {
        const char *name = m->names + m->row_name[r];
        if (name[0] == 'w')
            word_hash[n_word++] = ctok_hash_bytes(name + 2, m->row_nlen[r] - 2U);
    }
    qsort(word_hash, n_word, sizeof *word_hash, cmp_u64);
    m->bigram_words_known = 1;
    for (size_t r = 0; r < m->n_feat; r++) {
        const char *name = m->names + m->row_name[r];
        size_t nl = strlen(name);
        uint64_t key;
        int fresh;
        if (name[0] == 'w')
            continue; /* words are keyed once their character grams are in */
        if (name[0] == 'c') {
            key = gram_key(name + 2, nl - 2);
            fresh = slots_insert(m->gslots, m->gcap - 1, key, (uint32_t)r);
        } else if (name[0] == 'p') {
            key = fnv_add(FNV_OFFSET, name, nl);
            fresh = slots_insert(m->slots, m->cap - 1, key, (uint32_t)r);
        } else {
            const char *sp = memchr(name + 2, ' ', nl - 2);
            if (!sp || sp == name + 2 || sp == name + nl - 1) {
                free(word_hash);
                why = "want: b:WORD WORD";
                err = ATTUNE_ERR_PARSE;
                goto out;
            }
            const uint64_t ha = ctok_hash_bytes(name + 2, (size_t)(sp - name - 2));
            const uint64_t hb = ctok_hash_bytes(sp + 1, (size_t)(name + nl - sp - 1));
            if (!has_hash(word_hash, n_word, ha) || !has_hash(word_hash, n_word, hb))
                m->bigram_words_known = 0;
            key = bigram_key(bigram_first(ha), hb);
            fresh = slots_insert(m->slots, m->cap - 1, key, (uint32_t)r);
        }
        if (!fresh) {
            free(word_hash);
            why = "duplicate feature";
            err = ATTUNE_ERR_PARSE;
            goto out;
        }
    }
    free(word_hash);
    m->num_row = -1;
    /* Second pass: a word's row becomes its unigram plus all its character
     * grams, weighted as at training, so that prediction adds one row per
     * known word instead of looking up every gram. */
    for (size_t r = 0; r < m->n_feat; r++) {
        const char *name = m->names + m->row_name[r];
        if (name[0] != 'w')
            continue;
        float *row = m->weights + r * m->stride;
        for (size_t c = 0; c < m->n_col; c++)
            row[c] *= INTENT_W_WORD;
        fold_arg fa = {m, row, INTENT_W_CHAR};
        size_t wl = strlen(name + 2);
        size_t ng = word_grams(name + 2, wl, fold_gram, &fa);
        /* the squared length counts every gram of the word, found or not
         * (a word has at most CTOK_MAX_LEN + 2 code points, so its count
         * fits a byte) */
        m->row_grams[r] = (uint8_t)ng;
        /* keyed by the word in the lexicon's table, see
         * intent_model_index_words */
        m->row_word[r] = INTENT_ROW_WORD;
        if (wl == 1 && name[2] == '#')
            m->num_row = (int32_t)r;
    }
    /* now the other rows carry their family's weight too */
    for (size_t r = 0; r < m->n_feat; r++) {
        const char *name = m->names + m->row_name[r];
        float wt = name[0] == 'c'   ? INTENT_W_CHAR
                   : name[0] == 'b' ? INTENT_W_BIGRAM
                   : name[0] == 'p' ? INTENT_W_PASSIVE
                                    : 1.0f;
        if (wt != 1.0f)
            for (size_t c = 0; c < m->n_col; c++)
                m->weights[r * m->stride + c] *= wt;
    }
    if (!build_gram3_table(m, n_gram)) {
        err = ATTUNE_ERR_NOMEM;
        why = "out of memory";
        goto out;
    }
    m->h_num = ctok_hash_bytes("#", 1);
    m->h_bos = ctok_hash_bytes("<s>", 3);
    m->h_eos = ctok_hash_bytes("</s>", 4);
    for (size_t c = 0; c < m->n_class; c++)
        m->bias[c] = m->bias_w[c] * m->bias_value;
    /* the heads' and the padding's log-odds are then -inf whatever the sums
     * there: their probabilities among the labels come out 0 (see
     * intent_predict; a head is read on its own, intent_heads) */
    for (size_t c = m->n_class; c < m->stride; c++)
        m->bias[c] = -INFINITY;
    for (size_t h = 0; h < m->n_head; h++)
        m->heads[h].bias = m->bias_w[m->n_class + h] * m->bias_value;
#undef NEXT_LINE
out:
    free(line);
    fclose(f);
    if (err) {
        intent_model_fini(m);
        return attune_errf(err, errstr, errstr_size, "%s:%u: %s", path, lineno,
                           why ? why : attune_err_str(err));
    }
    return ATTUNE_OK;
}

attune_err intent_model_index_words(const intent_model *m, lex_table *lex, char *errstr,
                                    size_t errstr_size)
{
    for (size_t r = 0; r < m->n_feat; r++) {
        if (!(m->row_word[r] & INTENT_ROW_WORD))
            continue;
        const char *name = m->names + m->row_name[r];
        attune_err err =
            lex_set_intent_row(lex, ctok_hash_bytes(name + 2, strlen(name + 2)), (int32_t)r);
        if (err)
            return attune_errf(err, errstr, errstr_size, "intent model: cannot index word %s: %s",
                               name + 2, attune_err_str(err));
    }
    return ATTUNE_OK;
}

/* --- prediction ------------------------------------------------------------ */

/* Feature rows remembered for the explanation, so that it needs no second
 * pass; past this many the scores stay exact and only the evidence looks at
 * the first hits. */
#define INTENT_MAX_HITS 2048
/* The most rows one word adds: a gram per byte, or its own row; then a
 * bigram and a passive stem. The list is summed and cut back to
 * INTENT_MAX_HITS once a word has taken it past, so it has room for them. */
#define INTENT_WORD_HITS (CTOK_MAX_LEN + 2)
/* A text of this many tokens or fewer cannot fill the list (the sums need
 * not look), nor a word add more than INTENT_WORD_HITS, see above; with
 * the closing bigram. */
#define INTENT_SHORT_TEXT ((INTENT_MAX_HITS - 1) / INTENT_WORD_HITS)

/* Four floats, added lane by lane (a GCC/Clang vector extension). */
typedef float intent_v4 __attribute__((vector_size(16)));

/* A text's features: the rows they add, in the order of the definition
 * (the word or its grams, its bigram, its passive stem; word after word),
 * which float addition needs for the same result; the sums of those rows;
 * and the counts that make the vector's length. The rows are collected
 * first and summed after (all at once, unless a long text fills the list),
 * so that the collecting loop has the registers to itself and a model of
 * many labels sums its columns without walking the text again. */
typedef struct {
    float sc[CLASSIFY_MAX_INTENTS + INTENT_CHUNK];
    size_t n_words, n_char, n_passive;
    size_t n_hit;    /* rows in hit (the evidence reads the first ones) */
    size_t n_summed; /* of them, in sc already */
    const float *hit[INTENT_MAX_HITS + INTENT_WORD_HITS];
} intent_sums;

/* Whether the n bytes at w are all ASCII, read eight or four at a time
 * (the last read overlapping the one before rather than running past w). */
static inline int all_ascii(const char *w, size_t n)
{
    uint64_t acc = 0, x;
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&x, w + i, sizeof x);
            acc |= x;
        }
        memcpy(&x, w + n - 8, sizeof x);
        acc |= x;
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, w, sizeof a);
        memcpy(&b, w + n - 4, sizeof b);
        acc = a | b;
    } else if (n > 0) {
        acc = (unsigned char)w[0] | (unsigned char)w[n / 2] | (unsigned char)w[n - 1];
    }
    return (acc & 0x8080808080808080ULL) == 0;
}

/* Adds twelve columns from col of each row in [h, end) to sc. */
static inline __attribute__((always_inline)) void sum_rows(float *sc, const float *const *h,
                                                           const float *const *end, size_t col)
{
    intent_v4 s0, s1, s2;
    memcpy(&s0, sc + col, sizeof s0);
    memcpy(&s1, sc + col + 4, sizeof s1);
    memcpy(&s2, sc + col + 8, sizeof s2);
    /* two rows a turn (each lane still adds them in order) */
    for (; end - h >= 2; h += 2) {
        const float *w = __builtin_assume_aligned(h[0] + col, 16);
        const float *v = __builtin_assume_aligned(h[1] + col, 16);
        intent_v4 x0, x1, x2, y0, y1, y2;
        memcpy(&x0, w, sizeof x0);
        memcpy(&x1, w + 4, sizeof x1);
        memcpy(&x2, w + 8, sizeof x2);
        memcpy(&y0, v, sizeof y0);
        memcpy(&y1, v + 4, sizeof y1);
        memcpy(&y2, v + 8, sizeof y2);
        s0 = s0 + x0 + y0;
        s1 = s1 + x1 + y1;
        s2 = s2 + x2 + y2;
    }
    if (h < end) {
        const float *w = __builtin_assume_aligned(h[0] + col, 16);
        intent_v4 x0, x1, x2;
        memcpy(&x0, w, sizeof x0);
        memcpy(&x1, w + 4, sizeof x1);
        memcpy(&x2, w + 8, sizeof x2);
        s0 += x0;
        s1 += x1;
        s2 += x2;
    }
    memcpy(sc + col, &s0, sizeof s0);
    memcpy(sc + col + 4, &s1, sizeof s1);
    memcpy(sc + col + 8, &s2, sizeof s2);
}

/* Adds the rows not summed yet. */
static void intent_flush(const intent_model *m, intent_sums *s)
{
    const float *const *h = s->hit + s->n_summed, *const *end = s->hit + s->n_hit;
    sum_rows(s->sc, h, end, 0);
    for (size_t col = INTENT_CHUNK; col < m->stride; col += INTENT_CHUNK)
        sum_rows(s->sc, h, end, col);
    s->n_summed = s->n_hit;
}

/* The grams of a word outside ASCII: the rows found are appended to hit. */
typedef struct {
    const intent_model *m;
    const float **hit;
    size_t n_hit;
} collect_arg;

static void collect_gram(uint64_t hash, const char *gram, size_t len, void *arg)
{
    (void)hash;
    collect_arg *a = arg;
    const uint32_t r1 = slots_find(a->m->gslots, a->m->gcap - 1, gram_key(gram, len));
    if (r1)
        a->hit[a->n_hit++] = a->m->rows + (size_t)r1 * a->m->stride;
}

/* The passive stem of token i (a word in -ed): its length when one of the
 * two words before it is an auxiliary, else 0. */
static size_t passive_at(const ctok_buf *tb, size_t i)
{
    size_t stem = passive_stem(ctok_text(tb, i), tb->tok[i].norm_len);
    for (size_t back = 0; stem && back < 2 && i-- > 0;) {
        if (tb->tok[i].kind != CTOK_WORD && tb->tok[i].kind != CTOK_NUM)
            continue;
        const char *pw;
        size_t pwl;
        word_of(tb, i, &pw, &pwl);
        if (is_aux(pw, pwl))
            return stem;
        back++;
    }
    return 0;
}

/* The row of the passive feature of token i (a word in -ed), or NULL; the
 * feature is counted in *n_passive when it is there, found in the model or
 * not. Out of line: few words end in -ed. */
static __attribute__((noinline)) const float *passive_row(const intent_model *m, const ctok_buf *tb,
                                                          size_t i, size_t *n_passive)
{
    const size_t stem = passive_at(tb, i);
    if (!stem)
        return NULL;
    (*n_passive)++;
    const uint32_t r1 = slots_find(m->slots, m->cap - 1,
                                   fnv_add(fnv_add(FNV_OFFSET, "p:", 2), ctok_text(tb, i), stem));
    return r1 ? m->rows + (size_t)r1 * m->stride : NULL;
}

/* Lists a row; with sum12 (see intent_collect) also adds it to the sums in
 * acc, in the order of the list. */
static inline __attribute__((always_inline)) const float **
take_row(const float **hp, intent_v4 *acc, const float *row, int sum12)
{
    *hp = row;
    if (sum12) {
        const float *w = __builtin_assume_aligned(row, 16);
        intent_v4 x0, x1, x2;
        memcpy(&x0, w, sizeof x0);
        memcpy(&x1, w + 4, sizeof x1);
        memcpy(&x2, w + 8, sizeof x2);
        acc[0] += x0;
        acc[1] += x1;
        acc[2] += x2;
    }
    return hp + 1;
}

/* take_row for a gram of the direct table, off its entry (0 for none)
 * without a branch (most grams are there, but which are not is anyone's
 * guess): a gram not there lists nothing and adds the zero row at rows,
 * which leaves the sums as they are, bit for bit: a sum starts at +0 and
 * so is never -0 (round to nearest gives -0 only for -0 plus -0), and
 * x + +0 is x for any other x. */
static inline __attribute__((always_inline)) const float **
take_gram(const float **hp, intent_v4 *acc, const float *rows, uint32_t at, int sum12)
{
    take_row(hp, acc, rows + at, sum12);
    return hp + (at != 0);
}

/* The rows of the 3-grams of "<w>" (wl > 0 bytes of ASCII) from the direct
 * table: a byte's code each, the index rolled; two a turn. */
static inline __attribute__((always_inline)) const float **
gram3_rows(const intent_model *m, const unsigned char *w, size_t wl, const float *rows,
           const float **hp, intent_v4 *acc, int sum12)
{
    const uint32_t *g3 = m->g3;
    const uint8_t *code = m->g3_code;
    const unsigned bits = m->g3_bits;
    const size_t gmask = m->g3_mask;
    size_t g = (size_t)code['<'] << bits | code[w[0]];
    size_t j = 1;
    for (; j + 1 < wl; j += 2) {
        g = (g << bits | code[w[j]]) & gmask;
        hp = take_gram(hp, acc, rows, g3[g], sum12);
        g = (g << bits | code[w[j + 1]]) & gmask;
        hp = take_gram(hp, acc, rows, g3[g], sum12);
    }
    if (j < wl) {
        g = (g << bits | code[w[j]]) & gmask;
        hp = take_gram(hp, acc, rows, g3[g], sum12);
    }
    g = (g << bits | code['>']) & gmask;
    hp = take_gram(hp, acc, rows, g3[g], sum12);
    return hp;
}

/* Collects and sums the rows of a text's features, see intent_sums; the
 * caller zeroes n_passive and n_summed. stride is the model's. sum12: a
 * model of twelve columns (stride the constant, so that a row's address is
 * a multiply by a constant), whose rows are summed as they are found, in
 * registers; otherwise they are summed after, and when the list fills.
 * checked: the list may fill (a text of more than INTENT_SHORT_TEXT
 * tokens). */
static inline __attribute__((always_inline)) void
intent_collect(const classify_run *run, intent_sums *s, const size_t stride, const int sum12,
               const int checked, const int masked)
{
    const intent_model *m = &run->c->intent;
    const ctok_buf *tb = run->tb;
    const size_t mask = m->cap - 1;
    const float *rows = m->rows;
    const uint64_t *slots = m->slots;
    const int32_t ed_from = m->ed_from;
    const uint8_t *grams = m->row_grams;
    /* the words' rows came with their lexicon look-ups (analyse) */
    const int32_t *irow = run->intent_row;
    const ctok *t = tb->tok;
    const char *norm = tb->norm;
    const float **hit = &s->hit[0], **hp = hit;
    const float **const full = hit + INTENT_MAX_HITS;
    intent_v4 acc[3] = {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};
    size_t n_words = 0, n_char = 0;
    if (!sum12)
        memset(s->sc, 0, stride * sizeof *s->sc);
    /* bigram_first of the word before, or 0 when it begins no bigram of
     * the model (a word without a row, see bigram_words_known): never 0
     * otherwise, an odd multiple of a hash that is not 0 */
    uint64_t first = bigram_first(m->h_bos);
    for (size_t left = tb->n; left > 0; left--, t++, irow++) {
        if (t->kind != CTOK_WORD && t->kind != CTOK_NUM)
            continue;
        /* (masked: the words of the text as if those were not there) */
        if (masked && (run->tflags[t - tb->tok] & RUN_T_UNMADE))
            continue;
        uint64_t h = t->hash;
        int32_t r = *irow;
        n_words++;
        if (__builtin_expect(t->kind == CTOK_NUM, 0)) {
            h = m->h_num;
            r = m->num_row;
        }
        int ed; /* a word in -ed, for the passive feature */
        if (r >= 0) {
            hp = take_row(hp, acc, rows + ((size_t)r + 1) * stride, sum12);
            n_char += grams[r];
            if (first) {
                const uint32_t r1 = slots_find(slots, mask, bigram_key(first, h));
                if (r1)
                    hp = take_row(hp, acc, rows + (size_t)r1 * stride, sum12);
            }
            first = bigram_first(h);
            ed = r >= ed_from;
        } else {
            /* a word the model has no row for (a typo, a rare
             * inflection): its character grams one by one */
            const char *w = norm + t->norm_off;
            size_t wl = t->norm_len;
            /* (passive_stem is not 0 for a word that ends in -ed) */
            ed = t->kind == CTOK_WORD && ends_ed(w, wl);
            if (__builtin_expect(t->kind == CTOK_NUM, 0)) {
                w = "#";
                wl = 1;
            }
            if (wl > CTOK_MAX_LEN)
                wl = CTOK_MAX_LEN;
            if (m->g3 && wl > 0 && all_ascii(w, wl)) {
                hp = gram3_rows(m, (const unsigned char *)w, wl, rows, hp, acc, sum12);
                n_char += wl;
            } else {
                collect_arg ca = {m, hp, 0};
                n_char += word_grams(w, wl, collect_gram, &ca);
                if (sum12)
                    for (size_t k = 0; k < ca.n_hit; k++)
                        take_row(hp + k, acc, hp[k], 1);
                hp += ca.n_hit;
            }
            /* no bigram of the model has this word, unless the model
             * says otherwise (or the word is taken for "<s>" or "</s>") */
            if (!m->bigram_words_known || h == m->h_bos || h == m->h_eos) {
                if (first) {
                    const uint32_t r1 = slots_find(slots, mask, bigram_key(first, h));
                    if (r1)
                        hp = take_row(hp, acc, rows + (size_t)r1 * stride, sum12);
                }
                first = bigram_first(h);
            } else {
                first = 0;
            }
        }
        /* the passive feature, looked for only after a word in -ed */
        if (__builtin_expect(ed, 0)) {
            const float *p = passive_row(m, tb, (size_t)(t - tb->tok), &s->n_passive);
            if (p)
                hp = take_row(hp, acc, p, sum12);
        }
        if (checked && hp > full) {
            /* a long text: the rows so far are summed, and the evidence
             * keeps the first INTENT_MAX_HITS */
            if (!sum12) {
                s->n_hit = (size_t)(hp - hit);
                intent_flush(m, s);
                s->n_summed = INTENT_MAX_HITS;
            }
            hp = full;
        }
    }
    if (n_words > 0 && first) {
        const uint32_t r1 = slots_find(slots, mask, bigram_key(first, m->h_eos));
        if (r1)
            hp = take_row(hp, acc, rows + (size_t)r1 * stride, sum12);
    }
    s->n_hit = (size_t)(hp - hit);
    if (sum12) {
        memcpy(s->sc, &acc[0], sizeof acc[0]);
        memcpy(s->sc + 4, &acc[1], sizeof acc[1]);
        memcpy(s->sc + 8, &acc[2], sizeof acc[2]);
    } else {
        intent_flush(m, s);
    }
    if (s->n_hit > INTENT_MAX_HITS)
        s->n_hit = INTENT_MAX_HITS;
    s->n_words = n_words;
    s->n_char = n_char;
}

/* The three distinct rows that pushed hardest for the label, by their
 * push; a place not yet taken holds NULL and 0 (so only rows for the label
 * count). */
typedef struct {
    const float *row[3];
    float w[3];
} evidence_top;

static inline __attribute__((always_inline)) void evidence_consider(evidence_top *t,
                                                                    const float *row, float v)
{
    /* a row already kept (a repeated word) is not a new reason; ties go to
     * the earlier hit. A kept row has the push it was kept with, so only
     * the places whose push v can equal need the row compared. */
    if (!(v > t->w[2]))
        return;
    if (!(v > t->w[1])) {
        if (row == t->row[0] || row == t->row[1])
            return;
        t->row[2] = row;
        t->w[2] = v;
        return;
    }
    if (!(v > t->w[0])) {
        if (row == t->row[0])
            return;
        t->row[2] = t->row[1];
        t->w[2] = t->w[1];
        t->row[1] = row;
        t->w[1] = v;
        return;
    }
    t->row[2] = t->row[1];
    t->w[2] = t->w[1];
    t->row[1] = t->row[0];
    t->w[1] = t->w[0];
    t->row[0] = row;
    t->w[0] = v;
}

typedef int32_t intent_v4i __attribute__((vector_size(16)));

/* The lanes of a and b, the larger of each (no NaN). */
static inline intent_v4 v4_max(intent_v4 a, intent_v4 b)
{
    const intent_v4i gt = a > b;
    return (intent_v4)(((intent_v4i)a & gt) | ((intent_v4i)b & ~gt));
}

static inline float f_min(float a, float b)
{
    return b < a ? b : a;
}

static inline float f_max(float a, float b)
{
    return b > a ? b : a;
}

/* A row of pushes of 0, which pads the hits to a multiple of four (the
 * list has room for a word's hits past INTENT_MAX_HITS). */
_Static_assert(INTENT_WORD_HITS >= 3, "room for the padding");
static const float evidence_pad[CLASSIFY_MAX_INTENTS + INTENT_CHUNK] __attribute__((aligned(16)));

/* The evidence of the label best: what evidence_consider over each hit in
 * order would keep, with fewer branches to mispredict (the pushes wait for
 * the label, and in the scan about one in four beat the third best of the
 * moment, at random; the mispredictions cost as much as the rest of the
 * pass). The pushes are read first, with the largest of each of four
 * lanes; the third largest of those four, t, is not above the third
 * largest push, and only the pushes of at least t (a few) are considered,
 * in order. When they give three distinct rows, no push below t could have
 * displaced them; when they do not (a repeated row among them), the pushes
 * below t are considered after. hit has room for three more after the n
 * (padded here). */
static inline __attribute__((always_inline)) void evidence_of(evidence_top *top, const float **hit,
                                                              size_t n, size_t best)
{
    /* the pushes, 0 for those not above 0 (NaN too), which never count */
    float x[INTENT_MAX_HITS + 4] __attribute__((aligned(16)));
    const intent_v4 zero = {0, 0, 0, 0};
    intent_v4 mx = zero;
    hit[n] = hit[n + 1] = hit[n + 2] = evidence_pad;
    for (size_t i = 0; i < n; i += 4) {
        intent_v4 v = {hit[i][best], hit[i + 1][best], hit[i + 2][best], hit[i + 3][best]};
        v = (intent_v4)((intent_v4i)v & (v > zero));
        memcpy(x + i, &v, sizeof v);
        mx = v4_max(mx, v);
    }
    /* the third largest of the four lanes: the smaller of the larger of
     * the pairs' smaller ones and the smaller of their larger ones */
    const float lo01 = f_min(mx[0], mx[1]), hi01 = f_max(mx[0], mx[1]);
    const float lo23 = f_min(mx[2], mx[3]), hi23 = f_max(mx[2], mx[3]);
    float t = f_min(f_max(lo01, lo23), f_min(hi01, hi23));
    /* (0 when two lanes have no push above 0: then all of those above 0
     * are considered, and the result is the scan's) */
    const int all = !(t > 0);
    if (all)
        t = FLT_TRUE_MIN;
    const intent_v4 tv = {t, t, t, t};
    const intent_v4i bit = {1, 2, 4, 8};
    *top = (evidence_top){{NULL, NULL, NULL}, {0, 0, 0}};
    /* sixty-four pushes a turn: a bit for each one considered (the lanes
     * past n hold 0, below t) */
    for (size_t from = 0; from < n; from += 64) {
        const size_t to = n - from < 64 ? n : from + 64;
        uint64_t cand = 0;
        for (size_t i = from; i < to; i += 4) {
            intent_v4 v;
            memcpy(&v, x + i, sizeof v);
            intent_v4i m = (v >= tv) & bit;
            /* (the four lanes ored as two halves, then as two words) */
            uint64_t half[2];
            memcpy(half, &m, sizeof half);
            const uint64_t both = half[0] | half[1];
            cand |= ((both | both >> 32) & 15) << (i - from);
        }
        for (; cand; cand &= cand - 1) {
            const size_t i = from + (size_t)__builtin_ctzll(cand);
            evidence_consider(top, hit[i], x[i]);
        }
    }
    /* fewer than three distinct rows (a repeated one): the pushes below t
     * go on from there, in order (a push of t and one below it are never a
     * tie, so it is the order of the scan wherever it matters) */
    if (!all && !top->row[2])
        for (size_t i = 0; i < n; i++)
            if (x[i] < t)
                evidence_consider(top, hit[i], x[i]);
}

/* Helpers of classify_intent_stage, twelve labels a call (a model of up
 * to eleven labels makes one call, with no loop; unrolled, GCC would not
 * at -O2). */
static inline __attribute__((always_inline)) void minus_log_odds(float *out, const float *sc,
                                                                 const float *bias, float norm)
{
    const intent_v4 nv = {norm, norm, norm, norm};
#pragma GCC unroll 3
    for (size_t c = 0; c < INTENT_CHUNK; c += 4) {
        intent_v4 x, b;
        memcpy(&x, sc + c, sizeof x);
        memcpy(&b, bias + c, sizeof b);
        x = -(x * nv + b);
        memcpy(out + c, &x, sizeof x);
    }
}

static inline __attribute__((always_inline)) void logistic_of_exp(float *p)
{
    const intent_v4 one = {1, 1, 1, 1};
#pragma GCC unroll 3
    for (size_t c = 0; c < INTENT_CHUNK; c += 4) {
        intent_v4 e;
        memcpy(&e, p + c, sizeof e);
        e = one / (one + e);
        memcpy(p + c, &e, sizeof e);
    }
}

static inline __attribute__((always_inline)) float add_in_order(float total, const float *p)
{
#pragma GCC unroll 12
    for (size_t c = 0; c < INTENT_CHUNK; c++)
        total += p[c];
    return total;
}

static inline __attribute__((always_inline)) void divide_by(float *p, float div)
{
#pragma GCC unroll 3
    for (size_t c = 0; c < INTENT_CHUNK; c += 4) {
        intent_v4 x;
        memcpy(&x, p + c, sizeof x);
        x = x / div;
        memcpy(p + c, &x, sizeof x);
    }
}

/* The length of the vector of the features summed in s, inverted: a word,
 * its bigram and its grams (found or not), the passive stems and the
 * closing bigram; counted rather than summed word by word, which gives the
 * same (for the shipped weights the terms are small multiples of a quarter,
 * exact in a double). */
static inline float sums_norm(const intent_sums *s)
{
    double sq =
        (double)s->n_words * (INTENT_W_WORD * INTENT_W_WORD + INTENT_W_BIGRAM * INTENT_W_BIGRAM) +
        (double)s->n_char * (INTENT_W_CHAR * INTENT_W_CHAR) +
        (double)s->n_passive * (INTENT_W_PASSIVE * INTENT_W_PASSIVE);
    if (s->n_words > 0)
        sq += INTENT_W_BIGRAM * INTENT_W_BIGRAM;
    return sq > 0 ? (float)(1.0 / sqrt(sq)) : 0.0f;
}

/* The heads (see intent_head): a head whose probability reaches its
 * threshold raises the threat reading to its level, with its probability
 * as the confidence and, as evidence, the head and the rows that pushed
 * hardest for it. Out of line: few texts have a head to read (the
 * threshold is compared as log-odds, so no exponential is taken for a
 * text it does not raise). */
static __attribute__((noinline)) void intent_heads(classify_run *run, intent_sums *s, float norm,
                                                   size_t stride)
{
    const intent_model *m = &run->c->intent;
    classify_result *res = run->r;
    /* the sentences whose threat the rules found not made (reported,
     * quoted, asked about) are left out: the heads cannot tell such a
     * threat from one made, and the rest of the text is read as if they
     * were not there */
    intent_sums masked;
    if (run->threat_unmade) {
        masked.n_passive = 0;
        masked.n_summed = 0;
        intent_collect(run, &masked, stride, 0, 1, 1);
        if (masked.n_words == 0)
            return;
        s = &masked;
        norm = sums_norm(&masked);
    }
    for (size_t h = 0; h < m->n_head; h++) {
        const intent_head *hd = &m->heads[h];
        const float z = s->sc[m->n_class + h] * norm + hd->bias;
        if (res->threat.level >= hd->level || !(z >= hd->at_log_odds))
            continue;
        const float p = 1.0f / (1.0f + expf(-z));
        res->threat.level = hd->level;
        res->threat.confidence = p;
        /* the heads learnt abuse aimed at staff: it is addressed, and the
         * sentiment's hostile floor holds for it as for the rules' */
        run->abuse_addressed = 1;
        classify_evidence_add_text(run, CLASSIFY_EV_THREAT, "threat_model", hd->name,
                                   strlen(hd->name), p);
        /* the three distinct rows (a known word with its character grams, a
         * bigram, a gram of an unknown word) that pushed hardest for it, as
         * for a label */
        evidence_top top;
        evidence_of(&top, s->hit, s->n_hit, m->n_class + h);
        for (int t = 0; t < 3 && top.row[t]; t++) {
            const size_t row = (size_t)(top.row[t] - m->weights) / stride;
            classify_evidence_add_text(run, CLASSIFY_EV_THREAT, "threat_model_feature",
                                       m->names + m->row_name[row], m->row_nlen[row],
                                       top.w[t] * norm);
        }
    }
}

/* The prediction, its confidence and its evidence; stride, sum12 and
 * checked as for intent_collect (a constant stride unrolls the loops over
 * the labels). */
static inline __attribute__((always_inline)) void
intent_predict(classify_run *run, const size_t stride, const int sum12, const int checked)
{
    const intent_model *m = &run->c->intent;
    classify_result *res = run->r;
    intent_sums s;
    s.n_passive = 0;
    s.n_summed = 0;
    intent_collect(run, &s, stride, sum12, checked, 0);
    const float norm = sums_norm(&s);
    /* the classes' probabilities, before they are made to sum to 1; the
     * padding past the labels holds 0 */
    float probs[CLASSIFY_MAX_INTENTS + INTENT_CHUNK] __attribute__((aligned(16)));
    if (m->n_class < 2 || m->n_col > stride || stride < INTENT_CHUNK)
        return; /* (the loader makes no such model) */
    if (m->probabilistic) {
        /* logistic models give log-odds z per class: probs holds exp(-z),
         * then 1 / (1 + exp(-z)), lane by lane (the same operations); the
         * padding's z is -inf (see the bias), its exp(-z) inf and so its
         * probability 0 */
        for (size_t c = 0; c + INTENT_CHUNK <= stride; c += INTENT_CHUNK) {
            minus_log_odds(probs + c, s.sc + c, m->bias + c, norm);
            const size_t end = c + INTENT_CHUNK < m->n_class ? c + INTENT_CHUNK : m->n_class;
            for (size_t k = c; k < end; k++)
                probs[k] = expf(probs[k]);
        }
        for (size_t c = 0; c + INTENT_CHUNK <= stride; c += INTENT_CHUNK)
            logistic_of_exp(probs + c);
        /* (a head's lane is 0 already, unless its sum overflowed to
         * inf, whose -inf + inf would be NaN) */
        for (size_t k = m->n_class; k < m->n_col; k++)
            probs[k] = 0;
    } else {
        /* margins of an SVM are turned into a distribution by a sharpened
         * softmax */
        float scores[CLASSIFY_MAX_INTENTS];
        float maxs = -INFINITY;
        for (size_t k = 0; k < m->n_class; k++) {
            scores[k] = s.sc[k] * norm + m->bias[k];
            if (scores[k] > maxs)
                maxs = scores[k];
        }
        for (size_t k = 0; k < m->n_class; k++)
            probs[k] = expf(4.0f * (scores[k] - maxs));
        for (size_t k = m->n_class; k < stride; k++)
            probs[k] = 0;
    }
    /* their total, in order (the padding adds zeros, which change nothing:
     * the total is not negative) */
    float total = 0;
    for (size_t c = 0; c + INTENT_CHUNK <= stride; c += INTENT_CHUNK)
        total = add_in_order(total, probs + c);
    /* (lane by lane, the same divisions) */
    const float div = total > 0 ? total : 1.0f;
    for (size_t c = 0; c + INTENT_CHUNK <= stride; c += INTENT_CHUNK)
        divide_by(probs + c, div);
    /* the best and the second (the model has two classes or more; ties go
     * to the earlier) */
    size_t best = 0, second = 1;
    float pb = probs[0], ps = probs[1];
    if (!isnan(total)) {
        /* no NaN (the total would be NaN): once the first two are in
         * order the best is never below the second, so a probability
         * that does not beat the second beats neither */
        if (ps > pb) {
            best = 1;
            second = 0;
            pb = probs[1];
            ps = probs[0];
        }
        for (size_t k = 2; k < m->n_class; k++) {
            const float p = probs[k];
            if (!(p > ps))
                continue;
            if (p > pb) {
                second = best;
                ps = pb;
                best = k;
                pb = p;
            } else {
                second = k;
                ps = p;
            }
        }
    } else {
        for (size_t k = 1; k < m->n_class; k++) {
            const float p = probs[k];
            if (p > pb) {
                second = best;
                ps = pb;
                best = k;
                pb = p;
            } else if (p > ps) {
                second = k;
                ps = p;
            }
        }
    }
    memcpy(res->intent.label, m->labels[best], CLASSIFY_LABEL_MAX);
    res->intent.confidence = pb;
    memcpy(res->intent.second, m->labels[second], CLASSIFY_LABEL_MAX);
    res->intent.second_confidence = ps;
    /* evidence: the three distinct rows (a known word with its character
     * grams, a bigram, a gram of an unknown word) that pushed hardest for
     * the label (a row already kept (a repeated word) is not a new reason;
     * ties go to the earlier hit), kept for the end of the run (see
     * classify_intent_evidence); the heads' is given at once, as it is the
     * threat reading's */
    evidence_top top;
    evidence_of(&top, s.hit, s.n_hit, best);
    for (int t = 0; t < 3 && top.row[t]; t++) {
        const size_t row = (size_t)(top.row[t] - m->weights) / stride;
        run->intent_ev_row[run->n_intent_ev] = (uint32_t)row;
        run->intent_ev_w[run->n_intent_ev++] = top.w[t] * norm;
    }
    if (m->n_head)
        intent_heads(run, &s, norm, stride);
}

/* A line of at most CARRY_MAX_WORDS words whose own reading is "other" or
 * under CARRY_MIN_CONFIDENCE names no need of its own: the contact's intent
 * stays, with this confidence, so that "yes" or "I did." in a billing chat
 * does not send it to another queue. */
#define CARRY_MAX_WORDS 6
#define CARRY_MIN_CONFIDENCE 0.7f

void classify_intent_carry(classify_run *run, const char *contact_intent)
{
    classify_result *r = run->r;
    const intent_model *m = &run->c->intent;
    r->intent.no_need =
        r->intent.label[0] && run->tb->n_words > 0 && run->tb->n_words <= CARRY_MAX_WORDS &&
        (strcmp(r->intent.label, "other") == 0 || r->intent.confidence < CARRY_MIN_CONFIDENCE);
    if (!r->intent.no_need || !contact_intent[0] || strcmp(contact_intent, "other") == 0 ||
        strcmp(contact_intent, r->intent.label) == 0)
        return;
    size_t k = 0;
    while (k < m->n_class && strcmp(m->labels[k], contact_intent) != 0)
        k++;
    if (k == m->n_class)
        return; /* a label of another model */
    memcpy(r->intent.second, r->intent.label, sizeof r->intent.second);
    r->intent.second_confidence = r->intent.confidence;
    memcpy(r->intent.label, m->labels[k], sizeof r->intent.label);
    r->intent.confidence = CLASSIFY_CARRY_CONFIDENCE;
    classify_evidence_add_text(run, CLASSIFY_EV_INTENT, "contact_intent", m->labels[k],
                               strlen(m->labels[k]), 0);
}

void classify_intent_evidence(classify_run *run)
{
    const intent_model *m = &run->c->intent;
    for (int t = 0; t < run->n_intent_ev; t++) {
        const uint32_t row = run->intent_ev_row[t];
        classify_evidence_add_text(run, CLASSIFY_EV_INTENT, "intent_feature",
                                   m->names + m->row_name[row], m->row_nlen[row],
                                   run->intent_ev_w[t]);
    }
}

void classify_intent_prefetch(const classify_run *run)
{
    const intent_model *m = &run->c->intent;
    const ctok_buf *tb = run->tb;
    const size_t mask = m->cap - 1, stride = m->stride;
    /* the same walk as intent_collect's, less the words it reads by their
     * grams and the passive stems: the rows of most texts are word rows
     * and bigrams, each a miss of the cache that the stage would otherwise
     * wait for one after the other */
    uint64_t first = bigram_first(m->h_bos);
    size_t n_words = 0;
    for (size_t i = 0; i < tb->n; i++) {
        const ctok *t = &tb->tok[i];
        if (t->kind != CTOK_WORD && t->kind != CTOK_NUM)
            continue;
        uint64_t h = t->hash;
        int32_t r = run->intent_row[i];
        if (t->kind == CTOK_NUM) {
            h = m->h_num;
            r = m->num_row;
        }
        n_words++;
        if (r >= 0)
            __builtin_prefetch(m->rows + ((size_t)r + 1) * stride);
        if (first && (r >= 0 || !m->bigram_words_known))
            __builtin_prefetch(m->slots + slot_of(bigram_key(first, h), mask));
        first = r >= 0 || !m->bigram_words_known ? bigram_first(h) : 0;
    }
    if (n_words > 0 && first)
        __builtin_prefetch(m->slots + slot_of(bigram_key(first, m->h_eos), mask));
}

void classify_intent_stage(classify_run *run)
{
    const size_t stride = run->c->intent.stride;
    if (stride != INTENT_CHUNK)
        intent_predict(run, stride, 0, 1);
    else if (run->tb->n <= INTENT_SHORT_TEXT)
        intent_predict(run, INTENT_CHUNK, 1, 0);
    else
        intent_predict(run, INTENT_CHUNK, 1, 1);
}
