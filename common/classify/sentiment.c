/* sentiment: lexicon valence plus the rules that make a lexicon method work
 * on real messages: negation scope, intensifiers and dampeners, contrast
 * ("but" shifts the weight to what follows, "although" lowers its own
 * clause), emphasis by capitals, elongation and exclamation marks, idioms
 * (phrases in the lexicon replace their words), the contact-center habit
 * of "still" and "again" marking a problem that goes on, and sarcasm ("Oh
 * great, cancelled again"). */
#include <math.h>
#include <string.h>

#include "classify/classify_int.h"

/* Raw sums are squashed by s / sqrt(s^2 + ALPHA): about 0.3 for one strong
 * word, approaching 1 as evidence piles up. */
#define SENT_ALPHA 12.0f
/* A negated word keeps a fraction of its strength with the sign flipped:
 * "not good" is mildly negative, not as negative as "bad". */
#define SENT_NEGATION (-0.6f)
/* A bad thing forbidden in a command is still said of the one commanded:
 * "Don't lie to us" accuses (see reproach). */
#define SENT_REPROACH 0.6f
#define SENT_CAPS 1.3f
#define SENT_ELONG 1.15f
#define SENT_BEFORE_BUT 0.5f
#define SENT_AFTER_BUT 1.4f
#define SENT_ALTHOUGH 0.5f
#define SENT_EXCL 0.2f
#define SENT_PERSIST 0.45f
/* A positive word in the clause that asks a question is asked about, not
 * said ("Can you help me?"), and so is a mild negative one, a topic more
 * than a complaint ("What is the fee?", "Can I cancel my order?"), unless
 * the question asks why or what is wrong ("Why is my bill wrong?"); a
 * strong one still tells ("Is the app broken again?"). */
#define SENT_QUESTION 0.2f
/* A positive word that is wanted is not yet had: "I need this sorted
 * today", "I want a working phone" (see wished). */
#define SENT_WISH 0.3f
#define SENT_QUESTION_MILD (-1.0f)
/* Sarcasm: a word that can be said as an interjection (modifiers.tsv:
 * "great", "wonderful", "wow", "love", "just what I needed"), alone in its
 * clause, is scorn, not praise, when what it comments on is a complaint:
 * the rest of its sentence when a comma leads on ("Great, another outage",
 * "Oh wonderful, you charged me twice"), or everything before it when it
 * closes the message ("Lost again. Great."). It keeps part of its strength
 * with the sign flipped, as a negated word does. A complaint: items summing
 * to SENT_SARCASM_REST or less, one clear complaint word or a mild one that
 * goes on ("cancelled again"). A sentence of its own that opens the
 * message is a verdict ("Love it. The battery is poor."), and thanks in its
 * sentence make it sincere ("Great, thank you. It is still broken."). */
#define SENT_SARCASM (-0.6f)
#define SENT_SARCASM_REST (-1.4f)
/* A word of praise (not of surprise: "wow") left alone at the end of a
 * complaint ("no updates, no announcements. great.") needs less of one:
 * nothing follows for it to praise. */
#ifndef SENT_SARCASM_CLOSING
#define SENT_SARCASM_CLOSING (-1.0f)
#endif
#define SENT_SARCASM_PRAISE 2.0f
#define SENT_SARCASM_MAX 4
/* Laughter ("lol", "lmao", "haha") is joy with good news or on its own, and
 * derision, worth nothing, beside a clear complaint anywhere in the message
 * ("lmao your bot is useless", "delayed again lol"), the customer's own
 * apologies left out: it is said of the whole message, wherever it stands,
 * so it needs no clause of its own. */
#define SENT_LAUGH_REST (-1.4f)
#define SENT_LAUGH_MAX 4
/* (An upside-down face says the praise of the message is not meant: "Lost
 * my wallet, brilliant 🙃", "Great service. 🙃"; every praise is read as
 * sarcasm, see not_meant.) Loud crying in a message whose other words are good news at least this
 * much is tears of joy ("first house!!! 😭❤️"): it counts SENT_TEARS_GLAD of
 * its strength as joy instead of grief. */
#define SENT_TEARS_REST 1.0f
#define SENT_TEARS_GLAD 0.5f
#define SENT_TEARS_MAX 4
/* Praise in quotes of its own, one to three words, is someone else's word,
 * doubted: the "premium" support, the mast "upgrade", "delivered". */
#define SENT_QUOTED 0.0f
#define SENT_QUOTED_MAX 3
#ifndef SENT_EXASPERATION
#define SENT_EXASPERATION (-0.6f)
#endif
/* the items a message's complaint is read from; a longer message's later
 * items are not looked at for sarcasm */
#define SENT_ITEMS_MAX 64
/* A message that abuses or threatens staff is hostile (see
 * classify_sentiment_hostile). */
#define SENT_ABUSE (-2.5f)
/* A danger to a person or a home told in a message that asks nothing. */
#define SENT_DANGER (-1.5f)
#define SENT_THREAT (-3.0f)
/* Thanks or good wishes after a complaint (the rest summing to this or
 * less: one clear complaint word) are courtesy; after an apology ("Sorry
 * for the trouble. Thank you.") they are still thanks. */
#define SENT_COURTESY_REST (-1.0f)
/* Thanks after a question whose other words sum to less than this either
 * way are courtesy too. */
#define SENT_COURTESY_ASKED 0.3f
/* ... when they are one plain thanks ("thanks", "thank you"), no more. */
#define SENT_COURTESY_ASKED_THANKS 2.0f
/* A capitalised word this negative is emphasis, not part of a name. */
#define SENT_NAME_NEGATIVE (-1.5f)
/* Labels. Negative: the score of one plain complaint word. Positive asks
 * for more, about one clearly glad word ("great", "thank you"): in a
 * contact, a hope, a "please help" or a "that would be fine" around a
 * request is manners, not gladness. On real contacts to brands (three
 * samples of tweets, crowd- or blind-labelled) 0.30 read 0.8 to 3.6 points
 * more labels right than 0.12, and it still beats VADER on the review
 * snippets (docs/classifier.md). */
#define SENT_NEGATIVE_THRESHOLD 0.12f
#define SENT_POSITIVE_THRESHOLD 0.30f

static float signf(float v)
{
    return v < 0 ? -1.0f : 1.0f;
}

/* The modifier entry of token i, unless it is part of a phrase. */
static const lex_entry *mod_at(const classify_run *run, size_t i)
{
    if (run_in_phrase(run, i)) {
        /* a modifier phrase ("kind of", "even though", "any more") acts
         * from its first token; its words never act alone */
        const lex_entry *p = run_phrase(run, i);
        return p && p->mod != LEX_MOD_NONE ? p : NULL;
    }
    const lex_entry *e = run->lex[i];
    return e && e->mod != LEX_MOD_NONE ? e : NULL;
}

/* The end of the modifier at i: a phrase's evidence names all its words. */
static size_t mod_end(const classify_run *run, size_t i)
{
    return run_phrase(run, i) ? i + run->phrase_len[i] : i + 1;
}

/* Only called when a contrast word was met (LEX_H_CONTRAST). The weights
 * of a text with a "but" and no "although" are told by where the "but" is
 * (run->last_but); only an "although" needs them token by token. */
static void contrast_weights(classify_run *run)
{
    const ctok_buf *tb = run->tb;
    size_t last_but = tb->n;
    int before = 0;
    for (size_t hk = run_first_hit(run, LEX_H_CONTRAST); hk < run->n_lexhit;
         hk = run_next_hit(run, hk + 1, LEX_H_CONTRAST)) {
        const size_t i = run->lexhit[hk];
        const lex_entry *m = mod_at(run, i);
        if (m && m->mod == LEX_MOD_CONTRAST_AFTER && i > 0)
            last_but = i;
        before |= m && m->mod == LEX_MOD_CONTRAST_BEFORE;
    }
    if (last_but < tb->n)
        classify_evidence_add(run, CLASSIFY_EV_SENTIMENT, "contrast", last_but,
                              mod_end(run, last_but), SENT_AFTER_BUT);
    if (!before) {
        /* weights of 1 change nothing */
        run->clause_w_mode = last_but < tb->n ? RUN_CLAUSE_BUT : RUN_CLAUSE_NONE;
        run->last_but = last_but;
        return;
    }
    run->clause_w_mode = RUN_CLAUSE_TOKENS;
    if (last_but < tb->n) {
        for (size_t i = 0; i < tb->n; i++)
            run->clause_w[i] = i < last_but ? SENT_BEFORE_BUT : SENT_AFTER_BUT;
    } else {
        for (size_t i = 0; i < tb->n; i++)
            run->clause_w[i] = 1.0f;
    }
    /* "although ..." lowers its own clause and lifts the rest of its sentence */
    for (size_t hk = run_first_hit(run, LEX_H_CONTRAST); hk < run->n_lexhit;
         hk = run_next_hit(run, hk + 1, LEX_H_CONTRAST)) {
        const size_t i = run->lexhit[hk];
        const lex_entry *m = mod_at(run, i);
        if (!m || m->mod != LEX_MOD_CONTRAST_BEFORE)
            continue;
        size_t j = i + 1;
        for (; j < tb->n && !(tb->tok[j].flags & CTOK_F_CLAUSE_END); j++)
            run->clause_w[j] *= SENT_ALTHOUGH;
        if (j < tb->n && !(tb->tok[j].flags & CTOK_F_SENT_END))
            for (size_t k = j; k < tb->n && !(tb->tok[k].flags & CTOK_F_SENT_END); k++)
                run->clause_w[k] *= 1.0f / SENT_ALTHOUGH > 1.5f ? 1.5f : 1.0f / SENT_ALTHOUGH;
        classify_evidence_add(run, CLASSIFY_EV_SENTIMENT, "contrast", i, mod_end(run, i),
                              SENT_ALTHOUGH);
    }
}

