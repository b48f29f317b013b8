/* classify_int: what the classifier's own .c files share; not for callers. */
#ifndef ATTUNE_CLASSIFY_INT_H
#define ATTUNE_CLASSIFY_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
    unsigned n_nums;           /* tokens of kind CTOK_NUM (a stage reads numbers only then) */
    unsigned n_caps, n_titles; /* words flagged CTOK_F_ALLCAPS, CTOK_F_TITLE */
    ctok tok[CLASSIFY_MAX_TOKENS];
    char norm[CLASSIFY_MAX_TEXT * 2 + CTOK_MAX_LEN * 2];
} ctok_buf;

/* Tokenizes at most CLASSIFY_MAX_TEXT bytes of text into tb. */
void ctok_run(const char *text, size_t len, ctok_buf *tb);
/* The same with the one-pass path for plain ASCII words on or off: both
 * must give the same tokens (the fuzzer and the unit tests compare them). */
void ctok_run_opts(const char *text, size_t len, ctok_buf *tb, int fast);

/* The hash of n normalised bytes, never 0: a token's hash is the hash of
 * its normalised bytes (and an elongated word's hash1 that of them with
 * every run of a byte squeezed to one), so that the lexicon and the intent
 * model can key their words at load time. A multiply-xorshift mix per 8
 * bytes (see tokenize.c): the one-pass word reader hashes each chunk it
 * folds. */
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

/* Whether token i is the word w (normalised: lower case); 0 past the last
 * token, so that a rule may look ahead without counting. For the few rules
 * that name a grammar word ("for", "oh"); the first byte is compared first,
 * as most calls are misses. */
static inline int ctok_is_word(const ctok_buf *tb, size_t i, const char *w)
{
    if (i >= tb->n)
        return 0;
    const ctok *t = &tb->tok[i];
    const char *s = ctok_text(tb, i);
    return t->kind == CTOK_WORD && s[0] == w[0] && t->norm_len == strlen(w) &&
           memcmp(s, w, t->norm_len) == 0;
}

/* Whether the n bytes at w, n >= min, end in suffix ("ing", "ed"). */
static inline int word_ends(const char *w, size_t n, const char *suffix, size_t min)
{
    const size_t k = strlen(suffix);
    return n >= min && n >= k && memcmp(w + n - k, suffix, k) == 0;
}

/* The first token of the sentence token i is in. */
static inline size_t ctok_sentence_start(const ctok_buf *tb, size_t i)
{
    while (i > 0 && !(tb->tok[i - 1].flags & CTOK_F_SENT_END))
        i--;
    return i;
}

/* The token that ends the sentence of token i (. ! ? ;), from i on, or n
 * when the text ends first. */
static inline size_t ctok_sentence_end(const ctok_buf *tb, size_t i)
{
    while (i < tb->n && !(tb->tok[i].flags & CTOK_F_SENT_END))
        i++;
    return i;
}

/* The index in words[n] of the word token i is, or -1. */
static inline int ctok_word_in(const ctok_buf *tb, size_t i, const char *const *words, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (ctok_is_word(tb, i, words[k]))
            return (int)k;
    return -1;
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
    LEX_MOD_INTERJECTION,    /* "great", "wow": alone, sarcasm in a complaint */
    LEX_MOD_SCOPE_END,       /* "how", "why": a negation does not reach past it */
    LEX_MOD_WANT,            /* "need", "please": a good word after it is wanted */
    LEX_MOD_FUNCTION,        /* "load", "connect": negated, a fault ("won't load") */
    LEX_MOD_LAUGH,           /* "lol", "lmao": at a complaint, derision, not joy */
    LEX_MOD_IRONY,           /* an upside-down face: the praise beside it is not meant */
    LEX_MOD_TEARS,           /* loud crying: with good news, tears of joy */
    LEX_MOD_INSIST,          /* "asap", "now": urgency that gives no reason for it */
    LEX_MOD_FAULT,           /* "losing", "cutting off my": after "thanks for", a fault done */
};

