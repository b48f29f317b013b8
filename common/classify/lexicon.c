/* lexicon: the data files of the classifier, loaded once into one open
 * addressing table keyed by the hash of a normalised word or phrase.
 *
 * Every term is tokenized with the same tokenizer as the text it will be
 * matched against, so "Can't", "can’t" and "CAN'T" in a data file or a
 * message meet on one key. A term may carry several attributes (valence,
 * modifier, emotions, urgency, abuse kind, preference), each from its own
 * file; see docs/classifier.md for the formats. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify_int.h"

#define LEX_MAX_ENTRIES 400000
#define LEX_MAX_ARENA (16u << 20)
#define LEX_MAX_LINE 1024
/* lexicon terms and the intent model's words */
#define LEX_MAX_KEYS (LEX_MAX_ENTRIES + 4000000)

const lex_entry *lex_find(const lex_table *t, uint64_t key)
{
    return t->keys ? lex_key_entry(t, lex_key_find(t, key)) : NULL;
}

/* Doubles the key table (the entries stay where they are). */
static attune_err grow(lex_table *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 4096;
    lex_key *nk = calloc(ncap, sizeof *nk);
    if (!nk)
        return ATTUNE_ERR_NOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i].key)
            continue;
        size_t j = (size_t)t->keys[i].key & (ncap - 1);
        while (nk[j].key)
            j = (j + 1) & (ncap - 1);
        nk[j] = t->keys[i];
    }
    free(t->keys);
    t->keys = nk;
    t->cap = ncap;
    return ATTUNE_OK;
}

/* The slot of key, made (with no entry and no intent row) when missing. */
static attune_err key_slot(lex_table *t, uint64_t key, lex_key **out)
{
    if (t->keys) {
        size_t mask = t->cap - 1;
        for (size_t i = (size_t)key & mask; t->keys[i].key; i = (i + 1) & mask)
            if (t->keys[i].key == key) {
                *out = &t->keys[i];
                return ATTUNE_OK;
            }
    }
    if (t->n_keys >= LEX_MAX_KEYS)
        return ATTUNE_ERR_LIMIT;
    if (!t->keys || (t->n_keys + 1) * 2 > t->cap) {
        attune_err err = grow(t);
        if (err)
            return err;
    }
    size_t j = (size_t)key & (t->cap - 1);
    while (t->keys[j].key)
        j = (j + 1) & (t->cap - 1);
    t->keys[j].key = key;
    t->keys[j].idx = LEX_NO_ENTRY;
    t->keys[j].intent_row = -1;
    t->n_keys++;
    *out = &t->keys[j];
    return ATTUNE_OK;
}

attune_err lex_set_intent_row(lex_table *t, uint64_t key, int32_t row)
{
    lex_key *k;
    attune_err err = key_slot(t, key, &k);
    if (err)
        return err;
    if (k->intent_row >= 0)
        return ATTUNE_ERR_INVALID; /* two rows for one word */
    k->intent_row = row;
    return ATTUNE_OK;
}

static attune_err arena_add(lex_table *t, const char *s, size_t n, uint32_t *off)
{
    if (t->arena_used + n + 1 > t->arena_cap) {
        size_t ncap = t->arena_cap ? t->arena_cap * 2 : 65536;
        while (ncap < t->arena_used + n + 1)
            ncap *= 2;
        if (ncap > LEX_MAX_ARENA)
            return ATTUNE_ERR_LIMIT;
        char *na = realloc(t->arena, ncap);
        if (!na)
            return ATTUNE_ERR_NOMEM;
        t->arena = na;
        t->arena_cap = ncap;
    }
    memcpy(t->arena + t->arena_used, s, n);
    t->arena[t->arena_used + n] = '\0';
    *off = (uint32_t)t->arena_used;
    t->arena_used += n + 1;
    return ATTUNE_OK;
}