/* Whether tokens [from, to) stand alone between double quotes. */
static int quoted(const ctok_buf *tb, size_t from, size_t to)
{
    return from > 0 && to < tb->n && to - from <= SENT_QUOTED_MAX &&
           tb->tok[from - 1].kind == CTOK_PUNCT && tb->tok[from - 1].punct == '"' &&
           tb->tok[to].kind == CTOK_PUNCT && tb->tok[to].punct == '"';
}

/* Words that can stand with an interjection in its clause without making
 * it a statement about something: "oh great", "just perfect", "love it". */
static int is_filler(const ctok_buf *tb, size_t i)
{
    static const char *const words[] = {"oh",   "just", "so",   "really", "how",  "wow", "well",
                                        "yeah", "ah",   "very", "it",     "that", "this"};
    return ctok_word_in(tb, i, words, sizeof words / sizeof words[0]) >= 0;
}

enum { INTER_NONE, INTER_LEADS, INTER_ALONE };

/* Whether tokens [i, end) are an interjection: a clause of their own, give
 * or take one filler word, not conceded by a "but" after it ("Great, but
 * the app crashes" is praise and then a fault). INTER_LEADS: its clause
 * ends in a comma (or colon, dash) and the sentence goes on; INTER_ALONE:
 * it is the whole sentence. *clause_end: the token after its clause. */
static int interjection_form(const classify_run *run, size_t i, size_t end, size_t *clause_end)
{
    const ctok_buf *tb = run->tb;
    unsigned extra = 0;
    for (size_t j = i; j > 0 && !(tb->tok[j - 1].flags & CTOK_F_CLAUSE_END); j--)
        if (!is_filler(tb, j - 1) || ++extra > 1)
            return INTER_NONE;
    size_t k = end;
    for (; k < tb->n && !(tb->tok[k].flags & CTOK_F_CLAUSE_END); k++)
        if (!is_filler(tb, k) || ++extra > 1)
            return INTER_NONE;
    *clause_end = k;
    const int leads = k < tb->n && !(tb->tok[k].flags & CTOK_F_SENT_END);
    while (k < tb->n && tb->tok[k].kind == CTOK_PUNCT)
        k++;
    const lex_entry *m = k < tb->n ? mod_at(run, k) : NULL;
    if (m && m->mod == LEX_MOD_CONTRAST_AFTER)
        return INTER_NONE;
    return leads ? INTER_LEADS : INTER_ALONE;
}

/* Whether the clause after the one ending at token end opens with
 * "another" or "yet another": praise that greets one more of something is
 * scorn even when the thing names no fault ("Great, another price rise",
 * "Oh brilliant, another automated survey"). */
static int greets_another(const ctok_buf *tb, size_t end)
{
    while (end < tb->n && tb->tok[end].kind == CTOK_PUNCT)
        end++;
    if (end < tb->n && ctok_is_word(tb, end, "yet"))
        end++;
    return end < tb->n && ctok_is_word(tb, end, "another");
}

/* Whether the sentence around token i thanks sincerely (not "thanks for
 * nothing"). */
static int thanks_in_sentence(const classify_run *run, size_t i)
{
    const ctok_buf *tb = run->tb;
    for (size_t j = ctok_sentence_start(tb, i);
         j < tb->n && !(j > i && (tb->tok[j].flags & CTOK_F_SENT_END)); j++) {
        const lex_entry *e = run_phrase(run, j);
        if (!e)
            e = run->lex[j];
        if (e && lex_is_thanks(&run->c->lex, e))
            return 1;
    }
    return 0;
}

/* Thanks at [from, to) worth v taken out of the sum *sum as courtesy. */
static void as_courtesy(classify_run *run, float *sum, size_t from, size_t to, float v)
{
    *sum -= v;
    run->pos_sum -= v;
    classify_evidence_add(run, CLASSIFY_EV_SENTIMENT, "courtesy", from, to, -v);
}

/* Whether a word or a number comes at token j or after it. */
static int word_from(const ctok_buf *tb, size_t j)
{
    for (; j < tb->n; j++)
        if (tb->tok[j].kind == CTOK_WORD || tb->tok[j].kind == CTOK_NUM)
            return 1;
    return 0;
}

/* Whether token i (an item) thanks: its phrase or word is a thanks marker. */
static int thanks_at(const classify_run *run, size_t i)
{
    const lex_entry *e = run_phrase(run, i);
    if (!e)
        e = run->lex[i];
    return e && lex_is_thanks(&run->c->lex, e);
}

/* Whether the thanks at item q are for a fault done ("Thanks so much for
 * cutting off my internet", "thanks for losing my bag"): a few words to
 * "for", and right after it a fault (`fault` in modifiers.tsv) of negative
 * worth; not thanks for fixing a fault, telling of one or taking a side
 * ("thanks for fixing the broken boiler", "thanks for warning me about the
 * scam", "thanks for fighting my corner"). */
static int thanks_for_fault(const classify_run *run, const uint16_t *at, const float *v, unsigned n,
                            unsigned q)
{
    const ctok_buf *tb = run->tb;
    size_t j = at[q] + 1;
    while (j < tb->n && j <= at[q] + 4u && !ctok_is_word(tb, j, "for") &&
           !(tb->tok[j - 1].flags & CTOK_F_CLAUSE_END))
        j++;
    if (j >= tb->n || j > at[q] + 4u || !ctok_is_word(tb, j, "for"))
        return 0;
    if (j + 1 >= tb->n)
        return 0;
    /* (the word or the phrase it begins: "wasting" in "wasting my time") */
    const lex_entry *p = run_phrase(run, j + 1), *w = run->lex[j + 1];
    if (!(p && p->mod == LEX_MOD_FAULT) && !(w && w->mod == LEX_MOD_FAULT))
        return 0;
    for (unsigned k = 0; k < n; k++)
        if (at[k] == j + 1 && v[k] < 0)
            return 1;
    return 0;
}

/* Praise at [from, to) worth v read as sarcasm (a sarcastic interjection,
 * or any praise beside an upside-down face): what it changes in the sum. */
static float not_meant(classify_run *run, size_t from, size_t to, float v)
{
    const float d = (SENT_SARCASM - 1.0f) * v;
    run->pos_sum -= v;
    run->neg_sum += SENT_SARCASM * v;
    for (size_t j = from; j < to; j++)
        run->tflags[j] |= RUN_T_SARCASM;
    classify_evidence_add(run, CLASSIFY_EV_SENTIMENT, "sarcasm", from, to, d);
    return d;
}

/* A closing "said no one": a clause of its own at the very end, "said
 * nobody", "says no one ever"; the same joke as "NOT!" ("Best customer
 * service ever, said no one."). Its token, or SIZE_MAX. */
static size_t said_no_one_at(const ctok_buf *tb)
{
    size_t e = tb->n;
    while (e > 0 && tb->tok[e - 1].kind != CTOK_WORD)
        e--;
    if (e > 0 && ctok_is_word(tb, e - 1, "ever"))
        e--;
    size_t s;
    if (e >= 2 && ctok_is_word(tb, e - 1, "nobody"))
        s = e - 2;
    else if (e >= 3 && ctok_is_word(tb, e - 1, "one") && ctok_is_word(tb, e - 2, "no"))
        s = e - 3;
    else
        return SIZE_MAX;
    if (s == 0 || !(ctok_is_word(tb, s, "said") || ctok_is_word(tb, s, "says")) ||
        !(tb->tok[s - 1].flags & CTOK_F_CLAUSE_END))
        return SIZE_MAX;
    return s;
}

/* A closing "NOT!": a clause of its own (after a comma, a dash or dots)
 * with '!' after it, or in capitals at the very end; the old joke that
 * takes back what was said before it ("thanks for the call on my cancelled
 * flight, NOT!"), or a closing "said no one". Its token, or SIZE_MAX.
 * "NOT!" is looked for only in a text with a '!' or whose last word is
 * "not". */
static size_t taken_back_at(const classify_run *run)
{
    const ctok_buf *tb = run->tb;
    const size_t n = tb->n;
    const size_t said = said_no_one_at(tb);
    if (said != SIZE_MAX)
        return said;
    if (n < 3 || (run->n_excl == 0 && !ctok_is_word(tb, n - 1, "not")))
        return SIZE_MAX;
    /* the last word, or the last but its '!'; not an answer to a question
     * ("was it any hassle? Not!") */
    size_t i = n - 1;
    if (tb->tok[i].kind == CTOK_PUNCT && tb->tok[i].n_excl > 0)
        i--;
    if (!ctok_is_word(tb, i, "not") || !(tb->tok[i - 1].flags & CTOK_F_CLAUSE_END) ||
        tb->tok[i - 1].n_quest > 0)
        return SIZE_MAX;
    return i + 1 < n || (tb->tok[i].flags & CTOK_F_ALLCAPS) ? i : SIZE_MAX;
}

/* The sum of the scored items at tokens [from, to), and the persistence
 * among those tokens if that sum is negative. */