enum {
    LEX_ABUSE_NONE = 0,
    LEX_ABUSE_PROFANITY,
    LEX_ABUSE_INSULT,
    LEX_ABUSE_SLUR,
    LEX_ABUSE_VIOLENCE,
    LEX_ABUSE_THREAT,       /* a threat by itself: "i know where you live" */
    LEX_ABUSE_DIRECTED,     /* abuse by itself: "screw you", "shut up" */
    LEX_ABUSE_NAME,         /* names only a person: "moron", "halfwit" */
    LEX_ABUSE_WEAPON,       /* a threat when carried or brought: "knife" */
    LEX_ABUSE_VEILED,       /* a threat in a complaint: "i'll pay you a visit" */
    LEX_ABUSE_BODY,         /* a part of the body: "jaw", harmed in a threat */
    LEX_ABUSE_OUTCOME,      /* an injury someone is left with: "stretcher" */
    LEX_ABUSE_PRIVATE,      /* someone's private life: "front door", "kids" */
    LEX_ABUSE_WISH,         /* hope, wish: abuse when it wishes staff harm */
    LEX_ABUSE_VIOLENT_FORM, /* stabbing, stabbed: violence only when announced */
    LEX_ABUSE_TARGET,       /* you, your, agent: a person being addressed */
    LEX_ABUSE_PERSON,       /* driver, manager, he: a person spoken of */
    LEX_ABUSE_OBJECT,       /* app, website, product: a thing, not a person */
    LEX_ABUSE_FUTURE,       /* i'll, gonna: announces an act */
    LEX_ABUSE_SELF,         /* me, myself, it: not a person being addressed */
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
    LEX_PREF_WRITTEN,      /* a common word of another language: "hola", "merci" */
};

enum {
    LEX_F_VALENCE = 1,
    LEX_F_CORPUS = 2, /* valence came from the corpus-derived file */
    LEX_F_EMOTION = 4,
    LEX_F_EMO_HAND = 8,      /* emotions came from the hand-written file */
    LEX_F_PHRASE_START = 16, /* some phrase begins with this word */
    /* its weight counts only beside a time (urgency.tsv): a duration's effort
     * after "been N", "for N"...; a deadline's urgency before a clock time
     * ("before 3pm"); see lex_is_duration, lex_is_deadline */
    LEX_F_TIMED = 32,
    LEX_F_FORM = 64,    /* valence of a form of a hand-written word (valence_forms.tsv) */
    LEX_F_DANGER = 128, /* urgency that can make a message critical (urgency.tsv) */
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
    uint8_t has;        /* LEX_H_*: what the stages may find here, see lex_finish */
    /* LEX_F_PHRASE_START: one bit (lex_sig_bit) per second token of the
     * phrases that begin with this word, a filter tried before any key */
    uint32_t second_sig;
} lex_entry;

/* A duration carries effort, a deadline urgency (LEX_F_TIMED). */
static inline int lex_is_duration(const lex_entry *e)
{
    return (e->flags & LEX_F_TIMED) && e->effort != 0;
}

static inline int lex_is_deadline(const lex_entry *e)
{
    return (e->flags & LEX_F_TIMED) && e->urgency != 0;
}

static inline uint32_t lex_sig_bit(uint64_t tok_hash)
{
    return (uint32_t)1 << (tok_hash >> 59);
}

/* What an entry carries, as one bit each, so that a call can tell from the
 * union over the entries it met which stages have nothing to do. */
enum {
    LEX_H_SENTIMENT = 1, /* valence, LEX_MOD_PERSIST or _NEGATOR, or a duration */
    LEX_H_EMOTION = 2,
    LEX_H_ABUSE = 4,   /* any abuse kind */
    LEX_H_URGENCY = 8, /* urgency or effort */
    LEX_H_PREF = 16,
    LEX_H_CONTRAST = 32, /* LEX_MOD_CONTRAST_AFTER or _BEFORE */
    LEX_H_BOOST = 64,    /* LEX_MOD_BOOSTER or LEX_MOD_EXCESS */
    LEX_H_THREAT = 128,  /* an abuse kind that raises the threat level by
                            itself (not target, object, future, self) */
};

