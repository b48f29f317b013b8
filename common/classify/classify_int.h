/* classify_int: what the classifier's own .c files share; not for callers. */
#ifndef ATTUNE_CLASSIFY_INT_H
#define ATTUNE_CLASSIFY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "classify/classify.h"

/* --- tokens --------------------------------------------------------------- */

enum {
    CTOK_WORD = 0,
    CTOK_NUM,
    CTOK_EMOTICON,
    CTOK_EMOJI,
    CTOK_PUNCT,
};

enum {
    CTOK_F_ALLCAPS = 1,    /* written in capitals (two letters or more) */
    CTOK_F_ELONG = 2,      /* had a letter repeated three times or more */
    CTOK_F_SENT_END = 4,   /* punctuation that ends a sentence (. ! ? ;) */
    CTOK_F_CLAUSE_END = 8, /* punctuation that ends a clause (, : and sentence ends) */
    CTOK_F_TITLE = 16      /* Capitalised like a name: first letter upper, the rest lower */
};

/* Longest normalised token kept, in bytes; longer words are cut (they are
 * never in a lexicon anyway). */
#define CTOK_MAX_LEN 64

typedef struct {
    uint64_t hash;  /* of the normalised form (runs squeezed to two) */
    uint64_t hash1; /* runs squeezed to one, for "sooo" -> "so"; == hash unless ELONG */
    uint32_t norm_off;
    uint16_t norm_len;
    uint16_t src_off;
    uint16_t src_len;
    uint8_t kind;
    uint8_t flags;
    uint8_t n_excl;  /* PUNCT: '!' in the run */
    uint8_t n_quest; /* PUNCT: '?' in the run */
    uint8_t punct;   /* PUNCT: first ASCII character, 0 if not ASCII */
    uint8_t pad;
} ctok;

typedef struct {
    size_t n;
    size_t norm_used;
    int truncated;
    int all_caps_text; /* every word is in capitals: caps carry no emphasis */
    int title_text;    /* most words are Capitalised (a headline): no names to tell */
    unsigned n_words;
    unsigned n_caps, n_titles; /* words flagged CTOK_F_ALLCAPS, CTOK_F_TITLE */
    ctok tok[CLASSIFY_MAX_TOKENS];
    char norm[CLASSIFY_MAX_TEXT * 2 + CTOK_MAX_LEN * 2];
} ctok_buf;

/* Tokenizes at most CLASSIFY_MAX_TEXT bytes of text into tb. */
void ctok_run(const char *text, size_t len, ctok_buf *tb);
/* The same with the one-pass path for plain ASCII words on or off: both
 * must give the same tokens (the fuzzer and the unit tests compare them). */
void ctok_run_opts(const char *text, size_t len, ctok_buf *tb, int fast);

uint64_t ctok_hash_bytes(const char *s, size_t n);
/* The key of a phrase of n >= 2 tokens, from the tokens' hashes. */
static inline uint64_t ctok_phrase_step(uint64_t h, uint64_t tok_hash)
{
    /* inline: every phrase look-up and every intent bigram key steps it */
    h = (h << 7 | h >> 57) ^ tok_hash;
    h *= 0x9E3779B97F4A7C15ULL;
    return h ? h : 1;
}
#define CTOK_PHRASE_SEED 0x2545F4914F6CDD1DULL

static inline const char *ctok_text(const ctok_buf *tb, size_t i)
{
    return tb->norm + tb->tok[i].norm_off;
}

/* --- lexicon -------------------------------------------------------------- */

enum {
    LEX_MOD_NONE = 0,
    LEX_MOD_NEGATOR,
    LEX_MOD_BOOSTER,         /* value > 0 intensifies, < 0 dampens */
    LEX_MOD_CONTRAST_AFTER,  /* "but": what follows counts more */
    LEX_MOD_CONTRAST_BEFORE, /* "although": its own clause counts less */
    LEX_MOD_PERSIST,         /* "still", "again": a problem that goes on */
    LEX_MOD_EXCESS,          /* "too": intensifies bad, turns good into too much */
};