static float items_sum(const classify_run *run, const uint16_t *at, const float *v, unsigned n,
                       size_t from, size_t to)
{
    float s = 0;
    for (unsigned k = 0; k < n; k++)
        if (at[k] >= from && at[k] < to)
            s += v[k];
    if (s < 0) {
        unsigned np = 0;
        for (size_t j = from; j < to && j < run->tb->n && np < 2; j++) {
            const lex_entry *m = mod_at(run, j);
            np += m && m->mod == LEX_MOD_PERSIST;
        }
        s -= SENT_PERSIST * (float)np;
    }
    return s;
}

/* Whether phrase p states a preference ("text is better", "prefer
 * email") or is a courtesy ("kind regards", "hope you are well", "thanks in
 * advance"): its words say how to be contacted or how a letter is written,
 * not how the customer feels. (A phrase with a valence of its own, "thank
 * you so much", keeps it.) */
static int is_pref_statement(const lex_entry *p)
{
    return ((p->pref >= LEX_PREF_CHANNEL && p->pref <= LEX_PREF_PACE) ||
            (p->pref == LEX_PREF_POLITE && p->ntok > 1)) &&
           !(p->flags & LEX_F_VALENCE);
}

/* The sentence an item is in: whether it is a question, where the clause
 * that asks begins (the last one: "My account is stuck, can someone
 * help?" asks only "can someone help"), and whether it asks why or what
 * is wrong. Worked out once per sentence (items come in order, and an
 * item ending at j is in the sentence found for an earlier one when j is
 * not past that sentence's end). */
typedef struct {
    size_t end;                /* the token that ends the sentence, or n; SIZE_MAX: none yet */
    size_t asks_from, asks_to; /* the clause that asks */
    int question, why;
} sentence_kind;

enum { ASK_NONE, ASK_WH, ASK_VERB, ASK_HELLO };

/* Whether token k is a question word ("how", "what"), a verb a question puts
 * before its subject ("can", "is"), or a greeting a question may come after
 * ("hi, how do i cancel"). By the first byte, as it is asked of the first
 * word of every message and clause. */
static int ask_word(const ctok_buf *tb, size_t k)
{
    const ctok *t = &tb->tok[k];
    const char *s = ctok_text(tb, k);
    const size_t n = t->norm_len;
#define IS(w) (n == sizeof(w) - 1 && memcmp(s, w, n) == 0)
    if (t->kind != CTOK_WORD)
        return ASK_NONE;
    switch (s[0]) {
    case 'a':
        return IS("are") ? ASK_VERB : ASK_NONE;
    case 'c':
        return IS("can") || IS("could") ? ASK_VERB : ASK_NONE;
    case 'd':
        return IS("do") || IS("does") ? ASK_VERB : ASK_NONE;
    case 'h':
        return IS("how")                                            ? ASK_WH
               : IS("have") || IS("has")                            ? ASK_VERB
               : IS("hi") || IS("hello") || IS("hey") || IS("hiya") ? ASK_HELLO
                                                                    : ASK_NONE;
    case 'i':
        return IS("is") ? ASK_VERB : ASK_NONE;
    case 'm':
        return IS("may") ? ASK_VERB : ASK_NONE;
    case 'o':
        return IS("ok") || IS("okay") ? ASK_HELLO : ASK_NONE;
    case 's':
        return IS("should") ? ASK_VERB : IS("so") ? ASK_HELLO : ASK_NONE;
    case 'u':
        return IS("um") ? ASK_HELLO : ASK_NONE;
    case 'w':
        return IS("what") || IS("where") || IS("when") || IS("which") || IS("who") ? ASK_WH
               : IS("will") || IS("would")                                         ? ASK_VERB
                                                                                   : ASK_NONE;
    default:
        return ASK_NONE;
    }
#undef IS
}

/* Whether the clause from token k on asks without a question mark, as chat
 * lines do: a question word and a verb put before the subject ("how do i
 * cancel my order", "what is the cancellation fee"; not the relative "what
 * it lacks", "when it's wet", "how good the screen is"), at the start of a
 * sentence only (after a comma "which" and "when" are relative), or such a
 * verb and a subject ("can i change the delivery date", "is there a fee"),
 * not said in scorn ("do you even read", "are you kidding"). */
static int asks_plainly(const ctok_buf *tb, size_t k, size_t end, int sentence_start)
{
    static const char *const subject[] = {"i",     "you", "u",      "we",      "it",
                                          "there", "my",  "anyone", "someone", "somebody"};
    static const char *const det[] = {"the", "your", "a",    "an",  "this", "that",  "our",
                                      "he",  "she",  "they", "his", "her",  "these", "those"};
    static const char *const scorn[] = {"believe", "even", "kidding", "serious", "joking", "say"};
    const int first = ask_word(tb, k);
    const int asked = sentence_start && first == ASK_WH;
    const size_t v = k + (size_t)asked; /* the verb */
    if (first == ASK_NONE || v + 1 >= end || (asked ? ask_word(tb, v) : first) != ASK_VERB)
        return 0;
    if (v + 2 < end && ctok_word_in(tb, v + 2, scorn, sizeof scorn / sizeof scorn[0]) >= 0)
        return 0;
    if (asked && ctok_is_word(tb, k, "how") && /* "how can you charge me twice" */
        (ctok_is_word(tb, v + 1, "you") || ctok_is_word(tb, v + 1, "u") ||
         ctok_is_word(tb, v + 1, "they")))
        return 0;
    /* a subject after the verb: not the prose of "what is added in
     * functionality", "what could have been a soap opera" */
    return ctok_word_in(tb, v + 1, subject, sizeof subject / sizeof subject[0]) >= 0 ||
           (asked && ctok_word_in(tb, v + 1, det, sizeof det / sizeof det[0]) >= 0);
}

static void sentence_of(const ctok_buf *tb, size_t j, sentence_kind *c)
{
    static const char *const why_words[] = {"why", "wrong"};
    if (c->end != SIZE_MAX && j <= c->end)
        return;
    const size_t from = ctok_sentence_start(tb, j), end = ctok_sentence_end(tb, j);
    c->end = end;
    c->question = end < tb->n && tb->tok[end].n_quest > 0;
    c->asks_from = from;
    c->asks_to = end;
    c->why = 0;
    for (size_t k = from; c->question && k < end; k++)
        if (tb->tok[k].flags & CTOK_F_CLAUSE_END)
            c->asks_from = k + 1;
    if (!c->question && !(end < tb->n && tb->tok[end].n_excl > 0)) {
        int opening = 1;
        for (size_t k = from; k < end; k++) {
            if ((k == from || opening || (tb->tok[k - 1].flags & CTOK_F_CLAUSE_END)) &&
                asks_plainly(tb, k, end, opening)) {
                /* (only that clause: "where is my parcel, nothing here
                 * #fail" asks, then complains; clauses that ask one after
                 * another ask together: "is there a fee, can you help me") */
                if (!c->question || c->asks_to != k)
                    c->asks_from = k;
                c->question = 1;
                c->asks_to = k + 1;
                while (c->asks_to < end && !(tb->tok[c->asks_to - 1].flags & CTOK_F_CLAUSE_END))
                    c->asks_to++;
            }
            opening = opening && (tb->tok[k].kind == CTOK_PUNCT || ask_word(tb, k) == ASK_HELLO);
        }
    }
    for (size_t k = from; c->question && k < end; k++)
        c->why |= ctok_word_in(tb, k, why_words, sizeof why_words / sizeof why_words[0]) >= 0;
}

/* The sum of the items in sentences where the customer apologises ("Sorry,
 * I was wrong about the bill."): their own fault, not a complaint. */
static float apology_items(const classify_run *run, const uint16_t *at, const float *v, unsigned n)
{
    static const char *const words[] = {"sorry", "apologies", "apologise", "apologize"};
    const ctok_buf *tb = run->tb;
    float s = 0;
    for (size_t from = 0; from < tb->n;) {
        const size_t end = ctok_sentence_end(tb, from);
        int apology = 0;
        for (size_t j = from; j < end && !apology; j++)
            apology = ctok_word_in(tb, j, words, sizeof words / sizeof words[0]) >= 0;
        for (unsigned q = 0; apology && q < n; q++)
            if (at[q] >= from && at[q] <= end)
                s += v[q];
        from = end + 1;
    }
    return s;
}

/* Whether token i has a valence of its own, or begins an idiom that has
 * one. */
static int has_valence(const classify_run *run, size_t i)
{
    const lex_entry *v = run->lex[i], *p = run_phrase(run, i);
    return (v && (v->flags & LEX_F_VALENCE) && v->valence != 0) ||
           (p && (p->flags & LEX_F_VALENCE));
}

/* Whether token i is a word of speed ("fast", "quickly") that tells how
 * fast a fault goes rather than praising the service: right after a word
 * with a negative valence of its own, boosters between ("the battery
 * drains super fast", "it overheats really quickly"), that is no noun
 * after a determiner ("they dealt with my complaint quickly" praises). */