/* A slot of the key table: the entries themselves are stored densely, in
 * the order they were made, so the ones a text hits share fewer cache lines
 * than in a sparse table. */
typedef struct {
    uint64_t key;       /* 0 marks an empty slot */
    uint32_t idx;       /* into entries, or LEX_NO_ENTRY */
    int32_t intent_row; /* the intent model's row of this word, or -1 */
} lex_key;

#define LEX_NO_ENTRY UINT32_MAX

/* Phrase filters, one bit per key by its top bits: one of the keys of every
 * phrase, one of the keys of every start of two tokens or more of a phrase.
 * Most phrase candidates of a text are turned away by these two kilobytes,
 * which stay in cache, instead of by probes into the key table. */
#define LEX_BLOOM_BITS 13
#define LEX_BLOOM_WORDS ((1u << LEX_BLOOM_BITS) / 64)

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
    uint64_t phrase_bloom[LEX_BLOOM_WORDS];
    uint64_t prefix_bloom[LEX_BLOOM_WORDS];
} lex_table;

#define LEX_MAX_PHRASE 7

/* The table is also the word index of the intent model: a token's one
 * probe (lex_key_in, in analyse) gives its lexicon entry and the model's
 * row for it, see classify_new. lex_find is the entry alone, NULL when the
 * key has none (load time and tests). */
const lex_entry *lex_find(const lex_table *t, uint64_t key);

/* The slot of key in keys (mask + 1 slots), or NULL; inline for the
 * look-up of every token. The table always has an empty slot (it is at
 * most half full). */
static inline const lex_key *lex_key_in(const lex_key *keys, size_t mask, uint64_t key)
{
    /* in bytes, so that a step needs no multiply by the slot's size */
    const size_t bmask = mask * sizeof *keys;
    for (size_t off = ((size_t)key * sizeof *keys) & bmask;; off = (off + sizeof *keys) & bmask) {
        const lex_key *k = (const lex_key *)(const void *)((const char *)keys + off);
        if (k->key == key)
            return k;
        if (k->key == 0)
            return NULL;
    }
}

static inline const lex_key *lex_key_find(const lex_table *t, uint64_t key)
{
    return lex_key_in(t->keys, t->cap - 1, key);
}

static inline const lex_entry *lex_key_entry(const lex_table *t, const lex_key *k)
{
    return k && k->idx != LEX_NO_ENTRY ? &t->entries[k->idx] : NULL;
}

static inline int lex_bloom_has(const uint64_t *bloom, uint64_t key)
{
    const unsigned b = (unsigned)(key >> (64 - LEX_BLOOM_BITS));
    return (int)(bloom[b / 64] >> (b % 64)) & 1;
}

/* Whether key may be a phrase: no when the filter says so. */
static inline int lex_maybe_phrase(const lex_table *t, uint64_t key)
{
    return lex_bloom_has(t->phrase_bloom, key);
}

/* Whether key (of two tokens or more) may begin a phrase or be one. */
static inline int lex_maybe_prefix(const lex_table *t, uint64_t key)
{
    return lex_bloom_has(t->prefix_bloom, key);
}
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

/* A binary head of the model (version 4): a logistic model over the same
 * features as the labels, in the columns after them, read for the threat
 * reading rather than the intent. */
#define INTENT_MAX_HEADS 2
typedef struct {
    char name[16];
    classify_threat_level level; /* the threat level it raises the reading to */
    float at;                    /* from this probability on */
    float at_log_odds;           /* the same as log-odds */
    float bias;                  /* its bias weight times bias_value */
} intent_head;

/* The model's tables: one for bigrams (bigram_key of the two words'
 * hashes) and passive stems (FNV-1a of "p:STEM"), a small one for
 * character grams (gram_key of the gram's bytes); a slot packs part of the
 * key with the row, see intent.c. Word rows (the unigram plus all the
 * word's character grams) are found through the lexicon's key table instead
 * (intent_model_index_words). */
