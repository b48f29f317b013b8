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
 * never seen are split into grams. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify_int.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define INTENT_MAX_FEATURES 4000000
#define INTENT_LINE_MAX 16384
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
    static const char *const aux[] = {"was", "were", "been", "is", "are", "got", "gets"};
    for (size_t i = 0; i < sizeof aux / sizeof aux[0]; i++)
        if (strlen(aux[i]) == n && memcmp(aux[i], w, n) == 0)
            return 1;
    return 0;
}

/* The stem of a word ending in -ed, for the passive feature: "cancelled"
 * and "canceled" both give "cancel", "stopped" gives "stop". Returns 0 when
 * the word does not end in -ed. */
static size_t passive_stem(const char *w, size_t n)
{
    if (n < 5 || w[n - 2] != 'e' || w[n - 1] != 'd')
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
 * words (so that prediction hashes no bytes for it). */
#define INTENT_BIGRAM_SEED 0x6A09E667F3BCC909ULL
static inline uint64_t bigram_key(uint64_t a, uint64_t b)
{
    return ctok_phrase_step(ctok_phrase_step(INTENT_BIGRAM_SEED, a), b);
}

/* A slot holds bits 24-63 of the key (bit 24 forced on, so that a used
 * slot is never 0) over the row number: eight bytes, so that the table can
 * stay under a third full (short probes, most look-ups of free text miss)
 * in the space a half-full table of 16-byte slots would take. The bits that
 * pick the slot are the key's low ones, so the two parts do not overlap;
 * two keys that agree on both would be taken for one (about one chance in
 * 2^40 per probe). */
#define SLOT_ROW_BITS 24
#define SLOT_ROW_MASK ((1ULL << SLOT_ROW_BITS) - 1)

static inline uint64_t slot_tag(uint64_t key)
{
    return (key | (1ULL << SLOT_ROW_BITS)) & ~SLOT_ROW_MASK;
}

/* The row of key, or -1. */
static inline int64_t slot_find(const intent_model *m, uint64_t key)
{
    const size_t mask = m->cap - 1;
    const uint64_t tag = slot_tag(key);
    for (size_t j = (size_t)key & mask;; j = (j + 1) & mask) {
        uint64_t v = m->slots[j];
        if ((v & ~SLOT_ROW_MASK) == tag)
            return (int64_t)(v & SLOT_ROW_MASK);
        if (v == 0)
            return -1;
    }
}

/* Returns 0 when key is there already. */
static int slot_insert(intent_model *m, uint64_t key, uint32_t row)
{
    if (slot_find(m, key) >= 0)
        return 0;
    const size_t mask = m->cap - 1;
    size_t j = (size_t)key & mask;
    while (m->slots[j])
        j = (j + 1) & mask;
    m->slots[j] = slot_tag(key) | row;
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
    (void)gram;
    (void)len;
    const fold_arg *a = arg;
    int64_t r = slot_find(a->m, hash);
    if (r < 0)
        return;
    const float *g = a->m->weights + (size_t)r * a->m->stride;
    for (size_t k = 0; k < a->m->n_class; k++)
        a->row[k] += a->wt * g[k];
}

void intent_model_fini(intent_model *m)
{
    free(m->bias_w);
    free(m->weights);
    free(m->slots);
    free(m->row_sq);
    free(m->row_name);
    free(m->names);
    memset(m, 0, sizeof *m);
}

/* Parses k floats separated by spaces. */
static int parse_weights(char *s, float *w, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        char *end;
        errno = 0;
        float v = strtof(s, &end);
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
    if (strcmp(line, "attune-intent-model 3") != 0) {
        why = "not an attune intent model of version 3 (retrain older models with attune-train)";
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
    m->bias_w = calloc(m->n_class, sizeof *m->bias_w);
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
        if (end == line + 5 || !parse_weights(end, m->bias_w, m->n_class)) {
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
    /* under a third full: most look-ups of free text miss, and a miss
     * walks to the next free slot */
    m->cap = 16;
    while (m->cap < m->n_feat * 3)
        m->cap *= 2;
    m->stride = (m->n_class + 3) & ~(size_t)3;
    m->weights = calloc(m->n_feat * m->stride, sizeof *m->weights);
    m->slots = calloc(m->cap, sizeof *m->slots);
    m->row_sq = calloc(m->n_feat, sizeof *m->row_sq);
    m->row_name = calloc(m->n_feat, sizeof *m->row_name);
    size_t names_cap = 1 << 16;
    m->names = malloc(names_cap);
    if (!m->weights || !m->slots || !m->row_sq || !m->row_name || !m->names) {
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
        if (!parse_weights(tab + 1, m->weights + r * m->stride, m->n_class)) {
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
        m->names_used += nl + 1;
        if (nl < 3 || line[1] != ':' || !strchr("wbcp", line[0])) {
            why = "want a feature name w:WORD, b:WORD WORD, c:GRAM or p:STEM";
            err = ATTUNE_ERR_PARSE;
            goto out;
        }
    }
    /* The rows are regrouped by family, character grams first: prediction
     * reads gram rows for every word the model does not know, and packed
     * together they share the cache. */
    {
        float *nw = malloc(m->n_feat * m->stride * sizeof *nw);
        uint32_t *nn = malloc(m->n_feat * sizeof *nn);
        if (!nw || !nn) {
            free(nw);
            free(nn);
            err = ATTUNE_ERR_NOMEM;
            why = "out of memory";
            goto out;
        }
        static const char family[4] = {'c', 'w', 'b', 'p'};
        size_t to = 0;
        for (size_t fam = 0; fam < 4; fam++)
            for (size_t r = 0; r < m->n_feat; r++) {
                if (m->names[m->row_name[r]] != family[fam])
                    continue;
                memcpy(nw + to * m->stride, m->weights + r * m->stride, m->stride * sizeof *nw);
                nn[to++] = m->row_name[r];
            }
        free(m->weights);
        free(m->row_name);
        m->weights = nw;
        m->row_name = nn;
    }
    for (size_t r = 0; r < m->n_feat; r++) {
        const char *name = m->names + m->row_name[r];
        size_t nl = strlen(name);
        uint64_t key;
        if (name[0] == 'w')
            continue; /* words are keyed once their character grams are in */
        if (name[0] == 'c' || name[0] == 'p') {
            key = fnv_add(FNV_OFFSET, name, nl);
        } else {
            const char *sp = memchr(name + 2, ' ', nl - 2);
            if (!sp || sp == name + 2 || sp == name + nl - 1) {
                why = "want: b:WORD WORD";
                err = ATTUNE_ERR_PARSE;
                goto out;
            }
            key = bigram_key(ctok_hash_bytes(name + 2, (size_t)(sp - name - 2)),
                             ctok_hash_bytes(sp + 1, (size_t)(name + nl - sp - 1)));
        }
        if (!slot_insert(m, key ? key : 1, (uint32_t)r)) {
            why = "duplicate feature";
            err = ATTUNE_ERR_PARSE;
            goto out;
        }
    }
    m->num_row = -1;
    /* Second pass: a word's row becomes its unigram plus all its character
     * grams, weighted as at training, so that prediction adds one row per
     * known word instead of looking up every gram. */
    for (size_t r = 0; r < m->n_feat; r++) {
        const char *name = m->names + m->row_name[r];
        if (name[0] != 'w')
            continue;
        float *row = m->weights + r * m->stride;
        for (size_t c = 0; c < m->n_class; c++)
            row[c] *= INTENT_W_WORD;
        fold_arg fa = {m, row, INTENT_W_CHAR};
        size_t wl = strlen(name + 2);
        size_t ng = word_grams(name + 2, wl, fold_gram, &fa);
        /* keyed by the word in the lexicon's table, see
         * intent_model_index_words */
        m->row_sq[r] = INTENT_W_WORD * INTENT_W_WORD + (float)ng * INTENT_W_CHAR * INTENT_W_CHAR;
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
            for (size_t c = 0; c < m->n_class; c++)
                m->weights[r * m->stride + c] *= wt;
    }
    m->h_num = ctok_hash_bytes("#", 1);
    m->h_bos = ctok_hash_bytes("<s>", 3);
    m->h_eos = ctok_hash_bytes("</s>", 4);
    m->h_cseed = fnv_add(FNV_OFFSET, "c:", 2);
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
        if (m->row_sq[r] <= 0.0f)
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

/* Four floats, added lane by lane (a GCC/Clang vector extension). */
typedef float intent_v4 __attribute__((vector_size(16)));

typedef struct {
    const intent_model *m;
    intent_v4 sc[CLASSIFY_MAX_INTENTS / 4];
    size_t n_hit;
    uint32_t hit_row[INTENT_MAX_HITS];
} predict_acc;

/* Rows are padded to a multiple of four floats (the padding 0): whole
 * vectors, and the weights are already multiplied by their family's weight. */
static inline void sum_row(predict_acc *a, uint32_t row)
{
    const size_t stride = a->m->stride;
    const float *w = a->m->weights + (size_t)row * stride;
    if (stride == 12) {
        /* the shipped model's ten labels: the loop spelled out */
        intent_v4 x0, x1, x2;
        memcpy(&x0, w, sizeof x0);
        memcpy(&x1, w + 4, sizeof x1);
        memcpy(&x2, w + 8, sizeof x2);
        a->sc[0] += x0;
        a->sc[1] += x1;
        a->sc[2] += x2;
    } else {
        for (size_t k = 0; k < stride / 4; k++) {
            intent_v4 x;
            memcpy(&x, w + 4 * k, sizeof x);
            a->sc[k] += x;
        }
    }
}

static inline void add_row(predict_acc *a, uint32_t row)
{
    sum_row(a, row);
    if (a->n_hit < INTENT_MAX_HITS)
        a->hit_row[a->n_hit++] = row;
}

/* A word the model has no row for (a typo, a rare inflection): its
 * character grams one by one. */
static void add_gram(uint64_t hash, const char *gram, size_t len, void *arg)
{
    (void)gram;
    (void)len;
    predict_acc *a = arg;
    int64_t r = slot_find(a->m, hash);
    if (r >= 0)
        add_row(a, (uint32_t)r);
}

/* The character grams of a word the model has no row for. ASCII words (the
 * usual case) take a loop of their own: all gram hashes first, their slots
 * prefetched, then the look-ups. Returns the number of grams (each counts
 * in the vector's length, found or not). */
static size_t add_unknown_word(predict_acc *a, const char *w, size_t wl)
{
    unsigned char pad[CTOK_MAX_LEN + 2];
    size_t pl = 0;
    int ascii = 1;
    if (wl > CTOK_MAX_LEN)
        wl = CTOK_MAX_LEN;
    pad[pl++] = '<';
    for (size_t k = 0; k < wl; k++) {
        pad[pl++] = (unsigned char)w[k];
        ascii &= (unsigned char)w[k] < 0x80;
    }
    pad[pl++] = '>';
    if (!ascii)
        return word_grams(w, wl, add_gram, a);
    const intent_model *m = a->m;
    const size_t mask = m->cap - 1;
    uint64_t hs[(CTOK_MAX_LEN + 2) * (INTENT_MAX_GRAM - INTENT_MIN_GRAM + 1)];
    size_t nh = 0;
    for (size_t s0 = 0; s0 + INTENT_MIN_GRAM <= pl; s0++) {
        uint64_t h = m->h_cseed;
        size_t g = 0;
        for (; g + 1 < INTENT_MIN_GRAM; g++)
            h = (h ^ pad[s0 + g]) * FNV_PRIME;
        for (; g < INTENT_MAX_GRAM && s0 + g < pl; g++) {
            h = (h ^ pad[s0 + g]) * FNV_PRIME;
            hs[nh] = h ? h : 1;
            __builtin_prefetch(&m->slots[(size_t)hs[nh] & mask]);
            nh++;
        }
    }
    for (size_t k = 0; k < nh; k++) {
        int64_t r = slot_find(m, hs[k]);
        if (r >= 0)
            add_row(a, (uint32_t)r);
    }
    return nh;
}

void classify_intent_stage(classify_run *run)
{
    const intent_model *m = &run->c->intent;
    const ctok_buf *tb = run->tb;
    classify_result *res = run->r;
    /* keys first, with their slots prefetched, then the look-ups: the
     * table is larger than the caches and the keys do not depend on it */
    uint64_t bkey[CLASSIFY_MAX_TOKENS + 1];
    uint16_t widx[CLASSIFY_MAX_TOKENS];
    const size_t mask = m->cap - 1;
    size_t nw = 0;
    /* bigram_key(previous word, h) with its first step carried over from
     * the previous word ("<s>" before the first) */
    uint64_t pstate = ctok_phrase_step(INTENT_BIGRAM_SEED, m->h_bos);
    for (size_t i = 0; i < tb->n; i++) {
        const ctok *t = &tb->tok[i];
        if (t->kind != CTOK_WORD && t->kind != CTOK_NUM)
            continue;
        uint64_t h = t->kind == CTOK_NUM ? m->h_num : t->hash;
        bkey[nw] = ctok_phrase_step(pstate, h);
        widx[nw] = (uint16_t)i;
        __builtin_prefetch(&m->slots[(size_t)bkey[nw] & mask]);
        pstate = ctok_phrase_step(INTENT_BIGRAM_SEED, h);
        nw++;
    }
    predict_acc a;
    a.m = m;
    a.n_hit = 0;
    memset(a.sc, 0, sizeof a.sc);
    double sq = 0;
    for (size_t k = 0; k < nw; k++) {
        /* the word's row came with its lexicon look-up (analyse) */
        int64_t r = tb->tok[widx[k]].kind == CTOK_NUM ? m->num_row : run->intent_row[widx[k]];
        if (r >= 0) {
            add_row(&a, (uint32_t)r);
            sq += m->row_sq[r];
        } else {
            const char *w;
            size_t wl;
            word_of(tb, widx[k], &w, &wl);
            size_t ng = add_unknown_word(&a, w, wl);
            sq += INTENT_W_WORD * INTENT_W_WORD + (double)ng * INTENT_W_CHAR * INTENT_W_CHAR;
        }
        r = slot_find(m, bkey[k]);
        if (r >= 0)
            add_row(&a, (uint32_t)r);
        sq += INTENT_W_BIGRAM * INTENT_W_BIGRAM;
        /* the passive feature, looked for only after a word in -ed */
        const ctok *t = &tb->tok[widx[k]];
        size_t stem = t->kind == CTOK_WORD ? passive_stem(ctok_text(tb, widx[k]), t->norm_len) : 0;
        if (stem) {
            int aux = 0;
            for (size_t back = 1; back <= 2 && back <= k && !aux; back++) {
                const char *pw;
                size_t pwl;
                word_of(tb, widx[k - back], &pw, &pwl);
                aux = is_aux(pw, pwl);
            }
            if (aux) {
                uint64_t h = fnv_add(fnv_add(FNV_OFFSET, "p:", 2), ctok_text(tb, widx[k]), stem);
                r = slot_find(m, h ? h : 1);
                if (r >= 0)
                    add_row(&a, (uint32_t)r);
                sq += INTENT_W_PASSIVE * INTENT_W_PASSIVE;
            }
        }
    }
    if (nw > 0) {
        int64_t r = slot_find(m, ctok_phrase_step(pstate, m->h_eos));
        if (r >= 0)
            add_row(&a, (uint32_t)r);
        sq += INTENT_W_BIGRAM * INTENT_W_BIGRAM;
    }
    float scores[CLASSIFY_MAX_INTENTS];
    memcpy(scores, a.sc, m->stride * sizeof(float));
    float norm = sq > 0 ? (float)(1.0 / sqrt(sq)) : 0.0f;
    float probs[CLASSIFY_MAX_INTENTS] = {0};
    float maxs = -INFINITY;
    for (size_t k = 0; k < m->n_class; k++) {
        scores[k] = scores[k] * norm + m->bias_w[k] * m->bias_value;
        if (scores[k] > maxs)
            maxs = scores[k];
    }
    float total = 0;
    for (size_t k = 0; k < m->n_class; k++) {
        /* logistic models give log-odds per class; margins of an SVM are
         * turned into a distribution by a sharpened softmax */
        probs[k] =
            m->probabilistic ? 1.0f / (1.0f + expf(-scores[k])) : expf(4.0f * (scores[k] - maxs));
        total += probs[k];
    }
    size_t best = 0, second = m->n_class > 1 ? 1 : 0;
    for (size_t k = 0; k < m->n_class; k++) {
        probs[k] /= total > 0 ? total : 1.0f;
        if (probs[k] > probs[best]) {
            second = best;
            best = k;
        } else if (k != best && (second == best || probs[k] > probs[second])) {
            second = k;
        }
    }
    memcpy(res->intent.label, m->labels[best], CLASSIFY_LABEL_MAX);
    res->intent.confidence = probs[best];
    if (second != best) {
        memcpy(res->intent.second, m->labels[second], CLASSIFY_LABEL_MAX);
        res->intent.second_confidence = probs[second];
    }
    /* evidence: the three distinct rows (a known word with its character
     * grams, a bigram, a gram of an unknown word) that pushed hardest for
     * the label */
    /* (one pass: a row's push is compared with the third best, which it
     * rarely beats; a row already kept (a repeated word) is not a new
     * reason; ties go to the earlier hit) */
    uint32_t top[3] = {0, 0, 0};
    float top_w[3] = {0, 0, 0};
    int n_top = 0;
    const float *wbest = m->weights + best;
    for (size_t h = 0; h < a.n_hit; h++) {
        const uint32_t row = a.hit_row[h];
        const float v = wbest[(size_t)row * m->stride];
        if (!(v > top_w[2]))
            continue;
        if ((n_top > 0 && top[0] == row) || (n_top > 1 && top[1] == row) ||
            (n_top > 2 && top[2] == row))
            continue;
        int at = 2;
        while (at > 0 && v > top_w[at - 1]) {
            top[at] = top[at - 1];
            top_w[at] = top_w[at - 1];
            at--;
        }
        top[at] = row;
        top_w[at] = v;
        if (n_top < 3)
            n_top++;
    }
    for (int t = 0; t < n_top; t++) {
        const char *name = m->names + m->row_name[top[t]];
        classify_evidence_add_text(run, CLASSIFY_EV_INTENT, "intent_feature", name, strlen(name),
                                   top_w[t] * norm);
    }
}