static int fault_speed(const classify_run *run, size_t i)
{
    static const char *const speed[] = {"fast", "faster", "quick", "quickly", "quicker", "rapidly"};
    static const char *const det[] = {"my",  "the", "a",     "an",   "your", "our",
                                      "his", "her", "their", "this", "that", "any"};
    size_t j = i;
    while (j > 0 && i - j < 3 && run->lex[j - 1] && run->lex[j - 1]->mod == LEX_MOD_BOOSTER)
        j--;
    /* (the word before first: most positive words follow no fault) */
    const lex_entry *e = j > 0 ? run->lex[j - 1] : NULL;
    if (!e || !(e->flags & LEX_F_VALENCE) || e->valence >= 0 || e->mod != LEX_MOD_NONE ||
        (run->tb->tok[j - 1].flags & CTOK_F_CLAUSE_END) || run_negated(run, j - 1) ||
        run_in_phrase(run, j - 1) ||
        (j >= 2 && ctok_word_in(run->tb, j - 2, det, sizeof det / sizeof det[0]) >= 0))
        return 0;
    return ctok_word_in(run->tb, i, speed, sizeof speed / sizeof speed[0]) >= 0;
}

/* A problem that keeps happening is a complaint even when no word of it
 * is one: "my phone keeps restarting", "I keep getting logged out". */
static const lex_entry keeps_doing_entry = {.valence = -1.0f, .flags = LEX_F_VALENCE};

/* Whether token i and the word in -ing after it say so: "keeps" or
 * "kept" before any such word ("it keeps restarting"); "keep" after I, we,
 * you or they only before a word of undergoing ("I keep getting", "we keep
 * having"), as "they keep adding features" is no complaint. Not when a word
 * of the rest of the clause has a valence of its own ("keeps crashing",
 * "keeps getting better" say it already), nor for going, coming and doing
 * unless something goes wrong ("keeps going down", "keeps doing this"):
 * "I keep coming back", "keep doing what you do". */
static int keeps_doing(const classify_run *run, size_t i)
{
    static const char *const subjects[] = {"i", "we", "you", "they"};
    static const char *const undergo[] = {"getting", "having",  "receiving", "being",
                                          "trying",  "calling", "asking",    "seeing",
                                          "hearing", "losing",  "waiting",   "paying"};
    static const char *const moving[] = {"going", "coming", "doing"};
    static const char *const wrong[] = {"out", "off", "down", "wrong", "this", "that"};
    const ctok_buf *tb = run->tb;
    const lex_entry *e = run->lex[i];
    /* (a phrase it begins has no valence, or it would be scored as one:
     * "keep getting" is an urgency cue) */
    if (e->mod != LEX_MOD_PERSIST || (run->tflags[i] & RUN_T_INNER) || i + 2 > tb->n)
        return 0;
    const size_t j = i + 1;
    const ctok *t = &tb->tok[j];
    if (t->kind != CTOK_WORD || !word_ends(ctok_text(tb, j), t->norm_len, "ing", 5))
        return 0;
    if (ctok_is_word(tb, i, "keep")) {
        if (i == 0 || ctok_word_in(tb, i - 1, subjects, sizeof subjects / sizeof subjects[0]) < 0 ||
            ctok_word_in(tb, j, undergo, sizeof undergo / sizeof undergo[0]) < 0)
            return 0;
    } else if (!ctok_is_word(tb, i, "keeps") && !ctok_is_word(tb, i, "kept")) {
        return 0;
    }
    if (ctok_word_in(tb, j, moving, sizeof moving / sizeof moving[0]) >= 0 &&
        !(j + 1 < tb->n && ctok_word_in(tb, j + 1, wrong, sizeof wrong / sizeof wrong[0]) >= 0))
        return 0;
    for (size_t k = j; k < tb->n && k < j + 6 && !(tb->tok[k].flags & CTOK_F_CLAUSE_END); k++)
        if (has_valence(run, k))
            return 0;
    return 1;
}

/* Time already spent ("it's been 3 weeks") is a wait, a complaint. */
static const lex_entry waited_entry = {.valence = -1.0f, .flags = LEX_F_VALENCE};

/* Whether token i is a duration after "been" and a count, see
 * classify_wait_word, or after "been" and a word in -ing before "for"
 * ("been trying for an hour", "been typing for 5 mins"); *lead: where
 * that begins. */
static int waited(const classify_run *run, size_t i, size_t *lead)
{
    const ctok_buf *tb = run->tb;
    const lex_entry *e = run->lex[i];
    size_t from;
    int k;
    /* (not a negated one: "it hasn't even been 2 days and it broke") */
    if (!lex_is_duration(e) || (e->flags & LEX_F_VALENCE) ||
        (run->tflags[i] & (RUN_T_INNER | RUN_T_NEGATED)) ||
        (k = classify_wait_word(run, i, &from)) < 0)
        return 0;
    if (k != 0) {
        /* "for", "over", "past" N: a wait when a word of trying to get
         * through or of waiting comes before it in its sentence ("been
         * trying to get through for an hour", "on hold for over an hour",
         * "sitting outside the gate for 30 mins"); not "been travelling
         * for 2 weeks", "a customer for 10 years"; not when that word, or
         * the "been" before it, says it already (an idiom, "waiting") */
        static const char *const chasing[] = {
            "trying",   "typing",  "calling",  "ringing",  "chasing",   "holding", "asking",
            "emailing", "queuing", "queueing", "phoning",  "messaging", "hold",    "stuck",
            "stranded", "sitting", "sat",      "standing", "stood"};
        enum { POSTURE = 15 }; /* from "sitting" on: a wait only near "for" */
        size_t j = from;       /* the word of waiting is at j - 1 */
        int w = -1;
        for (size_t back = 0; j > 0 && back < 8 && !(tb->tok[j - 1].flags & CTOK_F_SENT_END);
             back++, j--)
            if ((w = ctok_word_in(tb, j - 1, chasing, sizeof chasing / sizeof chasing[0])) >= 0)
                break;
        if (w < 0)
            return 0;
        const lex_entry *in = run_inner_phrase(run, j - 1);
        if (has_valence(run, j - 1) || (in && (in->flags & LEX_F_VALENCE)) ||
            run_negated(run, j - 1))
            return 0;
        /* (sitting or standing is a wait said of itself, "been sitting
         * here for an hour", or right before "for": not "sitting on the
         * beach with my family for 2 weeks") */
        if (w >= POSTURE && from - (j - 1) > 4 && !(j >= 2 && ctok_is_word(tb, j - 2, "been")))
            return 0;
        from = j - 1;
        if (from > 0 && ctok_is_word(tb, from - 1, "been")) {
            if (has_valence(run, from - 1))
                return 0;
            from--;
        }
    }
    *lead = from;
    return 1;
}

/* What was never done is a complaint even when nothing in it is one: "it
 * never appeared", "the driver never rang", "they never sent it". */
static const lex_entry never_did_entry = {.valence = -1.2f, .flags = LEX_F_VALENCE};

/* When token i is "never" before a verb in the past (-ed, not -eed, or a
 * common irregular one; "even", "actually", "once" or "ever" may stand
 * between; not the verbs of a worry that never came true: "never needed to
 * call", "never regretted it") and its scope holds no word with a valence
 * (that word is negated instead: "never had a problem"): the tokens up to
 * the verb; else 0. */
static size_t never_did(const classify_run *run, size_t i)
{
    static const char *const between[] = {"even", "actually", "once", "ever"};
    static const char *const past[] = {"came", "got",  "rang",   "sent", "went", "heard",
                                       "gave", "told", "showed", "paid", "made", "took"};
    static const char *const worry[] = {"needed",  "expected", "imagined",  "realized",  "realised",
                                        "doubted", "worried",  "regretted", "hesitated", "looked"};
    const ctok_buf *tb = run->tb;
    if (run->lex[i]->mod != LEX_MOD_NEGATOR || run_in_phrase(run, i) ||
        !ctok_is_word(tb, i, "never"))
        return 0;
    size_t j = i + 1;
    if (j < tb->n && ctok_word_in(tb, j, between, sizeof between / sizeof between[0]) >= 0)
        j++;
    if (j >= tb->n || tb->tok[j].kind != CTOK_WORD)
        return 0;
    const size_t n = tb->tok[j].norm_len;
    const char *w = ctok_text(tb, j);
    if (!(word_ends(w, n, "ed", 5) && w[n - 3] != 'e') &&
        ctok_word_in(tb, j, past, sizeof past / sizeof past[0]) < 0)
        return 0;
    if (ctok_word_in(tb, j, worry, sizeof worry / sizeof worry[0]) >= 0)
        return 0;
    for (size_t k = i + 1; k < tb->n && run_negated(run, k); k++)
        if (has_valence(run, k))
            return 0;
    return j + 1 - i;
}

/* Saying one will never use a company again is leaving it, a complaint:
 * "I would never choose to fly United again", "never ordering from them
 * again". */
static const lex_entry never_again_entry = {.valence = -2.0f, .flags = LEX_F_VALENCE};

/* When token i is "never" before a verb of being a customer (up to two
 * words between: "never choose to fly") and "again" follows in its clause
 * (within eight tokens): the tokens up to "again"; else 0. "I never had
 * this problem again" is no leaving. */