typedef struct {
    size_t n_class;
    char labels[CLASSIFY_MAX_INTENTS][CLASSIFY_LABEL_MAX];
    size_t n_head; /* heads in the columns after the labels' */
    intent_head heads[INTENT_MAX_HEADS];
    size_t n_col;      /* n_class + n_head */
    int probabilistic; /* logistic regression: scores are log-odds */
    float bias_value;
    float *bias_w;  /* n_col */
    float *bias;    /* stride: bias_w times bias_value for the labels, the
                       heads' columns and the padding -inf */
    size_t stride;  /* n_col rounded up to a multiple of 12 */
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
     * each; code 0 for a byte in none of them): the offset of the row in
     * rows (in floats), 0 for none. NULL when the grams use too many
     * bytes. */
    uint32_t *g3;
    unsigned g3_bits;
    size_t g3_mask; /* the index's 3 * g3_bits bits */
    uint8_t g3_code[128];
    uint8_t *row_word;  /* per row: flags, see intent.c */
    uint8_t *row_grams; /* per row: a word row's number of character grams */
    uint32_t *row_name; /* name offset of each weight row */
    uint16_t *row_nlen; /* name length of each weight row */
    char *names;
    size_t names_used;
    uint64_t h_num, h_bos, h_eos; /* word hashes of "#" (numbers), "<s>", "</s>" */
    int32_t num_row;              /* the row of "w:#" (every number), or -1 */
    int32_t ed_from;              /* word rows from here on are of words in -ed (passive) */
    /* every bigram is of two words with rows (or "<s>" and "</s>"): a word
     * without a row has no bigram to look up */
    int bigram_words_known;
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
    /* urgency_exp(0): the urgency curve of a text with no cue at all (most
     * texts), worked out once by the same expf the stage calls */
    float urgency_exp0;
};

/* The exponential of the urgency curve at raw (stages.c): "high" (score
 * 0.45) from raw 0.78, so that one strong cue of time pressure ("court
 * hearing", "rent due", weight 0.8) is high on its own. */
static inline float urgency_exp(float raw)
{
    return expf(-(raw - 0.9f) * 1.6f);
}

/* Per token of classify_run.tflags. */
enum {
    RUN_T_NEGATED = 1,  /* in a negation's scope */
    RUN_T_PHRASE = 2,   /* a phrase starts here: phrase[i], phrase_len[i] */
    RUN_T_INNER = 4,    /* inside a phrase, after its first token: owner[i] */
    RUN_T_SARCASM = 8,  /* a positive interjection read as sarcasm, laughter as derision */
    RUN_T_DOUBTED = 16, /* praise in quotes of its own, counted 0 (sentiment) */
    RUN_T_JOYFUL = 32,  /* crying with good news: tears of joy, not sadness */
    RUN_T_QUOTED = 64,  /* inside a short quotation (threat stage, when asked) */
    RUN_T_UNMADE = 128, /* in a sentence whose threat is not made (threat stage) */
};

/* classify_run.clause_w_mode: how the weight of token i's clause is told. */
enum {
    RUN_CLAUSE_NONE = 0, /* 1 everywhere */
    RUN_CLAUSE_BUT,      /* before the last "but" or from it: last_but */
    RUN_CLAUSE_TOKENS,   /* clause_w[i] (an "although") */
};

/* Per-call analysis shared by the stages of classify_text. Most tokens have
 * no entry and most texts no phrase, so the per-token arrays that only
 * phrases need are written where a phrase is found and read only where
 * tflags says they were written. */