enum {
    LEX_ABUSE_NONE = 0,
    LEX_ABUSE_PROFANITY,
    LEX_ABUSE_INSULT,
    LEX_ABUSE_SLUR,
    LEX_ABUSE_VIOLENCE,
    LEX_ABUSE_THREAT,   /* a threat by itself: "i know where you live" */
    LEX_ABUSE_DIRECTED, /* abuse by itself: "screw you", "shut up" */
    LEX_ABUSE_TARGET,   /* you, your, agent: a person being addressed */
    LEX_ABUSE_OBJECT,   /* app, website, product: a thing, not a person */
    LEX_ABUSE_FUTURE,   /* i'll, gonna: announces an act */
    LEX_ABUSE_SELF,     /* me, myself, it: not a person being addressed */
};

enum {
    LEX_PREF_NONE = 0,
    LEX_PREF_CHANNEL,
    LEX_PREF_AVOID,
    LEX_PREF_TIME,
    LEX_PREF_LANGUAGE,
    LEX_PREF_PACE,
    LEX_PREF_POLITE,
    LEX_PREF_CONTACT_VERB, /* call, reach, contact: a sentence about contacting */
    LEX_PREF_TIME_WORD,    /* after, before, around: a time follows */
};

enum {
    LEX_F_VALENCE = 1,
    LEX_F_CORPUS = 2, /* valence came from the corpus-derived file */
    LEX_F_EMOTION = 4,
    LEX_F_EMO_HAND = 8,      /* emotions came from the hand-written file */
    LEX_F_PHRASE_START = 16, /* some phrase begins with this word */
};

enum { LEX_EMO_N = 5 }; /* anger fear sadness confusion joy */

typedef struct {
    uint64_t key; /* 0 marks an empty slot */
    float valence;
    float mod_value;
    float emo[LEX_EMO_N];
    float urgency;
    float effort;
    uint32_t name_off;
    uint32_t pref_off; /* value string in the arena */
    uint8_t name_len;
    uint8_t ntok;
    uint8_t flags;
    uint8_t mod;
    uint8_t abuse;
    uint8_t pref;
    uint8_t phrase_max; /* LEX_F_PHRASE_START: the most tokens of a phrase
                           that begins with this word */
    uint8_t pad[1];
} lex_entry;

/* A slot of the key table: the entries themselves are stored densely, in
 * the order they were made, so the ones a text hits share fewer cache lines
 * than in a sparse table. */
typedef struct {
    uint64_t key;       /* 0 marks an empty slot */
    uint32_t idx;       /* into entries, or LEX_NO_ENTRY */
    int32_t intent_row; /* the intent model's row of this word, or -1 */
} lex_key;

#define LEX_NO_ENTRY UINT32_MAX

typedef struct {
    lex_entry *entries; /* used of entries_cap */
    size_t entries_cap;
    lex_key *keys; /* open addressing, cap slots, n_keys used */
    size_t cap;    /* power of two */
    size_t n_keys;
    size_t used; /* entries */
    char *arena;
    size_t arena_used, arena_cap;
    unsigned max_phrase; /* longest phrase in tokens */
} lex_table;

#define LEX_MAX_PHRASE 6

/* The table is also the word index of the intent model: a token's one
 * probe gives its lexicon entry (NULL when the word has none) and the
 * model's row for it (-1 when none), see classify_new. */
const lex_entry *lex_find(const lex_table *t, uint64_t key);
const lex_entry *lex_probe(const lex_table *t, uint64_t key, int32_t *intent_row);
/* Load time only: fails on a second row for one key. */
attune_err lex_set_intent_row(lex_table *t, uint64_t key, int32_t row);
static inline const char *lex_name(const lex_table *t, const lex_entry *e)
{
    return t->arena + e->name_off;
}
static inline const char *lex_pref_value(const lex_table *t, const lex_entry *e)
{
    return t->arena + e->pref_off;
}

attune_err lex_load_dir(lex_table *t, const char *dir, char *errstr, size_t errstr_size);
void lex_fini(lex_table *t);

/* --- intent model --------------------------------------------------------- */

/* The model's tables: one for bigrams (bigram_key of the two words'
 * hashes) and passive stems (FNV-1a of "p:STEM"), a small one for
 * character grams (gram_key of the gram's bytes); a slot packs part of the
 * key with the row, see intent.c. Word rows (the unigram plus all the
 * word's character grams) are found through the lexicon's key table instead
 * (intent_model_index_words). */