static size_t never_again(const classify_run *run, size_t i)
{
    static const char *const use[] = {
        "fly",      "flying",    "use",      "using",   "buy",     "buying", "shop",
        "shopping", "order",     "ordering", "book",    "booking", "choose", "recommend",
        "deal",     "dealing",   "bank",     "banking", "travel",  "stay",   "staying",
        "eat",      "subscribe", "return",   "come",    "go",      "trust",  "sign"};
    const ctok_buf *tb = run->tb;
    if (run->lex[i]->mod != LEX_MOD_NEGATOR || run_in_phrase(run, i) ||
        !ctok_is_word(tb, i, "never"))
        return 0;
    size_t j = i + 1, verb = 0;
    for (; j < tb->n && j <= i + 3 && !(tb->tok[j].flags & CTOK_F_CLAUSE_END); j++)
        if (ctok_word_in(tb, j, use, sizeof use / sizeof use[0]) >= 0) {
            verb = j;
            break;
        }
    if (!verb)
        return 0;
    /* (not relief or loyalty: "never have to go to the bank again",
     * "never fly with anyone else again") */
    static const char *const need[] = {"have", "need", "needs", "had"};
    static const char *const other[] = {"else",   "other",    "another",
                                        "anyone", "anywhere", "anybody"};
    for (j = i + 1; j < verb; j++)
        if (ctok_word_in(tb, j, need, sizeof need / sizeof need[0]) >= 0)
            return 0;
    for (j = verb + 1; j < tb->n && j <= verb + 8 && !(tb->tok[j].flags & CTOK_F_CLAUSE_END); j++) {
        if (ctok_word_in(tb, j, other, sizeof other / sizeof other[0]) >= 0)
            return 0;
        if (ctok_is_word(tb, j, "again"))
            return j + 1 - i;
    }
    return 0;
}

/* A device, app or service that will not do its job is a complaint: "the
 * app won't load", "it doesn't charge", "can't connect". */
static const lex_entry fails_entry = {.valence = -1.5f, .flags = LEX_F_VALENCE};

/* Whether token i is a word of function right after "not", "cannot" or a
 * word in n't ("even", "still" or "always" may stand between). Not after
 * "don't" or "do not", nor a "doesn't", "didn't" or "did not" of a person:
 * a habit, a choice or a warning ("I don't play games", "I didn't open the
 * email", "don't open the link"); not "to not" nor "without" ("is it
 * possible to not update", "pay without logging in"). *lead: the negator. */
static int fails(const classify_run *run, size_t i, size_t *lead)
{
    static const char *const between[] = {"even", "still", "always", "ever"};
    static const char *const habit[] = {"don't", "dont", "do", "never", "no", "nothing", "without"};
    static const char *const did[] = {"doesn't", "doesnt", "didn't", "didnt", "does", "did"};
    static const char *const person[] = {"i", "we", "you", "he", "she", "they", "son", "daughter"};
    const ctok_buf *tb = run->tb;
    if (run->lex[i]->mod != LEX_MOD_FUNCTION || i == 0 || run_in_phrase(run, i))
        return 0;
    size_t k = i - 1;
    if (k > 0 && ctok_word_in(tb, k, between, sizeof between / sizeof between[0]) >= 0)
        k--;
    if (!run_is_negator(run, k) || ctok_word_in(tb, k, habit, sizeof habit / sizeof habit[0]) >= 0)
        return 0;
    size_t aux = k; /* the word that carries the negation: "did" in "did not" */
    if (k > 0 && ctok_is_word(tb, k, "not")) {
        if (ctok_is_word(tb, k - 1, "do") || ctok_is_word(tb, k - 1, "to"))
            return 0;
        aux = k - 1;
    }
    if (aux > 0 && ctok_word_in(tb, aux, did, sizeof did / sizeof did[0]) >= 0 &&
        ctok_word_in(tb, aux - 1, person, sizeof person / sizeof person[0]) >= 0)
        return 0;
    *lead = k;
    return 1;
}

/* Whether the positive word at i is wanted rather than had (1): a `want`
 * modifier ("need", "want", "expect", "please", "would like") before it in
 * its clause, not as what the writer wants to say ("I just want to say
 * thank you", "please tell her she was great", "please keep up the good
 * work"); or not had at all: waited for (2) after "until" or "unless"
 * ("I'll keep calling until it's fixed"), or a plea (3), "help" that opens
 * a sentence ("Help! I'm locked out", "HELP ME"). */
static int wished(const classify_run *run, size_t i)
{
    static const char *const say[] = {"say",        "tell",   "thank",    "let",
                                      "share",      "give",   "leave",    "express",
                                      "compliment", "praise", "recommend"};
    static const char *const pending[] = {"until", "unless", "till", "til"};
    /* "help" as a noun: "Help desk were brilliant", "Help from Sarah" */
    static const char *const help_noun[] = {"desk", "line", "centre", "center",
                                            "team", "page", "from",   "section"};
    const ctok_buf *tb = run->tb;
    if ((i == 0 || (tb->tok[i - 1].flags & CTOK_F_SENT_END)) && ctok_is_word(tb, i, "help") &&
        !(i + 1 < tb->n &&
          ctok_word_in(tb, i + 1, help_noun, sizeof help_noun / sizeof help_noun[0]) >= 0))
        return 3;
    for (size_t k = 1; k <= 5 && k <= i; k++) {
        const size_t j = i - k;
        const lex_entry *m = mod_at(run, j);
        if (tb->tok[j].flags & CTOK_F_CLAUSE_END)
            return 0;
        /* (a phrase of another kind may begin with one: "please help") */
        size_t to = m ? mod_end(run, j) : j + 1;
        if (!m && (run->tflags[j] & RUN_T_PHRASE) && run->lex[j]->mod == LEX_MOD_WANT)
            m = run->lex[j];
        if (!m)
            continue;
        /* what holds "until" or "unless" it comes is not had yet: "I will
         * keep calling until it's fixed" */
        if (m->mod == LEX_MOD_SCOPE_END)
            return ctok_word_in(tb, j, pending, sizeof pending / sizeof pending[0]) >= 0 ? 2 : 0;
        if (m->mod == LEX_MOD_CONTRAST_AFTER || m->mod == LEX_MOD_CONTRAST_BEFORE)
            return 0;
        if (m->mod != LEX_MOD_WANT)
            continue;
        /* ("please tell her she was wonderful", "please keep up the
         * great work") */
        if (to < tb->n && ctok_is_word(tb, to, "to"))
            to++;
        return !(to < tb->n && (ctok_word_in(tb, to, say, sizeof say / sizeof say[0]) >= 0 ||
                                ctok_is_word(tb, to, "keep")));
    }
    return 0;
}

/* Whether the negator at k opens a command against the conduct at i, a
 * reproach ("So don't lie to us!", "do not waste my time", "don't be
 * rude"), rather than advice or comfort ("don't waste your money", "don't
 * worry", "please don't cut off my gas", "don't blame yourself"): first in
 * its clause but for a word or two of lead-in ("so", "please"), the word
 * one of how a company or an agent treats the writer, right after the
 * command (or "be"), and aimed at the writer: "me", "us", "my", "our" or
 * "to" next, or the clause ends there ("don't lie down", "don't ignore the
 * warning light" are advice). */
static int reproach(const ctok_buf *tb, size_t k, size_t i)
{
    static const char *const lead[] = {"so", "and", "just", "please", "pls", "but", "then", "oh"};
    static const char *const conduct[] = {"lie",       "lying",  "rude",     "ignore", "patronise",
                                          "patronize", "insult", "cheat",    "scam",   "mislead",
                                          "lecture",   "blame",  "threaten", "fob",    "waste"};
    static const char *const at_me[] = {"me", "us", "my", "our", "to"};
    size_t after = k + 1; /* the first word the command is about */
    if (k > 0 && ctok_is_word(tb, k, "not") && ctok_is_word(tb, k - 1, "do"))
        k--;
    else if (!ctok_is_word(tb, k, "don't") && !ctok_is_word(tb, k, "dont"))
        return 0;
    if (after < tb->n && ctok_is_word(tb, after, "be"))
        after++;
    if (i != after || ctok_word_in(tb, i, conduct, sizeof conduct / sizeof conduct[0]) < 0)
        return 0;
    for (int n = 0;
         n < 2 && k > 0 && ctok_word_in(tb, k - 1, lead, sizeof lead / sizeof lead[0]) >= 0; n++)
        k--;
    if (k > 0 && !(tb->tok[k - 1].flags & (CTOK_F_CLAUSE_END | CTOK_F_SENT_END)))
        return 0;
    return i + 1 >= tb->n || (tb->tok[i].flags & (CTOK_F_CLAUSE_END | CTOK_F_SENT_END)) ||
           tb->tok[i + 1].kind == CTOK_PUNCT ||
           ctok_word_in(tb, i + 1, at_me, sizeof at_me / sizeof at_me[0]) >= 0;
}

/* Whether the good word at i (span tokens) was so only until something
 * came, later in its clause: "it was working fine until the update", "I
 * was happy until I saw the bill"; a past word of being comes right before
 * it (or is it), so a time ahead is no complaint ("happy to wait until
 * Monday", "the site is working until midnight"), nor is a span ("from
 * arrival until departure", "right up until the end", "great till now"),
 * a shop's till ("great at the till") or a good word with "to" after it
 * ("happy to wait until the engineer came"). */