typedef struct {
    const classify *c;
    const ctok_buf *tb;
    const lex_entry *lex[CLASSIFY_MAX_TOKENS];    /* word entry per token */
    int32_t intent_row[CLASSIFY_MAX_TOKENS];      /* the intent model's row of the word, or -1 */
    uint8_t tflags[CLASSIFY_MAX_TOKENS];          /* RUN_T_* */
    const lex_entry *phrase[CLASSIFY_MAX_TOKENS]; /* RUN_T_PHRASE: the phrase starting here */
    uint8_t phrase_len[CLASSIFY_MAX_TOKENS];      /* RUN_T_PHRASE: its tokens */
    int16_t owner[CLASSIFY_MAX_TOKENS];           /* RUN_T_INNER: where its phrase starts */
    /* the tokens with a word entry, in order (every phrase starts at one):
     * the rule stages only act on entries, so they walk these */
    uint16_t lexhit[CLASSIFY_MAX_TOKENS];
    /* per item of lexhit: LEX_H_* of its word and of the phrase starting
     * there, so that a stage passes over the others without a look; eight
     * zeros follow the last (run_next_hit reads eight at a time) */
    uint8_t hithas[CLASSIFY_MAX_TOKENS + 8];
    size_t n_lexhit;
    /* LEX_H_* of every word and phrase entry met: a stage whose kind of
     * entry was never met has no loop to run */
    unsigned has;
    /* RUN_CLAUSE_*: how the contrast words weigh the clauses, by the last
     * "but" (last_but) or token by token (clause_w) */
    int clause_w_mode;
    size_t last_but;
    float clause_w[CLASSIFY_MAX_TOKENS];
    float sent_sum;
    unsigned sent_hits; /* sentiment items counted, for its confidence */
    float neg_sum, pos_sum;
    float fault_sum; /* the part of neg_sum from idioms and fault rules */
    unsigned n_excl, n_quest;
    unsigned n_persist;
    unsigned n_profanity;
    int threat_weapon;   /* the threat stage found a weapon carried or brought */
    int abuse_addressed; /* abuse in a clause that addresses someone ("you") */
    int quotes_marked;   /* RUN_T_QUOTED is set (the threat stage marks it once) */
    /* the threat stage met a threat phrase or violence that is not made
     * (reported, quoted, asked about, a danger a thing may bring) and
     * marked its sentence RUN_T_UNMADE: the model's heads, which cannot
     * tell why, read the text without those sentences */
    int threat_unmade;
    unsigned n_urgency_cues;
    /* the intent label's evidence, given last (classify_intent_evidence):
     * rows of the model and their pushes */
    int n_intent_ev;
    uint32_t intent_ev_row[3];
    float intent_ev_w[3];
    classify_result *r;
} classify_run;

/* The first item of lexhit from hk on whose entries carry attr (LEX_H_*
 * bits), or n_lexhit: eight items are tested at once. */
static inline size_t run_next_hit(const classify_run *run, size_t hk, unsigned attr)
{
    const uint64_t want = (uint64_t)attr * 0x0101010101010101u;
    for (; hk < run->n_lexhit; hk += 8) {
        uint64_t w;
        memcpy(&w, run->hithas + hk, sizeof w);
        w &= want;
        if (w) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            return hk + (size_t)(__builtin_clzll(w) / 8);
#else
            return hk + (size_t)(__builtin_ctzll(w) / 8);
#endif
        }
    }
    return run->n_lexhit;
}

/* The first item of lexhit whose entries carry attr, or n_lexhit; a stage
 * whose kind of entry the text never met looks no further. */
static inline size_t run_first_hit(const classify_run *run, unsigned attr)
{
    return (run->has & attr) ? run_next_hit(run, 0, attr) : run->n_lexhit;
}

/* The phrase starting at token i, or NULL. */
static inline const lex_entry *run_phrase(const classify_run *run, size_t i)
{
    return (run->tflags[i] & RUN_T_PHRASE) ? run->phrase[i] : NULL;
}

/* The phrase token i is inside, after its first token, or NULL. */
static inline const lex_entry *run_inner_phrase(const classify_run *run, size_t i)
{
    return (run->tflags[i] & RUN_T_INNER) ? run->phrase[run->owner[i]] : NULL;
}