typedef struct {
    size_t n_class;
    char labels[CLASSIFY_MAX_INTENTS][CLASSIFY_LABEL_MAX];
    int probabilistic; /* logistic regression: scores are log-odds */
    float bias_value;
    float *bias_w;  /* n_class */
    float *bias;    /* stride: bias_w times bias_value, the padding 0 */
    size_t stride;  /* n_class rounded up to a multiple of 12 */
    float *rows;    /* n_feat + 1 rows of stride floats (16-byte aligned),
                       the padding 0: a row of zeros, then the weights, each
                       already times its family's weight; a table's row
                       number plus one indexes it */
    float *weights; /* rows + stride: the weights of feature 0 */
    size_t n_feat;
    uint64_t *slots; /* bigrams and passive stems: key tag | row, 0 empty */
    size_t cap;
    uint64_t *gslots; /* character grams, likewise */
    size_t gcap;
    /* ASCII 3-grams indexed directly by their three bytes' codes (g3_bits
     * each; code 0 for a byte in none of them): the row plus one, 0 for
     * none. NULL when the grams use too many bytes. */
    uint16_t *g3;
    unsigned g3_bits;
    uint8_t g3_code[128];
    uint8_t *row_word;  /* per row: flags, see intent.c */
    uint32_t *row_name; /* name offset of each weight row */
    uint16_t *row_nlen; /* name length of each weight row */
    char *names;
    size_t names_used;
    uint64_t h_num, h_bos, h_eos; /* word hashes of "#" (numbers), "<s>", "</s>" */
    int32_t num_row;              /* the row of "w:#" (every number), or -1 */
} intent_model;

attune_err intent_model_load(intent_model *m, const char *path, char *errstr, size_t errstr_size);
/* Puts the model's word rows into the lexicon's key table (by the
 * tokenizer's hash of each word). */
attune_err intent_model_index_words(const intent_model *m, lex_table *lex, char *errstr,
                                    size_t errstr_size);
void intent_model_fini(intent_model *m);

/* --- the classifier ------------------------------------------------------- */

struct classify {
    lex_table lex;
    intent_model intent;
    int has_intent;
};

/* Per-call analysis shared by the stages of classify_text. */
typedef struct {
    const classify *c;
    const ctok_buf *tb;
    const lex_entry *lex[CLASSIFY_MAX_TOKENS];    /* word entry per token */
    int32_t intent_row[CLASSIFY_MAX_TOKENS];      /* the intent model's row of the word, or -1 */
    const lex_entry *phrase[CLASSIFY_MAX_TOKENS]; /* phrase starting at token */
    uint8_t phrase_len[CLASSIFY_MAX_TOKENS];
    int16_t owner[CLASSIFY_MAX_TOKENS]; /* start of the phrase covering a token, or -1 */
    /* the tokens with a word entry, in order (every phrase starts at one):
     * the rule stages that only act on entries walk these, not every token */
    uint16_t lexhit[CLASSIFY_MAX_TOKENS];
    size_t n_lexhit;
    uint8_t negated[CLASSIFY_MAX_TOKENS]; /* in a negation's scope */
    float sent_val[CLASSIFY_MAX_TOKENS];  /* final valence contribution per token */
    float sent_sum;
    float clause_w[CLASSIFY_MAX_TOKENS];
    float neg_sum, pos_sum;
    unsigned n_excl, n_quest;
    unsigned n_persist;
    unsigned n_profanity;
    unsigned n_urgency_cues;
    classify_result *r;
} classify_run;

void classify_evidence_add_text(classify_run *run, classify_evidence_kind kind, const char *rule,
                                const char *text, size_t len, float weight);
void classify_evidence_add(classify_run *run, classify_evidence_kind kind, const char *rule,
                           size_t tok_from, size_t tok_to, float weight);

void classify_sentiment(classify_run *run);
void classify_emotion_stage(classify_run *run);
void classify_threat_stage(classify_run *run);
void classify_urgency_stage(classify_run *run, const classify_context *ctx);
void classify_prefs_stage(classify_run *run);
void classify_intent_stage(classify_run *run);
/* The intent features of an already tokenized text. */
double classify_intent_features_tb(const ctok_buf *tb, int want_names, classify_feature_fn fn,
                                   void *arg);

#endif