static int good_until(const classify_run *run, size_t i, size_t span)
{
    static const char *const past[] = {"was", "were", "worked", "been", "ran", "had"};
    static const char *const until[] = {"until", "till", "til"};
    static const char *const whole[] = {"now", "closing", "finish", "departure", "close"};
    static const char *const end_of[] = {"end", "very"};
    const ctok_buf *tb = run->tb;
    /* first the word of time after it, which few messages have: "until"
     * and "till" are scope_end modifiers, so a look at the entry will do */
    size_t j = i + span;
    for (;; j++) {
        if (j >= tb->n || j > i + span + 3 ||
            (tb->tok[j - 1].flags & (CTOK_F_CLAUSE_END | CTOK_F_SENT_END)))
            return 0;
        const lex_entry *e = run->lex[j];
        if (e && e->mod == LEX_MOD_SCOPE_END &&
            ctok_word_in(tb, j, until, sizeof until / sizeof until[0]) >= 0)
            break;
    }
    for (size_t k = i + span; k < j; k++)
        if (ctok_is_word(tb, k, "from") || ctok_is_word(tb, k, "up"))
            return 0;
    if (ctok_is_word(tb, j - 1, "the") || ctok_is_word(tb, j - 1, "a") ||
        (j + 1 < tb->n && ctok_word_in(tb, j + 1, whole, sizeof whole / sizeof whole[0]) >= 0) ||
        (j + 2 < tb->n && ctok_is_word(tb, j + 1, "the") &&
         ctok_word_in(tb, j + 2, end_of, sizeof end_of / sizeof end_of[0]) >= 0) ||
        (i + span < tb->n && ctok_is_word(tb, i + span, "to")))
        return 0;
    /* (the past word may be the item's own: "never had a problem with") */
    for (size_t k = i; k < i + span; k++)
        if (ctok_word_in(tb, k, past, sizeof past / sizeof past[0]) >= 0)
            return 1;
    for (size_t k = 1; k <= 3 && k <= i; k++) {
        if (tb->tok[i - k].flags & (CTOK_F_CLAUSE_END | CTOK_F_SENT_END))
            return 0;
        if (ctok_word_in(tb, i - k, past, sizeof past / sizeof past[0]) >= 0)
            return 1;
    }
    return 0;
}

/* Whether "never" at token k compares rather than negates the word at i:
 * "never been so happy", "never had such good service", "never felt
 * better", "never seen such bad service" say the word all the more. The
 * degree word stands right before the word ("I never said this was good"
 * is negated), and a comparative comes right after a verb of being or
 * seeming ("the app never gets better" is negated); a comparative is one
 * of a few irregular or hand-written ones, or a derived form in -er or
 * -est. */
static int never_so(const classify_run *run, size_t k, size_t i)
{
    static const char *const degree[] = {"so", "such", "this", "more"};
    static const char *const being[] = {"been",   "felt",    "feel", "looked",
                                        "tasted", "sounded", "was",  "were"};
    static const char *const comparative[] = {"better",  "best",     "worse",  "worst",
                                              "happier", "happiest", "easier", "easiest"};
    const ctok_buf *tb = run->tb;
    if (!ctok_is_word(tb, k, "never"))
        return 0;
    if (i <= k + 1)
        return 0;
    if (ctok_word_in(tb, i - 1, degree, sizeof degree / sizeof degree[0]) >= 0)
        return 1;
    if (ctok_word_in(tb, i - 1, being, sizeof being / sizeof being[0]) < 0)
        return 0;
    if (ctok_word_in(tb, i, comparative, sizeof comparative / sizeof comparative[0]) >= 0)
        return 1;
    const lex_entry *e = run->lex[i];
    const char *w = ctok_text(tb, i);
    const size_t n = tb->tok[i].norm_len;
    return e && (e->flags & LEX_F_FORM) && (word_ends(w, n, "er", 5) || word_ends(w, n, "est", 5));
}

/* Sum of intensifiers and dampeners in the three tokens before i. */
static float boost_before(const classify_run *run, size_t i, size_t *from, int *excess)
{
    const ctok_buf *tb = run->tb;
    float b = 0;
    for (size_t k = 1; k <= 3 && k <= i; k++) {
        size_t j = i - k;
        if (tb->tok[j].flags & CTOK_F_CLAUSE_END)
            break;
        const lex_entry *m = mod_at(run, j);
        if (m && m->mod == LEX_MOD_EXCESS)
            *excess = 1;
        if (!m || (m->mod != LEX_MOD_BOOSTER && m->mod != LEX_MOD_EXCESS))
            continue;
        float v = m->mod_value * (1.0f - 0.1f * (float)(k - 1));
        if ((tb->tok[j].flags & CTOK_F_ALLCAPS) && !tb->all_caps_text)
            v *= SENT_CAPS;
        b += v;
        *from = j;
    }
    return b;
}

/* The score, label and confidence from the raw sum of hits items. */
static void sentiment_set(classify_run *run, float sum, unsigned hits)
{
    classify_result *r = run->r;
    run->sent_sum = sum;
    run->sent_hits = hits;
    float score = sum / sqrtf(sum * sum + SENT_ALPHA);
    r->sentiment.score = score;
    if (score >= SENT_POSITIVE_THRESHOLD)
        r->sentiment.label = CLASSIFY_POSITIVE;
    else if (score <= -SENT_NEGATIVE_THRESHOLD)
        r->sentiment.label = CLASSIFY_NEGATIVE;
    else
        r->sentiment.label = CLASSIFY_NEUTRAL;
    /* confidence grows with the distance from the nearest label boundary and
     * with the amount of evidence */
    const float edge = score >= 0 ? SENT_POSITIVE_THRESHOLD : SENT_NEGATIVE_THRESHOLD;
    float dist = r->sentiment.label == CLASSIFY_NEUTRAL ? edge - fabsf(score) : fabsf(score) - edge;
    static const float per_hits[5] = {0.1f, 0.05f * 1.0f, 0.05f * 2.0f, 0.05f * 3.0f, 0.05f * 4.0f};
    float conf = 0.5f + dist * 2.0f + per_hits[hits > 4 ? 4 : hits];
    r->sentiment.confidence = conf > 0.99f ? 0.99f : conf;
}

/* An item kept aside for a rule read once the sum is known: its tokens
 * and what it added. */
typedef struct {
    size_t from, to;
    float v;
} held_item;