/* Whether an entry is scorn: an idiom of clear negative valence ("thanks
 * for nothing"), not a polite "no thanks". */
static inline int lex_is_scorn(const lex_entry *e)
{
    return (e->flags & LEX_F_VALENCE) && e->valence <= -1.5f;
}

/* Whether an entry thanks sincerely: a politeness marker of value
 * "thanks" that is not scorn ("thanks for nothing"). */
static inline int lex_is_thanks(const lex_table *t, const lex_entry *e)
{
    return e->pref == LEX_PREF_POLITE && !lex_is_scorn(e) &&
           strcmp(lex_pref_value(t, e), "thanks") == 0;
}

/* Whether token i is part of a phrase (its first token included). */
static inline int run_in_phrase(const classify_run *run, size_t i)
{
    return (run->tflags[i] & (RUN_T_PHRASE | RUN_T_INNER)) != 0;
}

/* The first token of the phrase token i is in (run_in_phrase). */
static inline size_t run_phrase_start(const classify_run *run, size_t i)
{
    return (run->tflags[i] & RUN_T_PHRASE) ? i : (size_t)run->owner[i];
}

/* Whether token i is a word in n't ("won't", "isn't"). */
static inline int ctok_is_nt(const ctok_buf *tb, size_t i)
{
    const ctok *t = &tb->tok[i];
    if (t->kind != CTOK_WORD || t->norm_len <= 3)
        return 0;
    const char *s = ctok_text(tb, i) + t->norm_len - 3;
    return s[0] == 'n' && s[1] == '\'' && s[2] == 't';
}

/* Whether token i is inside a phrase that says its own negation: an idiom
 * with a valence ("not bad"), a modifier or a preference ("don't call");
 * a phrase of the other files ("heating not working" in urgency.tsv) lets
 * its negator act. */
static inline int run_in_idiom(const classify_run *run, size_t i)
{
    if (!run_in_phrase(run, i))
        return 0;
    const lex_entry *p = run->phrase[run_phrase_start(run, i)];
    return (p->flags & LEX_F_VALENCE) || p->mod != LEX_MOD_NONE || p->pref != LEX_PREF_NONE;
}

/* Whether token i negates what follows: a negator of the lexicon or any
 * word in n't, not inside an idiom. */
static inline int run_is_negator(const classify_run *run, size_t i)
{
    if (run_in_idiom(run, i))
        return 0;
    const lex_entry *e = run->lex[i];
    if (e && e->mod == LEX_MOD_NEGATOR)
        return 1;
    return ctok_is_nt(run->tb, i);
}

static inline int run_negated(const classify_run *run, size_t i)
{
    return run->tflags[i] & RUN_T_NEGATED;
}

/* The word of waiting before the duration at token i ("been 2 weeks": 0
 * for "been", more for "for", "over", "past", "last"), or -1 (stages.c). */
int classify_wait_word(const classify_run *run, size_t i, size_t *from);

/* Where the text first names a danger not negated (urgency.tsv's danger of
 * weight 1 or more, see classify_urgency_stage) whose entry carries none
 * of the LEX_H_ bits in unless, or SIZE_MAX; where it ends in *end unless
 * NULL. told: only a danger told, a phrase of weight URGENCY_DANGER_TOLD or
 * more ("someone is logging into", "water is pouring"), which is bad news
 * and frightens when its words do not say so themselves (a word alone,
 * "stalker", "oxygen", is as often a film's or a thing's). Any danger:
 * thanks beside "someone is using my card right now" still hurry
 * (stages.c). */
size_t classify_danger_at(const classify_run *run, unsigned unless, int told, size_t *end);

/* Whether the text says it needs something ("I need the laptop"), asks for
 * it ("please send the contract", "can you do the same for my husband's
 * account") or still waits ("just waiting on my order number"). */
int classify_needs_something(const ctok_buf *tb);

void classify_evidence_add_text(classify_run *run, classify_evidence_kind kind, const char *rule,
                                const char *text, size_t len, float weight);