static void bloom_add(uint64_t *bloom, uint64_t key)
{
    const unsigned b = (unsigned)(key >> (64 - LEX_BLOOM_BITS));
    bloom[b / 64] |= (uint64_t)1 << (b % 64);
}

/* Finds or creates the entry of key; a new entry is named name. */
static attune_err entry_for_key(lex_table *t, uint64_t key, const char *name, size_t nl,
                                size_t ntok, lex_entry **out)
{
    lex_key *k;
    attune_err err = key_slot(t, key, &k);
    if (err)
        return err;
    if (k->idx != LEX_NO_ENTRY) {
        *out = &t->entries[k->idx];
        return ATTUNE_OK;
    }
    if (t->used >= LEX_MAX_ENTRIES)
        return ATTUNE_ERR_LIMIT;
    if (t->used == t->entries_cap) {
        size_t ncap = t->entries_cap ? t->entries_cap * 2 : 1024;
        lex_entry *ne = realloc(t->entries, ncap * sizeof *ne);
        if (!ne)
            return ATTUNE_ERR_NOMEM;
        t->entries = ne;
        t->entries_cap = ncap;
    }
    uint32_t off;
    err = arena_add(t, name, nl, &off);
    if (err)
        return err;
    k->idx = (uint32_t)t->used;
    lex_entry *e = &t->entries[t->used];
    memset(e, 0, sizeof *e);
    e->key = key;
    e->name_off = off;
    e->name_len = (uint8_t)(nl > 255 ? 255 : nl);
    e->ntok = (uint8_t)ntok;
    if (ntok > t->max_phrase)
        t->max_phrase = (unsigned)ntok;
    if (ntok >= 2)
        bloom_add(t->phrase_bloom, key);
    t->used++;
    *out = e;
    return ATTUNE_OK;
}

/* Finds or creates the entry of a term; *out stays valid until the next
 * call. The first word of a phrase is marked, so that phrases are looked
 * for only where one can begin. */
static attune_err intern(lex_table *t, ctok_buf *tb, const char *term, lex_entry **out)
{
    ctok_run(term, strlen(term), tb);
    if (tb->n == 0 || tb->truncated)
        return ATTUNE_ERR_INVALID;
    if (tb->n > LEX_MAX_PHRASE)
        return ATTUNE_ERR_LIMIT;
    /* punctuation is never looked up and no phrase spans it (analyse): a
     * term with some ("sh!t", "nice car, shame if") would never match */
    for (size_t i = 0; i < tb->n; i++)
        if (tb->tok[i].kind == CTOK_PUNCT)
            return ATTUNE_ERR_PARSE;
    char name[256];
    size_t nl = 0;
    for (size_t i = 0; i < tb->n; i++) {
        size_t tl = tb->tok[i].norm_len;
        if (nl + tl + 2 > sizeof name)
            return ATTUNE_ERR_LIMIT;
        if (i > 0)
            name[nl++] = ' ';
        memcpy(name + nl, ctok_text(tb, i), tl);
        nl += tl;
    }
    if (tb->n == 1)
        return entry_for_key(t, tb->tok[0].hash, name, nl, 1, out);
    lex_entry *first;
    attune_err err = entry_for_key(t, tb->tok[0].hash, name, tb->tok[0].norm_len, 1, &first);
    if (err)
        return err;
    first->flags |= LEX_F_PHRASE_START;
    first->second_sig |= lex_sig_bit(tb->tok[1].hash);
    if (tb->n > first->phrase_max)
        first->phrase_max = (uint8_t)tb->n;
    uint64_t key = CTOK_PHRASE_SEED;
    for (size_t i = 0; i < tb->n; i++) {
        key = ctok_phrase_step(key, tb->tok[i].hash);
        if (i >= 1)
            bloom_add(t->prefix_bloom, key);
    }
    return entry_for_key(t, key, name, nl, tb->n, out);
}

static int parse_float(const char *s, float lo, float hi, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* !(lo <= v <= hi) also refuses NaN */
    if (errno || end == s || *end != '\0' || !(v >= lo && v <= hi))
        return 0;
    *out = (float)v;
    return 1;
}