void classify_sentiment(classify_run *run)
{
    /* words whose negative valence is a claim (see "owed" below) */
    static const char *const owed[] = {"refund",       "refunds",       "money",
                                       "compensation", "reimbursement", "callback",
                                       "reply",        "response",      "replacement"};
    /* ... unless named as a kind of thing: "this isn't a refund request" */
    static const char *const owed_kind[] = {"request",  "requests", "policy",
                                            "question", "query",    "form"};
    const ctok_buf *tb = run->tb;
    if (run->has & LEX_H_CONTRAST)
        contrast_weights(run);
    float sum = 0;
    unsigned hits = 0;
    /* positive interjections, read as sarcasm if what they comment on is
     * a complaint, and the items that tell */
    struct {
        size_t from, to, clause_end;
        float v;
        int form;
    } inter[SENT_SARCASM_MAX];
    /* laughter, read as derision beside a complaint (slots of its own: a
     * run of "haha haha" must not crowd out the interjections) */
    held_item laugh[SENT_LAUGH_MAX];
    /* loud crying, read as tears of joy beside good news */
    held_item tears[SENT_TEARS_MAX];
    unsigned n_inter = 0, n_laugh = 0, n_items = 0, n_irony = 0, n_tears = 0;
    /* sincere thanks and good wishes ("have a nice day"): what they
     * added, and where the first ones are */
    float thanks = 0, closing_thanks = 0;
    size_t thanks_from = 0, thanks_to = 0, closing_from = 0, closing_to = 0;
    sentence_kind sk = {SIZE_MAX, 0, 0, 0, 0};
    /* Whether a sentence may ask: one with a question mark, or a chat line
     * that opens asking ("how do i cancel my order") */
    const int may_ask = run->n_quest > 0 || (tb->n > 1 && ask_word(tb, 0) != ASK_NONE);
    size_t first_neg = SIZE_MAX; /* the first negative item */
    uint16_t item_at[SENT_ITEMS_MAX];
    float item_v[SENT_ITEMS_MAX];
    /* only tokens with a word entry can carry valence or start an idiom;
     * the tokens of an idiom already counted are skipped */
    size_t next = 0;
    for (size_t hk = run_first_hit(run, LEX_H_SENTIMENT); hk < run->n_lexhit;
         hk = run_next_hit(run, hk + 1, LEX_H_SENTIMENT)) {
        const size_t i = run->lexhit[hk];
        if (i < next)
            continue;
        const ctok *t = &tb->tok[i];
        const lex_entry *e = NULL;
        size_t span = 1, lead = i, never;
        int asked = 0, fault = 1; /* an idiom or a rule names a fault */
        const char *rule = "lexicon";
        const lex_entry *p = run_phrase(run, i), *in = run_inner_phrase(run, i);
        if (p && (p->flags & LEX_F_VALENCE) && p->valence == 0) {
            /* a neutral phrase: "would like" wants, "kind of" is no
             * kindness */
            next = i + run->phrase_len[i];
            continue;
        } else if (p && (p->flags & LEX_F_VALENCE)) {
            e = p;
            span = run->phrase_len[i];
            rule = "idiom";
        } else if (p && p->mod != LEX_MOD_NONE) {
            /* a modifier phrase: "kind" in "kind of slow" is not kindness */
            run->n_persist += p->mod == LEX_MOD_PERSIST;
            next = i + run->phrase_len[i];
            continue;
        } else if (p && is_pref_statement(p)) {
            next = i + run->phrase_len[i];
            continue;
        } else if (in && ((in->flags & LEX_F_VALENCE) || in->mod != LEX_MOD_NONE ||
                          is_pref_statement(in))) {
            /* inside an idiom already counted, a modifier phrase or a
             * preference statement */
            continue;
        } else if (waited(run, i, &lead)) {
            e = &waited_entry;
            rule = "waited";
        } else if ((never = never_did(run, i)) > 0) {
            e = &never_did_entry;
            span = never;
            rule = "never_did";
        } else if ((never = never_again(run, i)) > 0) {
            e = &never_again_entry;
            span = never;
            rule = "never_again";
        } else if (fails(run, i, &lead)) {
            /* (the negation is the fault: it flips nothing) */
            run->tflags[i] &= (uint8_t)~RUN_T_NEGATED;
            e = &fails_entry;
            rule = "fails";
        } else if (keeps_doing(run, i)) {
            /* (its weight says the persistence: not counted again) */
            e = &keeps_doing_entry;
            span = 2;
            rule = "keeps_doing";
        } else {
            e = run->lex[i];
            fault = 0;
            if (e->mod == LEX_MOD_PERSIST && !run_in_phrase(run, i))
                run->n_persist++;
            if (!(e->flags & LEX_F_VALENCE) || e->valence == 0)
                continue;
            if (e->mod == LEX_MOD_NEGATOR || e->mod == LEX_MOD_BOOSTER)
                continue; /* modifiers act on others, not on the total */
            if (e->valence > 0 && fault_speed(run, i))
                continue;
            if (e->flags & LEX_F_CORPUS)
                rule = "corpus_lexicon";
            else if (e->flags & LEX_F_FORM)
                rule = "lexicon_form";
            /* a run of Capitalised words inside a sentence is most likely a
             * name ("Justice Department", "Liberty Mutual", "Fair Housing
             * Act"); a lone capital is often just emphasis in a message, and
             * so is a strongly negative word, which few names begin with
             * ("the Worst Customer Service") */
            if ((t->flags & CTOK_F_TITLE) && !tb->title_text && i > 0 &&
                e->valence > SENT_NAME_NEGATIVE && !(tb->tok[i - 1].flags & CTOK_F_SENT_END) &&
                ((tb->tok[i - 1].flags & CTOK_F_TITLE) ||
                 (i + 1 < tb->n && (tb->tok[i + 1].flags & CTOK_F_TITLE))))
                continue;
        }
        float v = e->valence;
        float base = v;
        size_t from = lead;
        if ((t->flags & CTOK_F_ALLCAPS) && !tb->all_caps_text) {
            v *= SENT_CAPS;
            classify_evidence_add(run, CLASSIFY_EV_SENTIMENT, "emphasis_caps", i, i + 1, v - base);
        }
        if (t->flags & CTOK_F_ELONG)
            v *= SENT_ELONG;
        int excess = 0;
        /* (words only: "so good :)" boosts "good", not the face) */
        float b = (run->has & LEX_H_BOOST) && t->kind <= CTOK_NUM
                      ? boost_before(run, i, &from, &excess)
                      : 0;
        if (excess && v > 0 && !run_negated(run, i)) {
            /* "too generous", "too sweet": more of a good thing is a fault */
            v = -0.5f * v;
            b = 0;
            rule = "excess";
        }
        if (b != 0) {
            float nv = v + signf(v) * b;
            v = (signf(nv) == signf(v)) ? nv : signf(v) * 0.1f;
        }
        if (run_negated(run, i)) {
            size_t k = i;
            while (k > 0 && i - k < 4 && !run_is_negator(run, k))
                k--;
            from = k < from ? k : from;
            if (never_so(run, k, i)) {
                /* (and the emotion stage reads the word as said) */
                run->tflags[i] &= (uint8_t)~RUN_T_NEGATED;
                rule = "never_so";
            } else if (v < 0 && reproach(tb, k, i)) {
                v *= SENT_REPROACH;
                rule = "reproach";
            } else if (v < 0 && ctok_word_in(tb, i, owed, sizeof owed / sizeof owed[0]) >= 0 &&
                       ctok_word_in(tb, i + span, owed_kind,
                                    sizeof owed_kind / sizeof owed_kind[0]) < 0) {
                /* what is owed and not given is no good news: "I didn't get
                 * a refund", "still haven't got my money back" */
                rule = "owed";
            } else {
                v *= SENT_NEGATION;
                rule = "negation";
            }
        } else if (excess) {
            rule = "excess";
        } else if (b > 0) {
            rule = rule[0] == 'i' ? "idiom" : "intensifier";
        } else if (b < 0) {
            rule = "dampener";
        }
        if (v > 0 && quoted(tb, from, i + span)) {
            v *= SENT_QUOTED;
            rule = "quoted";
            /* (and the emotion stage feels no joy in it) */
            for (size_t j = i; j < i + span; j++)
                run->tflags[j] |= RUN_T_DOUBTED;
        }
        if (may_ask && (v > 0 || (v >= SENT_QUESTION_MILD && v < 0)) && !run_negated(run, i)) {
            /* (most messages ask nothing: no sentence is looked at; a
             * negated word is a statement: "Doesn't anyone care?") */
            sentence_of(tb, i + span, &sk);
            if (sk.question && i >= sk.asks_from && i < sk.asks_to && (v > 0 || !sk.why)) {
                /* asked, not said: "Can you help me?", "Is it safe?", "What
                 * is the fee?", "How do I get a refund?" */
                v *= SENT_QUESTION;
                rule = "question";
                asked = 1;
            }
        }
        int wish;
        if (v > 0 && !asked && e->pref != LEX_PREF_POLITE && !run_negated(run, i) &&
            (wish = wished(run, i)) != 0) {
            v *= wish == 1 ? SENT_WISH : 0.0f;
            rule = wish == 1 ? "wish" : wish == 2 ? "pending" : "plea";
        } else if (v > 0 && !asked && !run_negated(run, i) && good_until(run, i, span)) {
            v *= SENT_NEGATION;
            rule = "good_until";
            /* (and the emotion stage reads it as a negated word) */
            run->tflags[i] |= RUN_T_NEGATED;
        }
        if (run->clause_w_mode == RUN_CLAUSE_BUT)
            v *= i < run->last_but ? SENT_BEFORE_BUT : SENT_AFTER_BUT;
        else if (run->clause_w_mode == RUN_CLAUSE_TOKENS)
            v *= run->clause_w[i];
        if (v < 0 && i < first_neg)
            first_neg = i;
        if (v > 0 && e->pref == LEX_PREF_POLITE && first_neg < i &&
            !(i + span < tb->n && ctok_is_word(tb, i + span, "to"))) {
            /* thanks or wishes after a negative word may be courtesy (not
             * those to someone: "Thanks to Maria who rebooked me") */
            if (thanks == 0) {
                thanks_from = from;
                thanks_to = i + span;
            }
            thanks += v;
        } else if (v > 0 && e->pref == LEX_PREF_POLITE && first_neg == SIZE_MAX && asked == 0 &&
                   from > 0 && tb->tok[from - 1].kind == CTOK_PUNCT &&
                   tb->tok[from - 1].n_quest > 0 && !word_from(tb, i + span)) {
            /* the closing thanks right after a question ("Do you fly to
             * Hawaii? Thanks!") */
            closing_from = from;
            closing_to = i + span;
            closing_thanks = v;
        }
        sum += v;
        if (v < 0) {
            run->neg_sum += v;
            if (fault)
                run->fault_sum += v;
        } else
            run->pos_sum += v;
        hits++;
        classify_evidence_add(run, CLASSIFY_EV_SENTIMENT, rule, from, i + span, v);
        if (e->mod == LEX_MOD_IRONY)
            n_irony++;
        else if (e->mod == LEX_MOD_TEARS && v < 0 && n_tears < SENT_TEARS_MAX)
            tears[n_tears++] = (held_item){from, i + span, v};
        size_t clause_end = 0;
        int form = INTER_NONE, laughs = 0;
        if (v > 0 && !run_negated(run, i)) {
            if (e->mod == LEX_MOD_INTERJECTION && n_inter < SENT_SARCASM_MAX)
                form = interjection_form(run, i, i + span, &clause_end);
            else if (e->mod == LEX_MOD_LAUGH && n_laugh < SENT_LAUGH_MAX)
                laughs = 1;
        }
        if (laughs) {
            laugh[n_laugh++] = (held_item){i, i + span, v};
        } else if (form != INTER_NONE) {
            inter[n_inter].from = i;
            inter[n_inter].to = i + span;
            inter[n_inter].clause_end = clause_end;
            inter[n_inter].v = v;
            inter[n_inter].form = form;
            n_inter++;
        } else if (n_items < SENT_ITEMS_MAX) {
            item_at[n_items] = (uint16_t)i;
            item_v[n_items] = v;
            n_items++;
        }
        next = i + span;
    }
    if (run->n_persist > 0 && (sum < 0 || run->neg_sum < -0.5f)) {
        float p = SENT_PERSIST * (float)(run->n_persist > 2 ? 2 : run->n_persist);
        sum -= p;
        for (size_t hk = 0; hk < run->n_lexhit; hk++) {
            const size_t i = run->lexhit[hk];
            const lex_entry *m = mod_at(run, i);
            if (m && m->mod == LEX_MOD_PERSIST) {
                classify_evidence_add(run, CLASSIFY_EV_SENTIMENT, "persistence", i, mod_end(run, i),
                                      -p);
                break;
            }
        }
    }
    /* (the customer's own mistake is no complaint, as for courtesy: "lol
     * sorry, my mistake, wrong email") */
    if (n_laugh > 0 && items_sum(run, item_at, item_v, n_items, 0, tb->n) -
                               apology_items(run, item_at, item_v, n_items) <=
                           SENT_LAUGH_REST) {
        for (unsigned k = 0; k < n_laugh; k++) {
            sum -= laugh[k].v;
            run->pos_sum -= laugh[k].v;
            for (size_t j = laugh[k].from; j < laugh[k].to; j++)
                run->tflags[j] |= RUN_T_SARCASM;
            classify_evidence_add(run, CLASSIFY_EV_SENTIMENT, "derision", laugh[k].from,
                                  laugh[k].to, -laugh[k].v);
        }
    }
    for (unsigned k = 0; k < n_inter; k++) {
        const size_t end = ctok_sentence_end(tb, inter[k].clause_end);
        float rest, limit = SENT_SARCASM_REST;
        if (inter[k].form == INTER_LEADS) {
            rest = items_sum(run, item_at, item_v, n_items, inter[k].to, end);
            if (rest <= 0 && greets_another(tb, inter[k].clause_end))
                rest = SENT_SARCASM_REST;
        } else {
            int after = 0;
            for (unsigned q = 0; q < n_items; q++)
                after |= item_at[q] >= end;
            if (after) {
                /* a sentence of its own before another: what it comments
                 * on is the next sentence ("Brilliant. Delayed again.",
                 * "Great. Another outage."); not praise of a thing ("Love
                 * it. The battery is terrible." is a mixed review) */
                static const char *const thing[] = {"it", "that", "this"};
                int of_thing = 0;
                for (size_t j = ctok_sentence_start(tb, inter[k].from); j < inter[k].clause_end;
                     j++)
                    of_thing |= ctok_word_in(tb, j, thing, sizeof thing / sizeof thing[0]) >= 0;
                const size_t next_end = ctok_sentence_end(tb, end + 1);
                rest = of_thing ? 0 : items_sum(run, item_at, item_v, n_items, end + 1, next_end);
                if (!of_thing && rest <= 0 && greets_another(tb, inter[k].clause_end))
                    rest = SENT_SARCASM_REST;
            } else {
                /* it closes the message: what came before */
                rest = items_sum(run, item_at, item_v, n_items, 0, inter[k].from);
                if (inter[k].v >= SENT_SARCASM_PRAISE)
                    limit = SENT_SARCASM_CLOSING;
            }
        }
        if (rest <= limit && !thanks_in_sentence(run, inter[k].from))
            sum += not_meant(run, inter[k].from, inter[k].to, inter[k].v);
    }
    /* thanks for a fault are not meant, nor are the other thanks of the
     * message ("..., really appreciate it") */
    int thanked_for_fault = 0;
    for (unsigned q = 0; q < n_items && !thanked_for_fault; q++)
        thanked_for_fault = item_v[q] > 0 && thanks_at(run, item_at[q]) &&
                            thanks_for_fault(run, item_at, item_v, n_items, q);
    if (thanked_for_fault)
        for (unsigned q = 0; q < n_items; q++)
            if (item_v[q] > 0 && thanks_at(run, item_at[q]) &&
                !(run->tflags[item_at[q]] & RUN_T_SARCASM))
                sum += not_meant(run, item_at[q], item_at[q] + 1, item_v[q]);
    const size_t taken_back = taken_back_at(run);
    if (taken_back != SIZE_MAX)
        for (unsigned q = 0; q < n_items; q++)
            if (item_v[q] > 0 && item_at[q] < taken_back &&
                !(run->tflags[item_at[q]] & RUN_T_SARCASM))
                sum += not_meant(run, item_at[q], item_at[q] + 1, item_v[q]);
    if (n_irony > 0) {
        for (unsigned q = 0; q < n_items; q++)
            if (item_v[q] > 0)
                sum += not_meant(run, item_at[q], item_at[q] + 1, item_v[q]);
        for (unsigned q = 0; q < n_inter; q++)
            if (!(run->tflags[inter[q].from] & RUN_T_SARCASM))
                sum += not_meant(run, inter[q].from, inter[q].to, inter[q].v);
    }
    if (n_tears > 0) {
        float cried = 0;
        for (unsigned k = 0; k < n_tears; k++)
            cried += tears[k].v;
        if (items_sum(run, item_at, item_v, n_items, 0, tb->n) - cried >= SENT_TEARS_REST) {
            for (unsigned k = 0; k < n_tears; k++) {
                const float glad = -SENT_TEARS_GLAD * tears[k].v;
                sum += glad - tears[k].v;
                run->neg_sum -= tears[k].v;
                run->pos_sum += glad;
                for (size_t j = tears[k].from; j < tears[k].to; j++)
                    run->tflags[j] |= RUN_T_JOYFUL;
                classify_evidence_add(run, CLASSIFY_EV_SENTIMENT, "tears_of_joy", tears[k].from,
                                      tears[k].to, glad - tears[k].v);
            }
        }
    }
    /* (thanks read as sarcasm are counted already) */
    for (size_t j = thanks_from; thanks > 0 && j < thanks_to; j++)
        if (run->tflags[j] & RUN_T_SARCASM)
            thanks = 0;
    const float rest = thanks > 0 ? sum - thanks - apology_items(run, item_at, item_v, n_items) : 0;
    if (thanks > 0 && (rest <= SENT_COURTESY_REST ||
                       (rest < 0 && run->n_quest > 0 && !ctok_is_word(tb, thanks_to, "for")))) {
        /* thanks or wishes that close a complaint are courtesy, not
         * praise ("My bill is wrong again. Thank you."); thanks before it
         * are for something ("Thank you for explaining. It is odd
         * that..."), and a customer's own apology is no complaint ("Sorry,
         * my mistake. Thanks!"); after a lesser fault they close a
         * request ("my SIM hasn't arrived yet ... Would you mind checking
         * where it is? Thanks very much") */
        as_courtesy(run, &sum, thanks_from, thanks_to, thanks);
    } else if (closing_thanks > 0 && closing_thanks <= SENT_COURTESY_ASKED_THANKS &&
               sum - closing_thanks < SENT_COURTESY_ASKED) {
        /* a plain thanks that closes a plain question, or one about a
         * fault, is manners, not praise ("Do you fly to Hawaii? Thanks!",
         * "it says my webcam is not supported. Is there a workaround?
         * Thank you."); effusive thanks are glad ("Where do I even start?
         * Thank you, thank you!") */
        as_courtesy(run, &sum, closing_from, closing_to, closing_thanks);
    }
    if (run->n_excl > 0 && sum != 0) {
        float x = SENT_EXCL * (float)(run->n_excl > 4 ? 4 : run->n_excl);
        sum += signf(sum) * x;
    }
    if (run->n_quest >= 2 && sum < 0)
        sum -= 0.2f;
    if (run->n_quest >= 2 && sum <= 0) {
        /* "where is my parcel??", "did it work or not??": a question asked
         * twice over is asked in exasperation */
        /* (right after a word: "??" standing alone is more often emoji
         * lost on the way, "arrived today ??") */
        for (size_t i = 1; i < tb->n; i++)
            if (tb->tok[i].kind == CTOK_PUNCT && tb->tok[i].n_quest >= 2 &&
                tb->tok[i - 1].src_off + tb->tok[i - 1].src_len == tb->tok[i].src_off) {
                sum += SENT_EXASPERATION;
                hits++;
                classify_evidence_add(run, CLASSIFY_EV_SENTIMENT, "exasperation", i, i + 1,
                                      SENT_EXASPERATION);
                break;
            }
    }
    size_t danger_end;
    const size_t danger =
        run->n_quest == 0 ? classify_danger_at(run, LEX_H_SENTIMENT, 1, &danger_end) : SIZE_MAX;
    if (danger != SIZE_MAX) {
        /* a danger told is bad news when its words do not say so ("someone
         * is logging into my account", "there's a strong smell of gas");
         * one asked about is a question ("what do I do if I smell gas?").
         * (Not added to neg_sum: the emotion stage reads the danger
         * itself.) */
        sum += SENT_DANGER;
        hits++;
        classify_evidence_add(run, CLASSIFY_EV_SENTIMENT, "danger", danger, danger_end,
                              SENT_DANGER);
    }
    sentiment_set(run, sum, hits);
}

void classify_sentiment_hostile(classify_run *run)
{
    const classify_threat_level level = run->r->threat.level;
    if (level < CLASSIFY_THREAT_ABUSE || (level == CLASSIFY_THREAT_ABUSE && !run->abuse_addressed))
        return;
    /* as strong as the strongest words of the lexicon, and never less
     * negative than that: "I'll find out where you live" has no negative
     * word in it, and praise of the product does not undo "you idiot".
     * (Not added to neg_sum: the emotion and urgency stages weigh abuse
     * and threats themselves.) */
    const int threat = level == CLASSIFY_THREAT_THREAT;
    const float v = threat ? SENT_THREAT : SENT_ABUSE;
    const float sum = run->sent_sum + v < v ? run->sent_sum + v : v;
    const char *what = threat ? "threat" : "abuse";
    classify_evidence_add_text(run, CLASSIFY_EV_SENTIMENT, "hostile", what, strlen(what),
                               sum - run->sent_sum);
    sentiment_set(run, sum, run->sent_hits + 1);
}