/* When the list is full: the weakest item of the same kind, if the new one
 * is stronger, else NULL (the new one is dropped); for a kind with no item
 * yet, the weakest of the kind that has the most (every reading keeps a
 * reason). */
classify_evidence *classify_evidence_evict(classify_result *r, classify_evidence_kind kind,
                                           float weight);
/* The text of tokens [from, to): their normalised forms, a space before
 * each but punctuation, cut at a UTF-8 boundary where the item is full. */
void classify_evidence_text(const ctok_buf *tb, char *buf, size_t from, size_t to);

/* The item new evidence goes to, or NULL when it is dropped; known before
 * any text is made, so that a dropped item costs no text. */
static inline classify_evidence *classify_evidence_item(classify_result *r,
                                                        classify_evidence_kind kind,
                                                        const char *rule, float weight)
{
    classify_evidence *ev = r->n_evidence < CLASSIFY_MAX_EVIDENCE
                                ? &r->evidence[r->n_evidence++]
                                : classify_evidence_evict(r, kind, weight);
    if (ev) {
        ev->kind = kind;
        ev->rule = rule;
        ev->weight = weight;
    }
    return ev;
}

/* Copies len bytes (len > 0) and a NUL. Evidence is mostly a short word,
 * and two overlapping fixed-size copies cost less than a call to memcpy. */
static inline void classify_copy_short(char *dst, const char *src, size_t len)
{
    if (len >= 16) {
        memcpy(dst, src, len);
    } else if (len >= 8) {
        memcpy(dst, src, 8);
        memcpy(dst + len - 8, src + len - 8, 8);
    } else if (len >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + len - 4, src + len - 4, 4);
    } else {
        dst[0] = src[0];
        dst[len / 2] = src[len / 2];
        dst[len - 1] = src[len - 1];
    }
    dst[len] = '\0';
}

/* Evidence for tokens [tok_from, tok_to). Inline: the stages add one or two
 * items per text, mostly of one short word. */
static inline void classify_evidence_add(classify_run *run, classify_evidence_kind kind,
                                         const char *rule, size_t tok_from, size_t tok_to,
                                         float weight)
{
    classify_evidence *ev = classify_evidence_item(run->r, kind, rule, weight);
    if (!ev)
        return;
    const ctok_buf *tb = run->tb;
    const size_t len = tok_from < tb->n ? tb->tok[tok_from].norm_len : 0;
    if (tok_to == tok_from + 1 && len > 0 && len < sizeof ev->text)
        classify_copy_short(ev->text, ctok_text(tb, tok_from), len); /* the common case */
    else
        classify_evidence_text(tb, ev->text, tok_from, tok_to);
}

void classify_sentiment(classify_run *run);
/* After the threat stage: abuse or a threat aimed at staff is hostile,
 * whatever its words (sentiment.c). */
void classify_sentiment_hostile(classify_run *run);
/* Threat, intent (when there is a model; its heads may raise the threat
 * reading), emotion, urgency and preferences, in that order (stages.c). */
void classify_rule_stages(classify_run *run, const classify_context *ctx);

/* Marks a line that names no need of its own (intent.no_need) and, when
 * the contact's intent is known (classify_context.contact_intent), keeps
 * it; after every stage has read the line's own. */
void classify_intent_carry(classify_run *run, const char *contact_intent);
void classify_intent_stage(classify_run *run);
/* Asks the memory for the model rows and bigram slots the intent stage
 * will read, once analyse has found the words' rows: the stages between
 * run while they arrive (a hint only; nothing is read or written). */
void classify_intent_prefetch(const classify_run *run);
/* The intent label's evidence, which the intent stage kept: after the
 * other stages', as before the heads moved the stage (the list is bounded,
 * so which items it keeps depends on the order they come in). */
void classify_intent_evidence(classify_run *run);
/* The intent features of an already tokenized text. */
double classify_intent_features_tb(const ctok_buf *tb, int want_names, classify_feature_fn fn,
                                   void *arg);

#endif