static int emotion_index(const char *s)
{
    static const char *const names[LEX_EMO_N] = {"anger", "fear", "sadness", "confusion", "joy"};
    for (int i = 0; i < LEX_EMO_N; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int lookup_kind(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

static const char *const mod_names[] = {
    NULL,     "negator",      "booster",   "contrast", "contrast_before", "persist",
    "excess", "interjection", "scope_end", "want",     "function",        "laugh",
    "irony",  "tears",        "insist",    "fault"};
static const char *const abuse_names[] = {
    NULL,           "profanity", "insult", "slur",   "violence", "threat",  "directed",
    "name",         "weapon",    "veiled", "body",   "outcome",  "private", "wish",
    "violent_form", "target",    "person", "object", "future",   "self"};
/* urgency.tsv's kinds: a duration is effort only as time already spent;
 * danger is urgency that can make a message critical; a deadline is
 * urgency only before a clock time */
enum { URGENCY_KIND, EFFORT_KIND, DURATION_KIND, DANGER_KIND, DEADLINE_KIND };
static const char *const urgency_names[] = {"urgency", "effort", "duration", "danger", "deadline"};
static const char *const pref_names[] = {NULL,        "channel", "avoid_channel", "contact_time",
                                         "language",  "pace",    "polite",        "contact_verb",
                                         "time_word", "written"};

typedef enum {
    FILE_VALENCE,
    FILE_VALENCE_FORMS,
    FILE_VALENCE_CORPUS,
    FILE_MODIFIERS,
    FILE_EMOTION,
    FILE_EMOTION_CORPUS,
    FILE_URGENCY,
    FILE_ABUSE,
    FILE_PREFS,
} file_kind;

static const struct {
    const char *name;
    file_kind kind;
    int required;
    int ncols;
} data_files[] = {
    {"valence.tsv", FILE_VALENCE, 1, 2},
    {"valence_forms.tsv", FILE_VALENCE_FORMS, 0, 2},
    {"valence_corpus.tsv", FILE_VALENCE_CORPUS, 0, 2},
    {"modifiers.tsv", FILE_MODIFIERS, 1, 3},
    {"emotion.tsv", FILE_EMOTION, 1, 3},
    {"emotion_corpus.tsv", FILE_EMOTION_CORPUS, 0, 3},
    {"urgency.tsv", FILE_URGENCY, 1, 3},
    {"abuse.tsv", FILE_ABUSE, 1, 2},
    {"preferences.tsv", FILE_PREFS, 1, 3},
};

static attune_err apply_line(lex_table *t, ctok_buf *tb, file_kind kind, char **col, char *why,
                             size_t why_size)
{
    lex_entry *e;
    attune_err err = intern(t, tb, col[0], &e);
    if (err == ATTUNE_ERR_PARSE) {
        snprintf(why, why_size, "term with punctuation (it would never match)");
        return err;
    }
    if (err) {
        snprintf(why, why_size, "bad term (%s)", attune_err_str(err));
        return err;
    }
    float v;
    int k;
    switch (kind) {
    case FILE_VALENCE:
    case FILE_VALENCE_FORMS:
    case FILE_VALENCE_CORPUS:
        if (!parse_float(col[1], -4.0f, 4.0f, &v)) {
            snprintf(why, why_size, "valence must be a number in [-4, 4]");
            return ATTUNE_ERR_PARSE;
        }
        if (kind != FILE_VALENCE && (e->flags & LEX_F_VALENCE))
            break; /* the hand-written lexicon wins, then the forms of its words */
        if (e->flags & LEX_F_VALENCE) {
            /* (a silent second value would hide an edit) */
            snprintf(why, why_size, "term already has a valence (written twice?)");
            return ATTUNE_ERR_PARSE;
        }
        e->valence = v;
        e->flags |= LEX_F_VALENCE | (kind == FILE_VALENCE_CORPUS ? LEX_F_CORPUS : 0) |
                    (kind == FILE_VALENCE_FORMS ? LEX_F_FORM : 0);
        break;
    case FILE_MODIFIERS:
        k = lookup_kind(col[1], mod_names, sizeof mod_names / sizeof mod_names[0]);
        if (k < 0 || !parse_float(col[2], -4.0f, 4.0f, &v)) {
            snprintf(why, why_size,
                     "want: term, negator|booster|contrast|contrast_before|"
                     "persist|excess|interjection|scope_end|want|function|laugh, number");
            return ATTUNE_ERR_PARSE;
        }
        if (e->mod != LEX_MOD_NONE) {
            /* a word has one modifier kind: "super" cannot be a booster and
             * an interjection */
            snprintf(why, why_size, "term already is a %s", mod_names[e->mod]);
            return ATTUNE_ERR_PARSE;
        }
        e->mod = (uint8_t)k;
        e->mod_value = v;
        break;
    case FILE_EMOTION:
    case FILE_EMOTION_CORPUS:
        k = emotion_index(col[1]);
        if (k < 0 || !parse_float(col[2], 0.0f, 4.0f, &v)) {
            snprintf(why, why_size,
                     "want: term, anger|fear|sadness|confusion|joy, weight in [0, 4]");
            return ATTUNE_ERR_PARSE;
        }
        if (kind == FILE_EMOTION_CORPUS && (e->flags & LEX_F_EMO_HAND))
            break;
        if (kind == FILE_EMOTION && (e->flags & LEX_F_EMO_HAND) && e->emo[k] != 0) {
            snprintf(why, why_size, "term already has this emotion (written twice?)");
            return ATTUNE_ERR_PARSE;
        }
        e->emo[k] = v;
        e->flags |= LEX_F_EMOTION | (kind == FILE_EMOTION ? LEX_F_EMO_HAND : 0);
        break;
    case FILE_URGENCY:
        k = lookup_kind(col[1], urgency_names, sizeof urgency_names / sizeof urgency_names[0]);
        if (k < 0 || !parse_float(col[2], -4.0f, 4.0f, &v)) {
            snprintf(why, why_size,
                     "want: term, urgency|effort|duration|danger|deadline, number in [-4, 4]");
            return ATTUNE_ERR_PARSE;
        }
        const int is_urgency = k != EFFORT_KIND && k != DURATION_KIND;
        if ((is_urgency && e->urgency != 0) || (!is_urgency && e->effort != 0)) {
            snprintf(why, why_size, "term already has this kind (written twice?)");
            return ATTUNE_ERR_PARSE;
        }
        if (k == DANGER_KIND && v <= 0) {
            snprintf(why, why_size, "a danger weight is above 0");
            return ATTUNE_ERR_PARSE;
        }
        const int timed = k == DURATION_KIND || k == DEADLINE_KIND;
        /* a timed weight counts only beside its time: another kind on the
         * same term would be read as timed too */
        if ((e->flags & LEX_F_TIMED) || (timed && (e->urgency != 0 || e->effort != 0))) {
            snprintf(why, why_size, "a duration or deadline term has no other kind");
            return ATTUNE_ERR_PARSE;
        }
        if (is_urgency)
            e->urgency = v;
        else
            e->effort = v; /* effort, or a duration's effort */
        if (timed)
            e->flags |= LEX_F_TIMED;
        if (k == DANGER_KIND)
            e->flags |= LEX_F_DANGER;
        break;
    case FILE_ABUSE:
        k = lookup_kind(col[1], abuse_names, sizeof abuse_names / sizeof abuse_names[0]);
        if (k < 0) {
            snprintf(why, why_size, "unknown abuse kind");
            return ATTUNE_ERR_PARSE;
        }
        /* a spelling written twice is harmless; a second kind would win
         * silently (terms are compared as the tokenizer folds them) */
        if (e->abuse != LEX_ABUSE_NONE && e->abuse != k) {
            snprintf(why, why_size, "term already is a %s", abuse_names[e->abuse]);
            return ATTUNE_ERR_PARSE;
        }
        e->abuse = (uint8_t)k;
        break;
    case FILE_PREFS: {
        k = lookup_kind(col[1], pref_names, sizeof pref_names / sizeof pref_names[0]);
        size_t vl = strlen(col[2]);
        if (k < 0 || vl == 0 || vl >= CLASSIFY_LABEL_MAX) {
            snprintf(why, why_size, "want: term, preference field, value (< %d bytes)",
                     CLASSIFY_LABEL_MAX);
            return ATTUNE_ERR_PARSE;
        }
        /* as for abuse: "sie" (de) and "się" (pl) fold to one term */
        if (e->pref != LEX_PREF_NONE) {
            if (e->pref == k && strcmp(lex_pref_value(t, e), col[2]) == 0)
                break;
            snprintf(why, why_size, "term already is %s %s", pref_names[e->pref],
                     lex_pref_value(t, e));
            return ATTUNE_ERR_PARSE;
        }
        uint32_t off;
        err = arena_add(t, col[2], vl, &off);
        if (err) {
            snprintf(why, why_size, "%s", attune_err_str(err));
            return err;
        }
        /* arena_add may not move entries, only the arena */
        e->pref = (uint8_t)k;
        e->pref_off = off;
        break;
    }
    }
    return ATTUNE_OK;
}

static attune_err load_file(lex_table *t, ctok_buf *tb, const char *dir, size_t fi, char *errstr,
                            size_t errstr_size)
{
    char path[4096];
    int pn = snprintf(path, sizeof path, "%s/%s", dir, data_files[fi].name);
    if (pn < 0 || (size_t)pn >= sizeof path)
        return attune_errf(ATTUNE_ERR_LIMIT, errstr, errstr_size, "data directory path too long");
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!data_files[fi].required && errno == ENOENT)
            return ATTUNE_OK;
        return attune_errf(ATTUNE_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
    }
    char line[LEX_MAX_LINE];
    unsigned lineno = 0;
    attune_err err = ATTUNE_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        else if (!feof(f)) {
            err = attune_errf(ATTUNE_ERR_LIMIT, errstr, errstr_size, "%s:%u: line longer than %d",
                              path, lineno, LEX_MAX_LINE - 2);
            break;
        }
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        static char none[1];
        char *col[3] = {line, none, none}; /* missing columns read as "" */
        int nc = 1;
        for (char *p = line; *p && nc <= 3; p++) {
            if (*p == '\t') {
                *p = '\0';
                if (nc < 3)
                    col[nc] = p + 1;
                nc++;
            }
        }
        if (nc != data_files[fi].ncols) {
            err = attune_errf(ATTUNE_ERR_PARSE, errstr, errstr_size,
                              "%s:%u: want %d tab-separated columns, got %d", path, lineno,
                              data_files[fi].ncols, nc);
            break;
        }
        char why[160];
        err = apply_line(t, tb, data_files[fi].kind, col, why, sizeof why);
        if (err) {
            err = attune_errf(err, errstr, errstr_size, "%s:%u: %s", path, lineno, why);
            break;
        }
    }
    if (!err && ferror(f))
        err = attune_errf(ATTUNE_ERR_IO, errstr, errstr_size, "%s: read error", path);
    fclose(f);
    return err;
}

/* A phrase of another file ("on hold for an hour" in urgency.tsv, "take my
 * business elsewhere" in emotion.tsv) is matched whole, so a valence
 * idiom inside it ("on hold", "business elsewhere", "not working") would
 * never be: the phrase takes the valence of the longest one it holds. */
static void inherit_valence(lex_table *t, lex_entry *e)
{
    uint64_t hash[LEX_MAX_PHRASE];
    size_t n = 0;
    const char *name = t->arena + e->name_off;
    for (size_t p = 0; p < e->name_len && n < LEX_MAX_PHRASE;) {
        size_t q = p;
        while (q < e->name_len && name[q] != ' ')
            q++;
        hash[n++] = ctok_hash_bytes(name + p, q - p);
        p = q + 1;
    }
    if (n != e->ntok)
        return; /* (intern keeps names whole: a safeguard only) */
    for (size_t len = n - 1; len >= 2; len--)
        for (size_t from = 0; from + len <= n; from++) {
            uint64_t key = CTOK_PHRASE_SEED;
            for (size_t k = from; k < from + len; k++)
                key = ctok_phrase_step(key, hash[k]);
            const lex_entry *sub = lex_find(t, key);
            if (sub && sub->ntok == len && (sub->flags & LEX_F_VALENCE) && sub->valence != 0) {
                e->valence = sub->valence;
                e->flags |= LEX_F_VALENCE;
                return;
            }
        }
}

/* Once every file is in: the valence a phrase of another file inherits,
 * then what each entry carries (LEX_H_*). */
static void lex_finish(lex_table *t)
{
    for (size_t i = 0; i < t->used; i++) {
        lex_entry *e = &t->entries[i];
        /* (not a phrase that says calm, "no reply needed", nor one that
         * clears a word of abuse: those get a valence of 0 in valence.tsv) */
        if (e->ntok >= 3 && !(e->flags & LEX_F_VALENCE) && e->mod == LEX_MOD_NONE &&
            e->pref == LEX_PREF_NONE && e->urgency >= 0)
            inherit_valence(t, e);
    }
    for (size_t i = 0; i < t->used; i++) {
        lex_entry *e = &t->entries[i];
        unsigned h = 0;
        /* (a negator for "never" and the verb after it, a duration for
         * a wait: see the sentiment stage) */
        if ((e->flags & LEX_F_VALENCE) || lex_is_duration(e) || e->mod == LEX_MOD_PERSIST ||
            e->mod == LEX_MOD_NEGATOR || e->mod == LEX_MOD_FUNCTION)
            h |= LEX_H_SENTIMENT;
        if (e->flags & LEX_F_EMOTION)
            h |= LEX_H_EMOTION;
        if (e->abuse != LEX_ABUSE_NONE)
            h |= LEX_H_ABUSE;
        if (e->abuse != LEX_ABUSE_NONE && e->abuse < LEX_ABUSE_TARGET)
            h |= LEX_H_THREAT;
        if (e->urgency != 0 || e->effort != 0)
            h |= LEX_H_URGENCY;
        if (e->pref != LEX_PREF_NONE)
            h |= LEX_H_PREF;
        if (e->mod == LEX_MOD_CONTRAST_AFTER || e->mod == LEX_MOD_CONTRAST_BEFORE)
            h |= LEX_H_CONTRAST;
        if (e->mod == LEX_MOD_BOOSTER || e->mod == LEX_MOD_EXCESS)
            h |= LEX_H_BOOST;
        e->has = (uint8_t)h;
    }
}

attune_err lex_load_dir(lex_table *t, const char *dir, char *errstr, size_t errstr_size)
{
    memset(t, 0, sizeof *t);
    /* the tokenizer's buffer is too big for the stack of a loader */
    ctok_buf *tb = malloc(sizeof *tb);
    if (!tb)
        return attune_errf(ATTUNE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    attune_err err = grow(t);
    for (size_t i = 0; !err && i < sizeof data_files / sizeof data_files[0]; i++)
        err = load_file(t, tb, dir, i, errstr, errstr_size);
    free(tb);
    if (err == ATTUNE_ERR_NOMEM)
        attune_errf(err, errstr, errstr_size, "out of memory loading %s", dir);
    if (err)
        lex_fini(t);
    else
        lex_finish(t);
    return err;
}

void lex_fini(lex_table *t)
{
    free(t->entries);
    free(t->keys);
    free(t->arena);
    memset(t, 0, sizeof *t);
}
