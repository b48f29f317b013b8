/* stages: emotion, threat/abuse, urgency/effort and preferences, each a
 * reading of the shared per-call analysis (tokens, lexicon entries, phrases,
 * negation scope, sentiment). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "classify/classify_int.h"

/* The entry that speaks for token i on an attribute (a LEX_H_* bit): the
 * phrase starting at i when it has the attribute (its span goes in *span),
 * else the word. */
static inline const lex_entry *entry_for(const classify_run *run, size_t i, unsigned attr,
                                         size_t *span)
{
    *span = 1;
    const lex_entry *p = run_phrase(run, i);
    if (p && (p->has & attr)) {
        *span = run->phrase_len[i];
        return p;
    }
    /* a word inside a phrase that carries this attribute was already counted */
    const lex_entry *in = run_inner_phrase(run, i);
    if (in && (in->has & attr))
        return NULL;
    const lex_entry *e = run->lex[i];
    return e && (e->has & attr) ? e : NULL;
}

/* The valence idiom the word entry x at token i stands in, or NULL: a good
 * one takes its badness away ("no worries", "not bad at all", "can't
 * complain": an idiom hides its words' negator, so the word would read as
 * felt), a neutral one all its feeling ("wrong number", "would like"). */
static const lex_entry *valence_idiom(const classify_run *run, size_t i, const lex_entry *x)
{
    const lex_entry *p = run_phrase(run, i);
    if (!p)
        p = run_inner_phrase(run, i);
    return p && p != x && (p->flags & LEX_F_VALENCE) && p->valence >= 0 ? p : NULL;
}

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* --- emotion ------------------------------------------------------------- */

/* Evidence needed before an emotion beats "neutral". */
#define EMO_NEUTRAL_BASE 1.0f
/* Words in capitals before a text in capitals reads as shouted: "OK" or
 * "NO WAY" is too short to say. */
#define EMO_SHOUT_WORDS 4u
/* Three words in a row in capitals in a text that is not all capitals:
 * emphasis chosen, so it says more than a text typed in capitals. */
#define EMO_SHOUT_RUN 3u
#define EMO_SHOUT_RUN_ANGER 1.2f
/* Fear a danger to a person or a home adds (urgency.tsv's danger). */
#define EMO_DANGER_FEAR 1.5f
#ifndef EMO_FAULT_ANGER
#define EMO_FAULT_ANGER 0.15f
#endif

/* Emotion k becomes the best if its score sk beats the best so far. */
static inline void emo_better(int k, float sk, int *best, float *best_s)
{
    if (sk > *best_s) {
        *best = k;
        *best_s = sk;
    }
}

/* The first of EMO_SHOUT_RUN words in a row in capitals, one of them of
 * four letters or more, or SIZE_MAX: names and codes in capitals ("UK",
 * "PAC", "4K") are short and seldom come three in a row ("my UK EE SIM"). */
static size_t shouted_run(const ctok_buf *tb)
{
    unsigned in_row = 0, long_word = 0;
    for (size_t i = 0; i < tb->n; i++) {
        if (tb->tok[i].kind != CTOK_WORD || !(tb->tok[i].flags & CTOK_F_ALLCAPS)) {
            in_row = long_word = 0;
            continue;
        }
        in_row++;
        long_word |= tb->tok[i].norm_len >= 4;
        if (in_row >= EMO_SHOUT_RUN && long_word)
            return i + 1 - EMO_SHOUT_RUN;
    }
    return SIZE_MAX;
}

static void classify_emotion_stage(classify_run *run)
{
    const ctok_buf *tb = run->tb;
    classify_result *r = run->r;
    float e[LEX_EMO_N] = {0};
    /* only tokens with a word entry can have one for this stage; a phrase's
     * other tokens are skipped as the loop over every token did */
    size_t next = 0;
    for (size_t hk = run_first_hit(run, LEX_H_EMOTION); hk < run->n_lexhit;
         hk = run_next_hit(run, hk + 1, LEX_H_EMOTION)) {
        const size_t i = run->lexhit[hk];
        if (i < next)
            continue;
        size_t span;
        const lex_entry *x = entry_for(run, i, LEX_H_EMOTION, &span);
        if (!x)
            continue;
        const int negated = run_negated(run, i);
        const lex_entry *idiom;
        float add[LEX_EMO_N];
        memcpy(add, x->emo, sizeof add);
        if ((tb->tok[i].flags & CTOK_F_ALLCAPS) && !tb->all_caps_text)
            for (int k = 0; k < LEX_EMO_N; k++)
                add[k] *= 1.3f;
        if (run->tflags[i] & RUN_T_SARCASM) {
            /* a sarcastic "great" is annoyance */
            add[CLASSIFY_EMO_ANGER] += add[CLASSIFY_EMO_JOY];
            add[CLASSIFY_EMO_JOY] = 0;
        } else if (run->tflags[i] & RUN_T_JOYFUL) {
            /* crying with good news */
            add[CLASSIFY_EMO_JOY] += add[CLASSIFY_EMO_SADNESS];
            add[CLASSIFY_EMO_SADNESS] = 0;
        } else if (run->tflags[i] & RUN_T_DOUBTED) {
            /* the "premium" support: someone else's word, no joy */
            add[CLASSIFY_EMO_JOY] = 0;
        } else if (x->pref == LEX_PREF_POLITE &&
                   (run->sent_sum < 0 ||
                    (run->n_quest > 0 && !ctok_is_word(tb, i + span, "for")))) {
            /* "thanks" closing a complaint or a request is courtesy, not
             * joy: "Could you check where it is? Thanks very much"; not
             * "thanks for sorting it" */
            add[CLASSIFY_EMO_JOY] *= 0.3f;
        } else if ((idiom = valence_idiom(run, i, x)) != NULL) {
            add[CLASSIFY_EMO_ANGER] *= 0.15f;
            add[CLASSIFY_EMO_FEAR] *= 0.15f;
            add[CLASSIFY_EMO_SADNESS] *= 0.15f;
            if (idiom->valence == 0) {
                add[CLASSIFY_EMO_CONFUSION] *= 0.15f;
                add[CLASSIFY_EMO_JOY] *= 0.15f;
            }
        } else if (negated) {
            /* "not happy" is disappointment or annoyance; "not worried" is calm */
            float joy = add[CLASSIFY_EMO_JOY];
            for (int k = 0; k < LEX_EMO_N; k++)
                add[k] *= 0.15f;
            add[CLASSIFY_EMO_SADNESS] += 0.5f * joy;
            add[CLASSIFY_EMO_ANGER] += 0.3f * joy;
        }
        _Static_assert(LEX_EMO_N == 5, "the sums below are written out");
        e[0] += add[0];
        e[1] += add[1];
        e[2] += add[2];
        e[3] += add[3];
        e[4] += add[4];
        int best = 0;
        for (int k = 1; k < LEX_EMO_N; k++)
            if (add[k] > add[best])
                best = k;
        if (add[best] >= 0.4f)
            classify_evidence_add(run, CLASSIFY_EV_EMOTION,
                                  negated ? "negated_emotion" : "emotion_lexicon", i, i + span,
                                  add[best]);
        next = i + span;
    }
    /* negativity no emotion word explains still says something */
    float neg = -run->neg_sum, pos = run->pos_sum;
    /* a fault told ("nobody called", "never turned up", "won't load")
     * annoys more than a word's negativity alone */
    e[CLASSIFY_EMO_ANGER] += 0.30f * neg - EMO_FAULT_ANGER * run->fault_sum;
    e[CLASSIFY_EMO_SADNESS] += 0.12f * neg;
    e[CLASSIFY_EMO_JOY] += 0.2f * pos;
    if (run->n_excl > 0 && run->sent_sum < 0) {
        float x = 0.3f * (float)(run->n_excl > 3 ? 3 : run->n_excl);
        e[CLASSIFY_EMO_ANGER] += x;
        classify_evidence_add_text(run, CLASSIFY_EV_EMOTION, "exclamation", "!", 1, x);
    }
    /* a whole complaint in capitals is shouted ("REMOVE THIS FEE NOW"), and
     * so is a run of words in capitals in one that is not ("It's 12:30.
     * WHERE ARE THEY", "FIX THE METER") */
    if (tb->all_caps_text) {
        if (tb->n_caps >= EMO_SHOUT_WORDS && run->sent_sum < 0) {
            e[CLASSIFY_EMO_ANGER] += 0.6f;
            classify_evidence_add_text(run, CLASSIFY_EV_EMOTION, "shouting", "", 0, 0.6f);
        }
    } else if (tb->n_caps >= EMO_SHOUT_RUN && run->sent_sum <= 0) {
        const size_t at = shouted_run(tb);
        if (at != SIZE_MAX) {
            e[CLASSIFY_EMO_ANGER] += EMO_SHOUT_RUN_ANGER;
            classify_evidence_add(run, CLASSIFY_EV_EMOTION, "shouting", at, at + EMO_SHOUT_RUN,
                                  EMO_SHOUT_RUN_ANGER);
        }
    }
    if (run->n_persist > 0 && run->sent_sum < 0)
        e[CLASSIFY_EMO_ANGER] += 0.4f * (float)(run->n_persist > 2 ? 2 : run->n_persist);
    if (r->threat.level >= CLASSIFY_THREAT_ABUSE)
        e[CLASSIFY_EMO_ANGER] += 2.0f;
    else if (r->threat.level == CLASSIFY_THREAT_PROFANITY && run->sent_sum <= 0)
        e[CLASSIFY_EMO_ANGER] += 0.6f;
    if (run->n_quest > 0 && e[CLASSIFY_EMO_CONFUSION] > 0)
        e[CLASSIFY_EMO_CONFUSION] += 0.2f;
    /* a danger told is frightening when its words do not say so
     * themselves: "someone is logging into my account", "water is coming
     * through the ceiling" (see classify_danger_at; not one asked about) */
    size_t danger_end;
    const size_t danger =
        run->n_quest == 0 ? classify_danger_at(run, LEX_H_EMOTION, 1, &danger_end) : SIZE_MAX;
    if (danger != SIZE_MAX) {
        e[CLASSIFY_EMO_FEAR] += EMO_DANGER_FEAR;
        classify_evidence_add(run, CLASSIFY_EV_EMOTION, "danger", danger, danger_end,
                              EMO_DANGER_FEAR);
    }
    const float total = EMO_NEUTRAL_BASE + e[0] + e[1] + e[2] + e[3] + e[4];
    /* written out, the best kept in a register: through r every score
     * would be reloaded after each store */
    const float s0 = e[0] / total, s1 = e[1] / total, s2 = e[2] / total, s3 = e[3] / total,
                s4 = e[4] / total, sn = EMO_NEUTRAL_BASE / total;
    int best = CLASSIFY_EMO_NEUTRAL;
    float best_s = sn;
    emo_better(0, s0, &best, &best_s);
    emo_better(1, s1, &best, &best_s);
    emo_better(2, s2, &best, &best_s);
    emo_better(3, s3, &best, &best_s);
    emo_better(4, s4, &best, &best_s);
    r->emotion.scores[0] = s0;
    r->emotion.scores[1] = s1;
    r->emotion.scores[2] = s2;
    r->emotion.scores[3] = s3;
    r->emotion.scores[4] = s4;
    r->emotion.scores[CLASSIFY_EMO_NEUTRAL] = sn;
    r->emotion.label = (classify_emotion)best;
    r->emotion.confidence = best_s;
}

/* --- threat and abuse ---------------------------------------------------- */

static int abuse_at(const classify_run *run, size_t i)
{
    const lex_entry *p = run_phrase(run, i);
    if (p && p->abuse)
        return p->abuse;
    const lex_entry *e = run->lex[i];
    return e ? e->abuse : LEX_ABUSE_NONE;
}

/* The kind of token i's own word, whatever phrase it opens ("you" in
 * "you idiot", "i'll" in "i'll come down there"). */
static int word_abuse(const classify_run *run, size_t i)
{
    const lex_entry *e = run->lex[i];
    return e ? e->abuse : LEX_ABUSE_NONE;
}

/* Is there a token of kind want in [from, to), inside one sentence? */
static int kind_within(const classify_run *run, size_t from, size_t to, int want)
{
    const ctok_buf *tb = run->tb;
    for (size_t j = from; j < to && j < tb->n; j++) {
        if (tb->tok[j].flags & CTOK_F_SENT_END)
            return 0;
        if (abuse_at(run, j) == want)
            return 1;
    }
    return 0;
}

static int kind_before(const classify_run *run, size_t i, size_t dist, int want)
{
    const ctok_buf *tb = run->tb;
    for (size_t k = 1; k <= dist && k <= i; k++) {
        if (tb->tok[i - k].flags & CTOK_F_SENT_END)
            return 0;
        if (abuse_at(run, i - k) == want)
            return 1;
    }
    return 0;
}

/* Is token j a person: one addressed ("you") or spoken of ("the driver",
 * "he")? A possessive counts only before a person or the insult itself:
 * "your driver is useless" and "your useless staff" name someone, "your
 * update is useless" and "your pathetic interest rates" do not (a word
 * after the insult that is no person is the thing it describes). */
static int possessive_at(const ctok_buf *tb, size_t j)
{
    static const char *const possessive[] = {"your", "ur", "his", "their"};
    return j < tb->n &&
           ctok_word_in(tb, j, possessive, sizeof possessive / sizeof possessive[0]) >= 0;
}

static int person_at(const classify_run *run, size_t j, size_t insult, size_t end)
{
    const ctok_buf *tb = run->tb;
    const int kind = abuse_at(run, j);
    if (kind != LEX_ABUSE_TARGET && kind != LEX_ABUSE_PERSON)
        return 0;
    if (!possessive_at(tb, j))
        return 1;
    if (j + 1 == insult) {
        /* (a small word after it starts something else: "your a joke and
         * so is your supervisor") */
        static const char *const small[] = {"and", "or", "but", "so",   "is",   "are", "was",
                                            "to",  "of", "for", "with", "that", "as",  "lol"};
        if (end >= tb->n || tb->tok[end].kind != CTOK_WORD ||
            (tb->tok[end - 1].flags & CTOK_F_CLAUSE_END) ||
            ctok_word_in(tb, end, small, sizeof small / sizeof small[0]) >= 0)
            return 1;
        const int after = abuse_at(run, end);
        return after == LEX_ABUSE_TARGET || after == LEX_ABUSE_PERSON || after == LEX_ABUSE_NAME;
    }
    const int next = abuse_at(run, j + 1);
    return next == LEX_ABUSE_TARGET || next == LEX_ABUSE_PERSON;
}

/* Whether the insult at i is said of a person: walking back at most dist
 * tokens in its clause, a person comes before anything that says otherwise:
 * a thing, the speaker, a negation or a verb that makes the insult its
 * object ("you are a complete idiot", "the agent on Tuesday was clueless",
 * "your staff are useless"; but "your app is useless", "you must think I'm
 * stupid", "you are not stupid", "they are known to have stupid ..."). */
static int person_before(const classify_run *run, size_t i, size_t end, size_t dist)
{
    static const char *const verbs[] = {
        "have", "has",   "had",  "to",    "think", "thinks", "thought", "say",   "says", "said",
        "know", "known", "tell", "told",  "make",  "made",   "find",    "found", "call", "called",
        "hate", "hates", "want", "wants", "who",   "which",  "in",      "into",  "with", "through"};
    const ctok_buf *tb = run->tb;
    for (size_t k = 1; k <= dist && k <= i; k++) {
        const size_t j = i - k;
        if (tb->tok[j].flags & CTOK_F_CLAUSE_END)
            return 0;
        if (person_at(run, j, i, end))
            return 1;
        const int kind = abuse_at(run, j);
        if (kind == LEX_ABUSE_OBJECT || kind == LEX_ABUSE_SELF)
            return 0;
        if ((run->lex[j] && run->lex[j]->mod == LEX_MOD_NEGATOR) ||
            ctok_word_in(tb, j, verbs, sizeof verbs / sizeof verbs[0]) >= 0)
            return 0;
    }
    return 0;
}

/* A name said by the speaker of themself or as a likeness: "I'm such an
 * idiot", "made me look like a moron", "treated us like idiots"; or, when
 * it opens its clause, of themself right after it: "numpty here forgot to
 * switch it on", "muppet that I am," (not "you are the biggest idiot
 * here", "idiot I am not going to tell you again"). The name is at [i,
 * end). */
static int name_of_speaker(const classify_run *run, size_t i, size_t end)
{
    static const char *const words[] = {"i",  "i'm", "im",   "me",  "myself",
                                        "we", "us",  "i've", "like"};
    /* (the name said to someone: "I need you idiots to stop") */
    static const char *const addressed[] = {"you", "u", "ya", "ye", "yall", "y'all"};
    const ctok_buf *tb = run->tb;
    for (size_t k = 1; k <= 4 && k <= i; k++) {
        if ((tb->tok[i - k].flags & CTOK_F_SENT_END) ||
            ctok_word_in(tb, i - k, addressed, sizeof addressed / sizeof addressed[0]) >= 0)
            break;
        if (ctok_word_in(tb, i - k, words, sizeof words / sizeof words[0]) >= 0)
            return 1;
    }
    if (i > 0 && !(tb->tok[i - 1].flags & CTOK_F_CLAUSE_END))
        return 0;
    if (end < tb->n && ctok_is_word(tb, end, "here"))
        return 1;
    const size_t j = end < tb->n && ctok_is_word(tb, end, "that") ? end + 1 : end;
    return j + 1 < tb->n && ctok_is_word(tb, j, "i") && ctok_is_word(tb, j + 1, "am") &&
           (j + 2 == tb->n || (tb->tok[j + 2].flags & CTOK_F_CLAUSE_END) ||
            tb->tok[j + 2].kind == CTOK_PUNCT);
}

/* A name said of someone in the customer's own life, not of staff: "my
 * neighbour is an idiot", "the other driver was a complete idiot"; the
 * subject of "is"/"was" a few words back is such a person, after "my",
 * "our", "the other"... ("your driver was an idiot" is staff). */
static int name_of_private_person(const ctok_buf *tb, size_t i)
{
    static const char *const copula[] = {"is", "was", "are", "were", "'s", "being", "s"};
    static const char *const people[] = {
        "husband", "wife",    "son",       "daughter",   "neighbour", "neighbor", "neighbours",
        "ex",      "brother", "sister",    "dad",        "mum",       "mom",      "mother",
        "father",  "partner", "boyfriend", "girlfriend", "landlord",  "flatmate", "roommate",
        "friend",  "kid",     "kids",      "boss",       "driver",    "owner",    "tenant",
        "cousin",  "uncle",   "aunt",      "builder",    "plumber",   "lawyer",   "solicitor"};
    static const char *const mine[] = {"my", "our"};
    static const char *const other[] = {"other", "previous", "old", "former"};
    static const char *const yours[] = {"your", "ur", "yer"};
    for (size_t k = 1; k <= 4 && k < i; k++) {
        const size_t c = i - k;
        if (tb->tok[c].flags & CTOK_F_CLAUSE_END)
            return 0;
        if (ctok_word_in(tb, c, copula, sizeof copula / sizeof copula[0]) < 0)
            continue;
        const size_t who = c - 1;
        if (ctok_word_in(tb, who, people, sizeof people / sizeof people[0]) < 0)
            return 0;
        if (who == 0)
            return 0;
        if (ctok_word_in(tb, who - 1, mine, sizeof mine / sizeof mine[0]) >= 0)
            return 1;
        /* "the other driver", not "your previous driver" (staff) */
        return ctok_word_in(tb, who - 1, other, sizeof other / sizeof other[0]) >= 0 &&
               (who < 2 || ctok_word_in(tb, who - 2, yours, sizeof yours / sizeof yours[0]) < 0);
    }
    return 0;
}

/* Is the word w in [from, to)? */
static int word_within(const ctok_buf *tb, size_t from, size_t to, const char *w)
{
    for (size_t j = from; j < to && j < tb->n; j++)
        if (ctok_is_word(tb, j, w))
            return 1;
    return 0;
}

/* Does the sentence of token i announce an act: "I'll", "gonna", "next
 * time", or a condition the speaker sets ("if ... I")? */
static int act_announced(const classify_run *run, size_t i)
{
    const ctok_buf *tb = run->tb;
    const size_t from = ctok_sentence_start(tb, i), to = ctok_sentence_end(tb, i);
    return kind_within(run, from, to, LEX_ABUSE_FUTURE) ||
           (word_within(tb, from, to, "if") &&
            (word_within(tb, from, to, "i") || word_within(tb, from, to, "i'm")));
}

/* Whether the weapon word at w is part of a thing ("a knife block", "a
 * hammer drill"): a thing right after it, or a thing the word begins with
 * the next one ("knife set") that a longer phrase before hid ("can I bring
 * a knife set back": "bring a knife" took the word). */
static int weapon_is_thing(const classify_run *run, size_t w)
{
    const ctok_buf *tb = run->tb;
    if (kind_within(run, w + 1, w + 2, LEX_ABUSE_OBJECT))
        return 1;
    if (w + 1 >= tb->n || tb->tok[w + 1].kind == CTOK_PUNCT)
        return 0;
    const uint64_t key =
        ctok_phrase_step(ctok_phrase_step(CTOK_PHRASE_SEED, tb->tok[w].hash), tb->tok[w + 1].hash);
    const lex_entry *e = lex_find(&run->c->lex, key);
    return e && e->ntok == 2 && (e->abuse == LEX_ABUSE_OBJECT || e->abuse == LEX_ABUSE_SELF);
}

/* Whether someone other than the speaker has or brings what the verb at v
 * names: a person addressed or spoken of just before it, in its clause
 * ("do you have the bat in stock", "you should bring a hammer", "tell your
 * driver to bring a knife"); the speaker nearer wins ("you'll see what I've
 * got"). */
static int carried_by_other(const classify_run *run, size_t v)
{
    const ctok_buf *tb = run->tb;
    for (size_t k = 1; k <= 3 && k <= v; k++) {
        const size_t j = v - k;
        if (tb->tok[j].flags & CTOK_F_CLAUSE_END)
            return 0;
        const int kind = abuse_at(run, j);
        if (kind == LEX_ABUSE_SELF || kind == LEX_ABUSE_FUTURE)
            return 0;
        if (kind == LEX_ABUSE_TARGET || kind == LEX_ABUSE_PERSON)
            return 1;
    }
    return 0;
}

/* A weapon at [i, end) asked about is shopping or advice ("do I need to
 * bring a knife to the class?"), unless the question sets a condition
 * ("what if I came with a bat?"); one brought back is a return. */
static int weapon_shopping(const classify_run *run, size_t i, size_t end)
{
    const ctok_buf *tb = run->tb;
    const size_t from = ctok_sentence_start(tb, i), to = ctok_sentence_end(tb, i);
    return (to < tb->n && tb->tok[to].n_quest > 0 && !word_within(tb, from, to, "if")) ||
           (end < tb->n && ctok_is_word(tb, end, "back"));
}

/* What token j is as a quotation mark: a straight double quote toggles; a
 * curly one opens or closes; a straight single quote opens before a word
 * and closes after one ("shouting 'I'll kill you' at"), and is no mark
 * between two ("customers' orders" closes nothing that was open).
 * *dbl: whether it is a double mark, straight or curly. */
enum { QUOTE_NONE, QUOTE_TOGGLE, QUOTE_OPEN, QUOTE_CLOSE };

static int quote_role(const ctok_buf *tb, size_t j, int *dbl)
{
    const ctok *t = &tb->tok[j];
    *dbl = 0;
    if (t->kind != CTOK_PUNCT)
        return QUOTE_NONE;
    if (t->punct == '"') {
        *dbl = 1;
        return j > 0 && tb->tok[j - 1].kind == CTOK_NUM ? QUOTE_NONE : QUOTE_TOGGLE;
    }
    if (t->punct == '\'') {
        const int word_before = j > 0 && tb->tok[j - 1].kind != CTOK_PUNCT &&
                                tb->tok[j - 1].src_off + tb->tok[j - 1].src_len == t->src_off;
        const int word_after = j + 1 < tb->n && tb->tok[j + 1].kind != CTOK_PUNCT &&
                               tb->tok[j + 1].src_off == t->src_off + 1;
        return word_after && !word_before   ? QUOTE_OPEN
               : word_before && !word_after ? QUOTE_CLOSE
                                            : QUOTE_NONE;
    }
    if (t->punct == 0 && t->norm_len == 3) {
        const char *m = ctok_text(tb, j);
        const int left = memcmp(m, "\xe2\x80\x9c", 3) == 0,
                  right = memcmp(m, "\xe2\x80\x9d", 3) == 0;
        *dbl = left || right;
        if (left || memcmp(m, "\xe2\x80\x98", 3) == 0)
            return QUOTE_OPEN; /* left double and single quotation marks */
        if (right || memcmp(m, "\xe2\x80\x99", 3) == 0)
            return QUOTE_CLOSE;
    }
    return QUOTE_NONE;
}

/* Marks the tokens inside short quotations (RUN_T_QUOTED): someone else's
 * words reported ("my son keeps shouting "I'll kill you" at his friends",
 * 'I'll kill you' and curly quotes alike, the song "Burn It to the
 * Ground"). Not a long one, more likely the customer's own words written
 * down (a call transcript in quotes); not one that opens the message or
 * follows "or", "and" or "so", more likely emphasis ("Refund me now or "I
 * know where you live""); and a mark right after a number is inches ("my
 * 27" monitor"). Once per message: a mark pairs with the next that can
 * close it. */
#define QUOTE_MAX_TOKENS 16

static void mark_quotes(classify_run *run)
{
    static const char *const joins[] = {"or", "and", "so", "then", "else", "but"};
    const ctok_buf *tb = run->tb;
    size_t open = SIZE_MAX;
    int open_dbl = 0, dbl;
    for (size_t j = 0; j < tb->n; j++) {
        const int role = quote_role(tb, j, &dbl);
        if (role == QUOTE_NONE)
            continue;
        /* a mark of the other kind inside is no end: a quotation in double
         * marks may hold one in single marks ("shouting "I'll kill you
         * 'noob'" at his games") */
        if (open != SIZE_MAX && open_dbl != dbl)
            continue;
        if (open == SIZE_MAX || role == QUOTE_OPEN) {
            if (role != QUOTE_CLOSE) {
                open = j;
                open_dbl = dbl;
            }
            continue;
        }
        if (j - open <= QUOTE_MAX_TOKENS && open > 0 &&
            ctok_word_in(tb, open - 1, joins, sizeof joins / sizeof joins[0]) < 0)
            for (size_t k = open + 1; k < j; k++)
                run->tflags[k] |= RUN_T_QUOTED;
        open = SIZE_MAX;
    }
}

/* The subject of the verb at j: the word before it, past auxiliaries and
 * adverbs ("I have already told you"), or SIZE_MAX. */
static size_t subject_of(const ctok_buf *tb, size_t j)
{
    static const char *const skip[] = {"have", "had",  "has",   "already", "just",
                                       "also", "even", "never", "did",     "do"};
    while (j > 0) {
        j--;
        if (tb->tok[j].flags & CTOK_F_CLAUSE_END)
            return SIZE_MAX;
        if (ctok_word_in(tb, j, skip, sizeof skip / sizeof skip[0]) < 0)
            return j;
    }
    return SIZE_MAX;
}

/* Whether the word of abuse that ends before token end is a verb, an
 * object or a particle right after it: "do you prick the sausages?",
 * "can you clown around for the toddlers?" (a name or an insult is
 * followed by punctuation or a new clause, seldom by "the"). */
static int used_as_verb(const ctok_buf *tb, size_t end)
{
    static const char *const object[] = {"the", "a",     "an",  "my",   "your",  "his",
                                         "her", "their", "our", "them", "around"};
    return end < tb->n && ctok_word_in(tb, end, object, sizeof object / sizeof object[0]) >= 0;
}

#define REPORTED_MAX_TOKENS 12

/* Whether, going back from token j within its sentence, a third party
 * ("a man", "someone", "he") comes before the speaker or the one
 * addressed ("I", "you're"). */
static int third_party_before(const ctok_buf *tb, size_t j)
{
    static const char *const third[] = {
        "someone",  "somebody", "man",     "woman",   "guy",     "bloke",     "lady",
        "customer", "he",       "she",     "they",    "he's",    "she's",     "they're",
        "lad",      "person",   "people",  "girl",    "boy",     "driver",    "passenger",
        "son",      "daughter", "husband", "wife",    "partner", "boyfriend", "girlfriend",
        "kid",      "kids",     "child",   "brother", "sister",  "neighbour", "neighbor",
        "teenager", "flatmate"};
    static const char *const near[] = {"i", "i'm", "im", "we", "you", "you're", "youre", "u"};
    for (size_t from = ctok_sentence_start(tb, j); j > from;) {
        j--;
        if (ctok_word_in(tb, j, near, sizeof near / sizeof near[0]) >= 0)
            return 0;
        if (ctok_word_in(tb, j, third, sizeof third / sizeof third[0]) >= 0)
            return 1;
    }
    return 0;
}

/* Whether the words at token i are what is shouted at token j: right after
 * it, or after a pronoun that says whose ("yelling he'd burn your shop
 * down"); not "yelling at me I'm going to smash...", the speaker's own. */
static int shouted_words(const ctok_buf *tb, size_t j, size_t i)
{
    static const char *const whose[] = {"that",  "he",     "she",     "they",   "he'd",
                                        "she'd", "they'd", "he'll",   "she'll", "they'll",
                                        "he's",  "she's",  "they're", "it's"};
    return i == j + 1 ||
           (i == j + 2 && ctok_word_in(tb, j + 1, whose, sizeof whose / sizeof whose[0]) >= 0);
}

/* Whether the words at token i are someone else's, reported: in a short
 * quotation (mark_quotes), or in the clause of a verb of saying whose
 * subject is a third party ("the instructions say you'll get hurt", "my
 * physio said you're going to get hurt", "someone on Trustpilot called you
 * crooks"; not "I've already told you, I know where you live", "you said
 * it would come Monday, I'll find you", nor "Tell your driver he won't
 * walk away", which passes the speaker's own words on). */
static int reported(classify_run *run, size_t i)
{
    /* (past forms only of the verbs of what someone did: "stop shouting at
     * me or I'll..." is the speaker's own threat) */
    static const char *const saying[] = {"say",     "says",       "said",      "warn",     "warns",
                                         "warned",  "tell",       "tells",     "told",     "called",
                                         "calling", "threatened", "shouted",   "screamed", "yelled",
                                         "swore",   "shouting",   "screaming", "yelling"};
    enum { SAYING_DONE = 11 }; /* from "threatened" on: what someone did */
    enum { SAYING_ING = 16 };  /* from "shouting" on: what a third party is doing */
    static const char *const passive[] = {"been", "was", "were", "being", "get", "got", "getting"};
    static const char *const first[] = {"i",    "we",   "i've",   "ive", "we've", "you", "i'd",
                                        "we'd", "i'll", "please", "i'm", "im",    "ill"};
    const ctok_buf *tb = run->tb;
    if (!run->quotes_marked) {
        mark_quotes(run);
        run->quotes_marked = 1;
    }
    if (run->tflags[i] & RUN_T_QUOTED)
        return 1;
    /* (looked for a few words back: one further off governs something
     * else, and a long clause costs no more) */
    static const char *const opens[] = {"but", "so", "because", "cos", "yet"};
    static const char *const joins[] = {"and", "or"};
    static const char *const subjects[] = {"i",      "i'm",   "i'll",   "ill",  "im",   "you",
                                           "you're", "youre", "you'll", "your", "u",    "ur",
                                           "we",     "it",    "it's",   "its",  "they", "this"};
    static const char *const objects[] = {"me", "him", "her",  "them",  "us",       "you",
                                          "u",  "the", "your", "staff", "everyone", "people"};
    for (size_t j = i;
         j > 0 && i - j < REPORTED_MAX_TOKENS && !(tb->tok[j - 1].flags & CTOK_F_CLAUSE_END);) {
        j--;
        /* a clause of the customer's own after the report: "your agent told
         * me it was fixed but it's still f***ing broken", "my husband keeps
         * calling and you idiots never pick up" */
        if (j < i &&
            (ctok_word_in(tb, j, opens, sizeof opens / sizeof opens[0]) >= 0 ||
             (ctok_word_in(tb, j, joins, sizeof joins / sizeof joins[0]) >= 0 &&
              ctok_word_in(tb, j + 1, subjects, sizeof subjects / sizeof subjects[0]) >= 0)))
            return 0;
        const int verb = ctok_word_in(tb, j, saying, sizeof saying / sizeof saying[0]);
        if (verb < 0 || (run->tflags[j] & RUN_T_QUOTED))
            continue;
        /* "so-called" names no one's words: "tell the so-called manager
         * I'll be waiting" */
        if (ctok_is_word(tb, j, "called") && j > 0 && ctok_is_word(tb, j - 1, "so"))
            continue;
        /* "calling" names someone ("calling them idiots") or it is phoning */
        if (ctok_is_word(tb, j, "calling") &&
            ctok_word_in(tb, j + 1, objects, sizeof objects / sizeof objects[0]) < 0)
            continue;
        /* "my son keeps shouting I'm going to kill you at the screen", a
         * transcript with no quotation marks; not "stop shouting at me or
         * I'll...", nor "you keep screaming..." */
        if (verb >= SAYING_ING)
            return shouted_words(tb, j, i) && third_party_before(tb, j);
        /* what was done to the speaker ("I was threatened with bailiffs,
         * so I'll...") reports no one's words */
        if (verb >= SAYING_DONE && j > 0 &&
            ctok_word_in(tb, j - 1, passive, sizeof passive / sizeof passive[0]) >= 0)
            return 0;
        const size_t subj = subject_of(tb, j);
        /* a participle opening a clause has the subject before it: "a man
         * was screaming at your staff, calling them idiots"; not "you're a
         * joke, calling yourselves a bank" */
        if (subj == SIZE_MAX && j > 0 && (tb->tok[j - 1].flags & CTOK_F_CLAUSE_END) &&
            word_ends(ctok_text(tb, j), tb->tok[j].norm_len, "ing", 5))
            return third_party_before(tb, j);
        return subj != SIZE_MAX &&
               ctok_word_in(tb, subj, first, sizeof first / sizeof first[0]) < 0;
    }
    return 0;
}

/* Marks the sentence of token i, whose threat is not made, for the
 * model's heads (see classify_run.threat_unmade). */
static void mark_unmade(classify_run *run, size_t i)
{
    const ctok_buf *tb = run->tb;
    const size_t to = ctok_sentence_end(tb, i);
    for (size_t k = ctok_sentence_start(tb, i); k < to && k < tb->n; k++)
        run->tflags[k] |= RUN_T_UNMADE;
    run->threat_unmade = 1;
}

/* Whether the threat at [i, end) is not made: reported (above); asked
 * about in a question that opens with an auxiliary and in which the speaker
 * does nothing before it ("does the spray hurt your kids?"; not "do I need
 * to come down there and break your neck?", "do you want me to...", "what
 * if someone keyed your cars?", nor one that announces an act, see
 * act_announced); or a danger that a thing, or "you" in general, may
 * bring ("a fall from that ladder could kill you", "the heels are so high
 * you could break your neck"; not "I could kill you", "someone might get
 * hurt", "your staff could get hurt"). */
static int threat_not_made(classify_run *run, size_t i)
{
    static const char *const may[] = {"can", "could", "might", "may"};
    static const char *const people[] = {"i",       "we",     "i'd",     "we'd",     "they",
                                         "he",      "she",    "someone", "somebody", "anyone",
                                         "anybody", "people", "everyone"};
    static const char *const aux[] = {"do",    "does", "did",  "can", "could",  "will",
                                      "would", "is",   "are",  "was", "should", "may",
                                      "might", "has",  "have", "am"};
    static const char *const speaker[] = {"i", "we", "i'm", "im", "i'll", "ill", "i've", "me"};
    const ctok_buf *tb = run->tb;
    if (reported(run, i))
        return 1;
    const size_t from = ctok_sentence_start(tb, i), to = ctok_sentence_end(tb, i);
    if (to < tb->n && tb->tok[to].n_quest > 0 && from + 1 < i &&
        ctok_word_in(tb, from, aux, sizeof aux / sizeof aux[0]) >= 0 &&
        !ctok_is_word(tb, from + 1, "you") && !act_announced(run, i)) {
        size_t j = from + 1;
        while (j <= i && ctok_word_in(tb, j, speaker, sizeof speaker / sizeof speaker[0]) < 0)
            j++;
        if (j > i)
            return 1;
    }
    for (size_t k = 1; k <= 2 && k <= i - from; k++) {
        if (ctok_word_in(tb, i - k, may, sizeof may / sizeof may[0]) < 0)
            continue;
        if (i - k == from)
            return 0;
        const size_t subj = i - k - 1;
        return ctok_word_in(tb, subj, people, sizeof people / sizeof people[0]) < 0 &&
               abuse_at(run, subj) != LEX_ABUSE_TARGET && abuse_at(run, subj) != LEX_ABUSE_PERSON;
    }
    return 0;
}

/* An ultimatum in the sentence of token i: "or" before an act announced or
 * "else" ("refund me or I'll..."), "unless", or an "if" whose clause is
 * negated ("if my money isn't there", "if you don't"). A veiled threat
 * needs one: "I'll pay you a visit" menaces only so. */
static int ultimatum(const classify_run *run, size_t i)
{
    const ctok_buf *tb = run->tb;
    const size_t from = ctok_sentence_start(tb, i), to = ctok_sentence_end(tb, i);
    for (size_t j = from; j < to; j++) {
        if (ctok_is_word(tb, j, "unless"))
            return 1;
        /* (the act's word may open the veiled phrase itself: "or I'll
         * come down there") */
        if (ctok_is_word(tb, j, "or") && j + 1 < to &&
            (ctok_is_word(tb, j + 1, "else") || abuse_at(run, j + 1) == LEX_ABUSE_FUTURE ||
             word_abuse(run, j + 1) == LEX_ABUSE_FUTURE))
            return 1;
        if (ctok_is_word(tb, j, "if"))
            for (size_t k = j + 1; k < to && k <= j + 5 && !(tb->tok[k].flags & CTOK_F_CLAUSE_END);
                 k++)
                if (run_is_negator(run, k))
                    return 1;
    }
    return 0;
}

/* What weapon_carried finds: none; one brought or carried into an act
 * announced (a threat); one merely had ("I have a hammer, can you send the
 * screws?"), a threat only beside a threat made some other way ("I've got
 * a gun and I know where you live"). */
enum { WEAPON_NONE, WEAPON_CARRIED, WEAPON_HAD };

/* A weapon the speaker brings ("bringing a hammer") or carries into an
 * act announced ("I'll come with a bat"), or only has ("I've got a
 * knife"); not a thing made of the word ("a knife block"), nor one asked
 * about or brought back (weapon_shopping). */
static int weapon_carried(const classify_run *run, size_t i, size_t end)
{
    /* "bring" and "bringing" first: bringing one is an act by itself ("I'm
     * bringing a hammer"); "with" last: it carries a weapon only into an act
     * announced ("I'll come to your office with a bat"), not into a
     * description ("delivered with a hammer") */
    static const char *const carry[] = {"bring",    "bringing", "got",      "have",
                                        "has",      "brought",  "carrying", "grab",
                                        "grabbing", "packing",  "with"};
    const int bring_last = 1, with = (int)(sizeof carry / sizeof carry[0]) - 1;
    static const char *const det[] = {"a", "an", "the", "my", "our", "his", "this", "that", "some"};
    const ctok_buf *tb = run->tb;
    int carried = -1;
    size_t verb = i;
    for (size_t k = 1; k <= 3 && k <= i && carried < 0; k++) {
        carried = ctok_word_in(tb, i - k, carry, sizeof carry / sizeof carry[0]);
        verb = i - k;
        if (carried < 0 && ctok_word_in(tb, i - k, det, sizeof det / sizeof det[0]) < 0)
            break;
    }
    /* ("with" has no one before it who carries: "if I turned up at your
     * office with a bat") */
    if (carried < 0 || run_negated(run, i) || weapon_is_thing(run, end - 1) ||
        (carried != with && carried_by_other(run, verb)))
        return WEAPON_NONE;
    if (weapon_shopping(run, i, end))
        return WEAPON_NONE;
    if (carried <= bring_last || act_announced(run, i))
        return WEAPON_CARRIED; /* "I'll come with a bat", "if it isn't here
                                  I'm driving there with a hammer" */
    return carried == with ? WEAPON_NONE : WEAPON_HAD;
}

/* A weapon phrase ("i'm armed", "i've got a gun", "bring a knife") is a
 * weapon carried by itself, with the guards of a weapon word: not negated,
 * not a thing made of the word ("can I bring a knife set back"), and not
 * carried by someone else ("tell your driver to bring a knife"; a phrase
 * that begins with the speaker says who carries it). */
static int weapon_phrase_carried(const classify_run *run, size_t i, size_t end)
{
    if (run_negated(run, i) || weapon_is_thing(run, end - 1) || weapon_shopping(run, i, end))
        return 0;
    return word_abuse(run, i) == LEX_ABUSE_SELF || !carried_by_other(run, i);
}

/* --- harm said without a threat phrase ----------------------------------- */

/* The speaker, or someone on the speaker's side, acting: words that make
 * harm described in a sentence the speaker's own act. */
static int speaker_within(const ctok_buf *tb, size_t from, size_t to)
{
    static const char *const speaker[] = {"i",    "i'm",     "im",       "i'll",  "i'd",
                                          "i've", "we",      "we'll",    "we're", "we'd",
                                          "me",   "someone", "somebody", "mates", "brothers"};
    for (size_t j = from; j < to && j < tb->n; j++)
        if (ctok_word_in(tb, j, speaker, sizeof speaker / sizeof speaker[0]) >= 0)
            return 1;
    return 0;
}

/* Whether the sentence of token i says what will happen or sets terms: an
 * act announced, an ultimatum, a time or a condition ("when I find you",
 * "next time I come in", "see what happens"). */
static int sentence_sets_terms(const classify_run *run, size_t i)
{
    static const char *const when[] = {"when", "next", "until", "happens", "or"};
    const ctok_buf *tb = run->tb;
    const size_t from = ctok_sentence_start(tb, i), to = ctok_sentence_end(tb, i);
    if (act_announced(run, i) || ultimatum(run, i))
        return 1;
    for (size_t j = from; j < to; j++)
        if (ctok_word_in(tb, j, when, sizeof when / sizeof when[0]) >= 0)
            return 1;
    return 0;
}

/* The nearest token before i, at most max back and within i's clause, that
 * is one of words[n]; SIZE_MAX when none. */
static size_t word_back(const ctok_buf *tb, size_t i, const char *const *words, size_t n,
                        size_t max)
{
    for (size_t j = i; j > 0 && i - j < max;) {
        j--;
        if (tb->tok[j].flags & CTOK_F_CLAUSE_END)
            return SIZE_MAX;
        if (ctok_word_in(tb, j, words, n) >= 0)
            return j;
    }
    return SIZE_MAX;
}

/* Whether token i sits in a condition ("if the strap rubs your neck, ...",
 * "when the mask touches your face"): what follows "if" or "when" up to
 * the end of its clause describes, it does not threaten. */
static int in_condition(const ctok_buf *tb, size_t i)
{
    static const char *const cond[] = {"if", "when", "whenever", "unless"};
    return word_back(tb, i, cond, sizeof cond / sizeof cond[0], SIZE_MAX) != SIZE_MAX;
}

/* Whose the part of the body at [i, end) is: 1 for someone else's ("your
 * jaw", "that pretty face of yours"), 0 for the speaker's or nobody's
 * ("my face", "a slap in the face"). */
static int body_of_other(const classify_run *run, size_t i, size_t end)
{
    static const char *const yours[] = {"your", "ur", "yer", "ya"};
    static const char *const theirs[] = {"his", "her", "their"};
    static const char *const mine[] = {"my", "our", "me", "i", "myself"};
    static const char *const of[] = {"yours", "his", "hers", "theirs"};
    const ctok_buf *tb = run->tb;
    for (size_t k = 1; k <= 3 && k <= i; k++) {
        const size_t j = i - k;
        if (tb->tok[j].flags & CTOK_F_CLAUSE_END)
            break;
        if (ctok_word_in(tb, j, mine, sizeof mine / sizeof mine[0]) >= 0)
            return 0;
        if (ctok_word_in(tb, j, yours, sizeof yours / sizeof yours[0]) >= 0)
            return 1;
        /* (someone spoken of only when the speaker announces it: "I'll
         * break his jaw", not "my son hit his head on your shelf") */
        if (ctok_word_in(tb, j, theirs, sizeof theirs / sizeof theirs[0]) >= 0)
            return kind_before(run, j, 6, LEX_ABUSE_FUTURE) ||
                   (j > 0 &&
                    (ctok_is_word(tb, j - 1, "getting") || ctok_is_word(tb, j - 1, "gets")));
    }
    return end + 1 < tb->n && ctok_is_word(tb, end, "of") &&
           ctok_word_in(tb, end + 1, of, sizeof of / sizeof of[0]) >= 0;
}

/* Words of harm done to a body (harm_near, body_ends_phrase). */
static const char *const harm_words[] = {
    "ruin",    "rearrange", "wring",   "snap",    "snapped", "crack",   "cracked",  "bash",
    "bashed",  "cave",      "caved",   "punch",   "kick",    "kicked",  "hit",      "slap",
    "split",   "bust",      "busted",  "stamp",   "stomp",   "smash",   "smashed",  "break",
    "broken",  "bloody",    "rip",     "slice",   "pound",   "knock",   "knocked",  "burn",
    "round",   "around",    "through", "across",  "fist",    "fists",   "boot",     "happens",
    "acid",    "picking",   "bruised", "swollen", "fat",     "busting", "smashing", "breaking",
    "ripping", "kicking",   "punching"};

/* A word of harm done to a body, looked for within a few words of the
 * part: "ruin your face", "hands round your throat", "your head is going
 * through that glass", "a broken jaw". Returns 1 + its token, or 0. */
static size_t harm_near(const classify_run *run, size_t i, size_t end)
{
    const ctok_buf *tb = run->tb;
    const size_t from = i >= 5 ? i - 5 : 0, to = end + 5 < tb->n ? end + 5 : tb->n;
    for (size_t j = from; j < to; j++) {
        if (j >= i && j < end)
            continue;
        const int k = abuse_at(run, j);
        if (ctok_word_in(tb, j, harm_words, sizeof harm_words / sizeof harm_words[0]) >= 0 ||
            k == LEX_ABUSE_VIOLENCE || k == LEX_ABUSE_WEAPON)
            return j + 1;
    }
    return 0;
}

/* Whether the words before token end close their clause: the text, a
 * clause or punctuation ends there ("you c*nt.", "smash your face!"). */
static int clause_ends_at(const ctok_buf *tb, size_t end)
{
    return end >= tb->n || (tb->tok[end - 1].flags & CTOK_F_CLAUSE_END) ||
           tb->tok[end].kind == CTOK_PUNCT;
}

/* What may follow a part of the body harmed: the end of the clause or a
 * word of where or when ("smash your face in", "your head is going
 * through"); a noun would make the part a thing ("face mask", "head
 * office", "neck pillow"). */
static int body_ends_phrase(const ctok_buf *tb, size_t end)
{
    static const char *const follow[] = {
        "in",    "off",  "through", "into",  "against", "on",    "and",   "when",    "if",
        "is",    "will", "until",   "til",   "till",    "so",    "for",   "open",    "apart",
        "up",    "out",  "with",    "again", "like",    "right", "round", "tonight", "or",
        "every", "next", "before",  "of",    "across",  "over",  "the"};
    /* (or the harm itself: "getting their teeth knocked out") */
    return clause_ends_at(tb, end) ||
           ctok_word_in(tb, end, follow, sizeof follow / sizeof follow[0]) >= 0 ||
           ctok_word_in(tb, end, harm_words, sizeof harm_words / sizeof harm_words[0]) >= 0;
}

/* Harm announced to someone's body without a phrase for it: "I'll ruin
 * your face", "I'm going to wring your scrawny neck when I find you",
 * "your head is going through that counter glass the next time I come
 * in", "he's getting a bat across the knees", "you won't be laughing with
 * a broken jaw". Not a part of the speaker's, nor one in a condition
 * ("if the strap rubs your neck"), nor one only described ("the heels
 * will ruin your feet": no one acts and nothing is demanded). */
static int body_harmed(classify_run *run, size_t i, size_t end)
{
    static const char *const broken[] = {"broken", "smashed", "busted",  "bloody", "cracked",
                                         "fat",    "black",   "bruised", "swollen"};
    const ctok_buf *tb = run->tb;
    /* (the cheap tests first: most parts of the body met are nobody's or
     * the speaker's) */
    if (!body_ends_phrase(tb, end) || run_negated(run, i))
        return 0;
    const size_t from = ctok_sentence_start(tb, i), to = ctok_sentence_end(tb, i);
    int owner = body_of_other(run, i, end);
    /* ("a broken jaw" for "you"; "across the knees" with a weapon at hand) */
    if (!owner && i > 0 && ctok_word_in(tb, i - 1, broken, sizeof broken / sizeof broken[0]) >= 0)
        owner = kind_before(run, i, 8, LEX_ABUSE_TARGET);
    if (!owner && i > 0 && ctok_is_word(tb, i - 1, "the"))
        owner = kind_within(run, from, i, LEX_ABUSE_WEAPON) &&
                kind_within(run, from, i, LEX_ABUSE_PERSON);
    if (!owner)
        return 0;
    const size_t harm = harm_near(run, i, end);
    /* (a danger a thing may bring is read at the harm: "the ice could
     * break your neck") */
    if (!harm || in_condition(tb, i) || threat_not_made(run, i) ||
        (harm - 1 < i && threat_not_made(run, harm - 1)))
        return 0;
    return speaker_within(tb, from, to) || sentence_sets_terms(run, i);
}

/* An injury someone is announced to be left with: "he's leaving on a
 * stretcher", "your staff will be carrying their colleagues out on
 * stretchers", "the rider won't leave my building in one piece". The
 * subject is a person, not the speaker; a word of what is to come stands
 * between ("my dad was carried out on a stretcher" tells a story). */
static int outcome_announced(classify_run *run, size_t i, size_t end)
{
    static const char *const people[] = {
        "you",       "you'll",   "youll",      "you're", "he",      "he'll",    "he's",
        "she",       "she'll",   "she's",      "they",   "they'll", "they're",  "someone",
        "someone's", "somebody", "somebody's", "your",   "anyone",  "everyone", "staff"};
    static const char *const coming[] = {
        "will",  "won't",     "wont",       "you'll",   "he'll",   "she'll",  "they'll",
        "going", "gonna",     "be",         "getting",  "leaving", "leave",   "need",
        "needs", "end",       "ending",     "carrying", "coming",  "come",    "go",
        "walk",  "walking",   "limping",    "heading",  "wheeled", "carried", "get",
        "gets",  "someone's", "somebody's", "leaves",   "goes",    "walks",   "ends"};
    static const char *const speaker[] = {"i", "i'm", "i'll", "we", "we'll"};
    static const char *const mine[] = {"my", "our"};
    const ctok_buf *tb = run->tb;
    /* ("in one piece" is an injury only denied: "won't leave in one
     * piece", not "arrived in one piece") */
    int to_come = 0, denied = !ctok_is_word(tb, end - 1, "piece");
    for (size_t k = 1; k <= 12 && k <= i; k++) {
        const size_t j = i - k;
        if (tb->tok[j].flags & CTOK_F_CLAUSE_END)
            return 0;
        if (ctok_word_in(tb, j, coming, sizeof coming / sizeof coming[0]) >= 0)
            to_come = 1;
        /* (a word in n't also inside a phrase: "won't leave") */
        if (run_is_negator(run, j) || ctok_is_word(tb, j, "not") || ctok_is_word(tb, j, "never") ||
            ctok_is_nt(tb, j))
            denied = 1;
        if (ctok_word_in(tb, j, speaker, sizeof speaker / sizeof speaker[0]) >= 0)
            return 0;
        const int kind = abuse_at(run, j);
        if (ctok_word_in(tb, j, people, sizeof people / sizeof people[0]) >= 0 ||
            kind == LEX_ABUSE_TARGET || kind == LEX_ABUSE_PERSON) {
            if (j > 0 && ctok_word_in(tb, j - 1, mine, sizeof mine / sizeof mine[0]) >= 0)
                return 0;
            return (to_come || ultimatum(run, i)) && denied && !threat_not_made(run, i);
        }
    }
    return 0;
}

/* What may follow a part of someone's life known: the end of the clause
 * or a word of what they do ("your car is", "your kids go"); a noun
 * would make it a thing ("your car park", "your family plan"). */
static int private_ends_phrase(const ctok_buf *tb, size_t end)
{
    static const char *const follow[] = {
        "and",     "is",    "looks", "lives", "goes",     "leaves", "gets", "takes",
        "drives",  "parks", "at",    "ends",  "finishes", "every",  "each", "off",
        "tonight", "you",   "he",    "she",   "they",     "after",  "when", "outside"};
    return clause_ends_at(tb, end) ||
           ctok_word_in(tb, end, follow, sizeof follow / sizeof follow[0]) >= 0;
}

/* What the speaker says they know of someone's private life: "I know the
 * colour of your front door", "we know which train he takes home", "I've
 * found your house". Not a thing named after it ("your car park", "your
 * family plan", "your home page"), nor the speaker's own. */
static int private_known(classify_run *run, size_t i, size_t end)
{
    static const char *const knowing[] = {"know",    "knows",   "found",    "got",      "seen",
                                          "saw",     "watched", "watching", "followed", "following",
                                          "tracked", "clocked", "spotted"};
    static const char *const first[] = {"i", "we", "i've", "ive", "we've", "i'd", "we'd"};
    static const char *const yours[] = {"your", "ur", "his", "her", "their"};
    static const char *const who[] = {"you", "he", "she", "they"};
    const ctok_buf *tb = run->tb;
    const size_t from = ctok_sentence_start(tb, i);
    int whose = (i > 0 && ctok_word_in(tb, i - 1, yours, sizeof yours / sizeof yours[0]) >= 0) ||
                (i > 1 && ctok_word_in(tb, i - 2, yours, sizeof yours / sizeof yours[0]) >= 0);
    if (whose && !private_ends_phrase(tb, end))
        return 0;
    /* ("which train he takes home.", not "which train you take depends
     * on the ticket") */
    if (!whose && !(end < tb->n && ctok_word_in(tb, end, who, sizeof who / sizeof who[0]) >= 0 &&
                    ctok_sentence_end(tb, end) <= end + 3))
        return 0;
    for (size_t j = i; j > from && i - j < 8;) {
        j--;
        if (ctok_word_in(tb, j, knowing, sizeof knowing / sizeof knowing[0]) < 0)
            continue;
        const size_t subj = subject_of(tb, j);
        return subj != SIZE_MAX &&
               ctok_word_in(tb, subj, first, sizeof first / sizeof first[0]) >= 0 &&
               !run_negated(run, j) && !threat_not_made(run, i);
    }
    return 0;
}

/* Whether a threat phrase that ends on a part of the body or of private
 * life ends before a thing made of it: "you'll need a new face", "I know
 * your car", not "I need a new face mask", "I know your car park". */
static int threat_phrase_ends(const classify_run *run, size_t end)
{
    const int last = word_abuse(run, end - 1);
    if (last == LEX_ABUSE_BODY)
        return body_ends_phrase(run->tb, end);
    if (last == LEX_ABUSE_PRIVATE)
        return private_ends_phrase(run->tb, end);
    return 1;
}

/* Harm wished on someone: "I hope you crash on the way home", "hope ur
 * kids grow up to hate u", "I hope your engineer's van goes off a cliff";
 * a person after the wish, then the harm, in its clause, not denied ("I
 * hope you don't lose my details"). */
static int harm_wished(classify_run *run, size_t i)
{
    static const char *const harm[] = {
        "die",     "dies",   "rot",       "rots",     "suffer",  "suffers", "crash",
        "crashes", "lose",   "loses",     "hate",     "burn",    "burns",   "choke",
        "chokes",  "drown",  "drowns",    "starve",   "fired",   "sacked",  "cancer",
        "cliff",   "misery", "miserable", "bankrupt", "homeless"};
    static const char *const who[] = {"you", "u", "ya", "he", "she", "they", "someone"};
    const ctok_buf *tb = run->tb;
    int person = 0;
    for (size_t j = i + 1; j < tb->n && j <= i + 12; j++) {
        if (tb->tok[j - 1].flags & CTOK_F_CLAUSE_END)
            return 0;
        const int kind = abuse_at(run, j);
        if (kind == LEX_ABUSE_SELF || run_is_negator(run, j))
            return 0;
        if (kind == LEX_ABUSE_TARGET || kind == LEX_ABUSE_PERSON ||
            ctok_word_in(tb, j, who, sizeof who / sizeof who[0]) >= 0)
            person = 1;
        else if (person && ctok_word_in(tb, j, harm, sizeof harm / sizeof harm[0]) >= 0)
            return !reported(run, i);
    }
    return 0;
}

static void raise_threat(classify_run *run, classify_threat_level l, float conf, const char *rule,
                         size_t from, size_t to)
{
    classify_result *r = run->r;
    /* abuse makes the message hostile (classify_sentiment_hostile) when its
     * clause addresses someone: "you idiot", not "that idiot" in a story nor
     * "my landlord is an idiot, can you send the form" */
    if (l == CLASSIFY_THREAT_ABUSE && !run->abuse_addressed && to > 0) {
        const ctok_buf *tb = run->tb;
        size_t c0 = to - 1;
        while (c0 > 0 && !(tb->tok[c0 - 1].flags & CTOK_F_CLAUSE_END))
            c0--;
        size_t c1 = c0;
        while (c1 < tb->n && !(tb->tok[c1].flags & CTOK_F_CLAUSE_END))
            c1++;
        /* (a person addressed counts, also one who opens a phrase of
         * abuse, "you idiot"; not one who opens a harmless phrase, "you
         * guys are great") */
        for (size_t j = c0; j < c1 && !run->abuse_addressed; j++) {
            const int k = abuse_at(run, j);
            run->abuse_addressed =
                k == LEX_ABUSE_TARGET || (word_abuse(run, j) == LEX_ABUSE_TARGET &&
                                          k != LEX_ABUSE_NONE && k < LEX_ABUSE_TARGET);
        }
    }
    if (l > r->threat.level || (l == r->threat.level && conf > r->threat.confidence)) {
        r->threat.level = l;
        r->threat.confidence = conf;
    }
    classify_evidence_add(run, CLASSIFY_EV_THREAT, rule, from, to, (float)l);
}

/* How a form of a violence verb (kind violent_form: "stabbing",
 * "stabbed") at [i, end) is a threat: only in an act the speaker announces
 * ("I'll", "gonna" just before), never with a preposition after it
 * ("slapped with a fine", "killed in the reviews", "punching in your
 * number", "choking on your prices"). An -ing form is the speaker's act at
 * someone: the one addressed right after it ("gonna be killing you"; not
 * "your code") or someone spoken of ("choking the first person I see"),
 * and no "you" before it ("are you going to be slapping a fee on", "you're
 * gonna be killing your own business"). Another form befalls the one
 * addressed ("ur gonna get stabbed", "I'll have you killed"). */
enum { FORM_NONE, FORM_AT_PERSON, FORM_ANNOUNCED };

/* Whether a thing is named in [from, to): an object word that names no
 * person with the words after it ("the data migration", "the bomb emoji
 * in your email"; not "project managers", "the review team"). */
static int thing_within(const classify_run *run, size_t from, size_t to)
{
    for (size_t j = from; j < to && j < run->tb->n; j++)
        if (abuse_at(run, j) == LEX_ABUSE_OBJECT &&
            !kind_within(run, j + 1, j + 3, LEX_ABUSE_PERSON))
            return 1;
    return 0;
}

/* Whether the violence ending at token end is done to the speaker or a
 * thing ("this is killing me", "kill the process"): one of them within the
 * three words after it. */
static int done_to_self_or_thing(const classify_run *run, size_t end)
{
    return kind_within(run, end, end + 3, LEX_ABUSE_SELF) || thing_within(run, end, end + 3);
}

static int form_announced(const classify_run *run, size_t i, size_t end)
{
    static const char *const prepositions[] = {"with", "by",    "in",   "on",      "into", "at",
                                               "for",  "from",  "off",  "out",     "over", "up",
                                               "to",   "about", "like", "through", "under"};
    const ctok_buf *tb = run->tb;
    if (!kind_before(run, i, 5, LEX_ABUSE_FUTURE) ||
        ctok_word_in(tb, end, prepositions, sizeof prepositions / sizeof prepositions[0]) >= 0)
        return FORM_NONE;
    const int you_before = kind_before(run, i, 5, LEX_ABUSE_TARGET);
    if (word_ends(ctok_text(tb, end - 1), tb->tok[end - 1].norm_len, "ing", 5)) {
        if (you_before)
            return FORM_NONE;
        return (abuse_at(run, end) == LEX_ABUSE_TARGET && !possessive_at(tb, end)) ||
                       kind_within(run, end, end + 4, LEX_ABUSE_PERSON)
                   ? FORM_AT_PERSON
                   : FORM_NONE;
    }
    if (i > 0 && abuse_at(run, i - 1) == LEX_ABUSE_TARGET)
        return FORM_AT_PERSON;
    return you_before && !done_to_self_or_thing(run, end) ? FORM_ANNOUNCED : FORM_NONE;
}

static void classify_threat_stage(classify_run *run)
{
    static const char *const determiners[] = {"the", "this", "that", "my", "these", "those"};
    const ctok_buf *tb = run->tb;
    classify_result *r = run->r;
    r->threat.level = CLASSIFY_THREAT_NONE;
    r->threat.confidence = 0.9f;
    size_t had_at = 0, had_end = 0; /* a weapon merely had: 1 + its token */
    /* only tokens with a word entry can have one for this stage; a phrase's
     * other tokens are skipped as the loop over every token did */
    size_t next = 0;
    for (size_t hk = run_first_hit(run, LEX_H_THREAT); hk < run->n_lexhit;
         hk = run_next_hit(run, hk + 1, LEX_H_THREAT)) {
        const size_t i = run->lexhit[hk];
        if (i < next)
            continue;
        size_t span;
        const lex_entry *x = entry_for(run, i, LEX_H_ABUSE, &span);
        if (!x)
            continue;
        size_t end = i + span;
        switch (x->abuse) {
        case LEX_ABUSE_PROFANITY:
            /* (swearing a third party did, reported: "a man was screaming
             * at your staff, calling them f***ing idiots") */
            if (reported(run, i))
                break;
            run->n_profanity++;
            /* swearing right at a person ("f*** you") is abuse, not venting;
             * before a possessive it is about a thing ("what a shitshow your
             * portal is") */
            if (kind_within(run, end, end + 1, LEX_ABUSE_TARGET) && !possessive_at(run->tb, end))
                raise_threat(run, CLASSIFY_THREAT_ABUSE, 0.8f, "profanity_at_person", i, end + 1);
            else if (i > 0 && (ctok_is_word(tb, i - 1, "you") || ctok_is_word(tb, i - 1, "u")) &&
                     clause_ends_at(tb, end))
                /* ("you c*nt", not "you damn well know") */
                raise_threat(run, CLASSIFY_THREAT_ABUSE, 0.8f, "profanity_at_person", i - 1, end);
            else
                raise_threat(run, CLASSIFY_THREAT_PROFANITY, 0.85f, "profanity", i, end);
            break;
        case LEX_ABUSE_SLUR:
            if (used_as_verb(tb, end))
                break;
            /* said of a thing right after it, after a determiner ("the",
             * "this", "my"...), swearing about the thing ("the bastard router has died
             * again"; "your ... phone" still mocks whoever has it) */
            if (i > 0 &&
                ctok_word_in(tb, i - 1, determiners, sizeof determiners / sizeof determiners[0]) >=
                    0 &&
                kind_within(run, end, end + 1, LEX_ABUSE_OBJECT)) {
                run->n_profanity++;
                raise_threat(run, CLASSIFY_THREAT_PROFANITY, 0.85f, "profanity", i, end);
            } else {
                raise_threat(run, CLASSIFY_THREAT_ABUSE, 0.85f, "slur", i, end);
            }
            break;
        case LEX_ABUSE_DIRECTED:
            if (!reported(run, i) && !used_as_verb(tb, end))
                raise_threat(run, CLASSIFY_THREAT_ABUSE, 0.85f, "directed_abuse", i, end);
            break;
        case LEX_ABUSE_THREAT:
            if (threat_not_made(run, i))
                mark_unmade(run, i);
            else if (threat_phrase_ends(run, end))
                raise_threat(run, CLASSIFY_THREAT_THREAT, 0.9f, "threat_phrase", i, end);
            break;
        case LEX_ABUSE_VEILED:
            /* "Refund me or I'll pay you a visit", not "I'll pay you a
             * visit at the branch to try the glasses on" */
            if (ultimatum(run, i) && !threat_not_made(run, i))
                raise_threat(run, CLASSIFY_THREAT_THREAT, 0.7f, "veiled_threat", i, end);
            break;
        case LEX_ABUSE_WISH:
            if (harm_wished(run, i))
                raise_threat(run, CLASSIFY_THREAT_ABUSE, 0.75f, "harm_wished", i, end);
            break;
        case LEX_ABUSE_BODY:
            if (body_harmed(run, i, end))
                raise_threat(run, CLASSIFY_THREAT_THREAT, 0.7f, "harm_to_body", i >= 4 ? i - 4 : 0,
                             end);
            break;
        case LEX_ABUSE_OUTCOME:
            if (outcome_announced(run, i, end))
                raise_threat(run, CLASSIFY_THREAT_THREAT, 0.7f, "injury_announced",
                             i >= 6 ? i - 6 : 0, end);
            break;
        case LEX_ABUSE_PRIVATE:
            if (private_known(run, i, end))
                raise_threat(run, CLASSIFY_THREAT_THREAT, 0.7f, "private_life_known",
                             i >= 5 ? i - 5 : 0, end);
            break;
        case LEX_ABUSE_INSULT:
            /* "you idiot", "you are useless", "useless human being" insult a
             * person; "your useless app" and "this stupid website" are
             * frustration with a thing */
            if (kind_within(run, end, end + 2, LEX_ABUSE_OBJECT))
                break;
            if (run_negated(run, i))
                break;
            if (person_before(run, i, end, 6))
                raise_threat(run, CLASSIFY_THREAT_ABUSE, 0.75f, "insult_at_person",
                             i >= 6 ? i - 6 : 0, end);
            else if (kind_within(run, end, end + 1, LEX_ABUSE_PERSON))
                raise_threat(run, CLASSIFY_THREAT_ABUSE, 0.75f, "insult_at_person", i, end + 1);
            break;
        case LEX_ABUSE_NAME:
            /* not negation: "not the same dimwit as last time" still calls
             * someone one; "I'm not an idiot" is the speaker; a name a third
             * party called someone is reported ("a man was screaming at your
             * staff, calling them idiots") */
            if (!name_of_speaker(run, i, end) && !name_of_private_person(tb, i) &&
                !reported(run, i))
                raise_threat(run, CLASSIFY_THREAT_ABUSE, 0.8f, "name_calling", i, end);
            break;
        case LEX_ABUSE_WEAPON: {
            int w = WEAPON_NONE;
            if (span == 1)
                w = weapon_carried(run, i, end);
            else if (weapon_phrase_carried(run, i, end))
                w = WEAPON_CARRIED;
            if (w == WEAPON_HAD && !had_at) {
                had_at = i + 1;
                had_end = end;
            } else if (w == WEAPON_CARRIED) {
                run->threat_weapon = 1;
                raise_threat(run, CLASSIFY_THREAT_THREAT, 0.75f, "weapon", i >= 3 ? i - 3 : 0, end);
            }
            break;
        }
        case LEX_ABUSE_VIOLENCE: {
            /* a kind of thing, not an act: "the bomb emoji in your email" */
            if (thing_within(run, end, end + 1))
                break;
            const int future = kind_before(run, i, 5, LEX_ABUSE_FUTURE);
            /* at someone addressed, or announced at someone spoken of ("I'm
             * going to knock him out"; not "a chance to hurt him"), or
             * announced with the one addressed just before it ("I'll make
             * you bleed for this") */
            const int target_before = future && i > 0 && abuse_at(run, i - 1) == LEX_ABUSE_TARGET;
            const int target_after = target_before ||
                                     kind_within(run, end, end + 4, LEX_ABUSE_TARGET) ||
                                     (future && kind_within(run, end, end + 4, LEX_ABUSE_PERSON));
            const int self_after = done_to_self_or_thing(run, end);
            if (threat_not_made(run, i)) {
                mark_unmade(run, i);
                break;
            }
            if (target_after && !run_negated(run, i))
                raise_threat(run, CLASSIFY_THREAT_THREAT, future ? 0.9f : 0.75f,
                             "violence_at_person", target_before ? i - 1 : i,
                             end + 2 < tb->n ? end + 2 : tb->n);
            else if (future && !self_after && !run_negated(run, i))
                raise_threat(run, CLASSIFY_THREAT_THREAT, 0.6f, "announced_violence",
                             i >= 3 ? i - 3 : 0, end);
            break;
        }
        case LEX_ABUSE_VIOLENT_FORM: {
            const int how = form_announced(run, i, end);
            if (how && threat_not_made(run, i))
                mark_unmade(run, i);
            else if (how && !run_negated(run, i))
                raise_threat(run, CLASSIFY_THREAT_THREAT, how == FORM_AT_PERSON ? 0.9f : 0.6f,
                             how == FORM_AT_PERSON ? "violence_at_person" : "announced_violence",
                             i >= 3 ? i - 3 : 0, end + 2 < tb->n ? end + 2 : tb->n);
            break;
        }
        default:
            break;
        }
        next = i + span;
    }
    if (had_at && r->threat.level == CLASSIFY_THREAT_THREAT) {
        run->threat_weapon = 1;
        raise_threat(run, CLASSIFY_THREAT_THREAT, 0.75f, "weapon", had_at - 1, had_end);
    }
    if (r->threat.level == CLASSIFY_THREAT_NONE)
        r->threat.confidence = run->tb->n_words > 0 ? 0.9f : 0.99f;
}

/* A bare hour from 1 to 7 on a contact request means the afternoon ("after
 * 5", "after five"): the hour it is read as. */
static int afternoon_guess(int h)
{
    return h >= 1 && h <= 7 ? h + 12 : h;
}

/* The hour a number word names ("five" is 5, "noon" 12), or -1. */
static int word_hour(const ctok_buf *tb, size_t i)
{
    static const char *const hours[] = {"one",    "two",    "three", "four",  "five",
                                        "six",    "seven",  "eight", "nine",  "ten",
                                        "eleven", "twelve", "noon",  "midday"};
    const int k = ctok_word_in(tb, i, hours, sizeof hours / sizeof hours[0]);
    return k < 0 ? -1 : k >= 11 ? 12 : k + 1;
}

/* After a clock at token i: am or pm said ("pm", "p m", "a.m." as "a" "m")
 * or a part of the day ("in the morning", "in the evening", "at night",
 * "tonight"); returns 1 for pm, 0 for am, 2 for the night, -1 for
 * neither, and *used the tokens it took. */
static int clock_half(const ctok_buf *tb, size_t i, size_t *used)
{
    static const char *const later[] = {"afternoon", "evening", "night"};
    *used = 0;
    if (ctok_is_word(tb, i, "pm") || ctok_is_word(tb, i, "am")) {
        *used = 1;
        return ctok_is_word(tb, i, "pm");
    }
    if ((ctok_is_word(tb, i, "p") || ctok_is_word(tb, i, "a")) && ctok_is_word(tb, i + 1, "m")) {
        *used = 2;
        return ctok_is_word(tb, i, "p");
    }
    if (ctok_is_word(tb, i, "tonight")) {
        *used = 1;
        return 2;
    }
    if ((ctok_is_word(tb, i, "in") && ctok_is_word(tb, i + 1, "the")) ||
        (ctok_is_word(tb, i, "at") && ctok_is_word(tb, i + 1, "night"))) {
        const size_t w = ctok_is_word(tb, i, "at") ? i + 1 : i + 2;
        if (ctok_is_word(tb, w, "morning")) {
            *used = w + 1 - i;
            return 0;
        }
        if (ctok_word_in(tb, w, later, sizeof later / sizeof later[0]) >= 0) {
            *used = w + 1 - i;
            return ctok_is_word(tb, w, "night") ? 2 : 1;
        }
    }
    return -1;
}

/* The hour of the day that hour h (1 to 12) is with clock_half's reading
 * pm: "ten at night" is 22:00, "twelve at night" 00:00, "two at night"
 * 02:00. */
static int day_hour(int h, int pm)
{
    if (pm == 1 && h < 12)
        return h + 12;
    if ((pm == 0 || pm == 2) && h == 12)
        return 0;
    if (pm == 2 && h >= 5)
        return h + 12;
    return h;
}

/* A clock said in words, as speech-to-text writes it: "five pm", "six
 * o'clock", "five thirty", "half past six", "quarter to five", "half
 * five", "nine in the morning", "noon"; and a bare hour word only where
 * nothing follows that makes it a count ("after six because I'm at work",
 * not "after one of your agents"). Returns minutes after midnight or -1;
 * *pm: 1 or 0 when said, -1 when not. */
static int spoken_clock(const ctok_buf *tb, size_t i, size_t *used, int *pm)
{
    static const char *const then[] = {"because", "cos",   "cause",  "as",   "since", "please",
                                       "thanks",  "thank", "if",     "when", "or",    "and",
                                       "but",     "so",    "i'm",    "i",    "today", "tomorrow",
                                       "on",      "then",  "latest", "at"};
    size_t k = i;
    int m = 0, h = -1, marked = 0;
    if (ctok_is_word(tb, k, "half") || ctok_is_word(tb, k, "quarter")) {
        const int half = ctok_is_word(tb, k, "half");
        const int to = ctok_is_word(tb, k + 1, "to");
        const size_t at = ctok_is_word(tb, k + 1, "past") || to ? k + 2 : k + 1;
        if (!half && at == k + 1)
            return -1; /* "quarter five" is no time */
        h = word_hour(tb, at);
        if (h < 0 || (half && to) || (h == 12 && !ctok_is_word(tb, at, "twelve")))
            return -1;
        m = half ? 30 : to ? 45 : 15;
        if (to)
            h = h == 1 ? 12 : h - 1;
        k = at + 1;
        marked = 1;
    } else {
        h = word_hour(tb, k);
        if (h < 0)
            return -1;
        marked = h == 12 && !ctok_is_word(tb, k, "twelve");
        k++;
        if (ctok_is_word(tb, k, "o'clock") || ctok_is_word(tb, k, "oclock")) {
            k++;
            marked = 1;
        } else if (ctok_is_word(tb, k, "o") && ctok_is_word(tb, k + 1, "clock")) {
            k += 2;
            marked = 1;
        } else if (ctok_is_word(tb, k, "fifteen") || ctok_is_word(tb, k, "thirty")) {
            m = ctok_is_word(tb, k, "fifteen") ? 15 : 30;
            k++;
            marked = 1;
        } else if (ctok_is_word(tb, k, "forty") && ctok_is_word(tb, k + 1, "five")) {
            m = 45;
            k += 2;
            marked = 1;
        }
    }
    size_t u = 0;
    *pm = clock_half(tb, k, &u);
    k += u;
    if (!marked && *pm < 0 && k < tb->n && tb->tok[k].kind != CTOK_PUNCT &&
        ctok_word_in(tb, k, then, sizeof then / sizeof then[0]) < 0)
        return -1;
    /* "after one or two days", "one and a half hours" count */
    if (!marked && *pm < 0 && (ctok_is_word(tb, k, "or") || ctok_is_word(tb, k, "and")) &&
        k + 1 < tb->n &&
        (word_hour(tb, k + 1) >= 0 || tb->tok[k + 1].kind == CTOK_NUM ||
         ctok_is_word(tb, k + 1, "a")))
        return -1;
    *used = k - i;
    h = day_hour(h, *pm);
    return h * 60 + m;
}

/* Reads a clock time from tokens at i ("5pm", "5:30 pm", "17:00", "5",
 * "7 in the evening", and spoken_clock's words); returns minutes after
 * midnight or -1. A bare hour from 1 to 7 is guessed to be the afternoon
 * (*guessed_pm). */
static int parse_clock(const ctok_buf *tb, size_t i, size_t *used, int *guessed_pm)
{
    *guessed_pm = 0;
    if (i >= tb->n)
        return -1;
    const ctok *t = &tb->tok[i];
    const char *s = ctok_text(tb, i);
    size_t n = t->norm_len, p = 0;
    int h = 0, m = 0, digits = 0;
    if (t->kind == CTOK_WORD && n > 0 && (s[0] < '0' || s[0] > '9')) {
        int said = -1;
        const int at = spoken_clock(tb, i, used, &said);
        if (at < 0 || said >= 0 || afternoon_guess(at / 60) == at / 60)
            return at;
        *guessed_pm = 1;
        return afternoon_guess(at / 60) * 60 + at % 60;
    }
    while (p < n && s[p] >= '0' && s[p] <= '9' && digits < 3)
        h = h * 10 + (s[p++] - '0'), digits++;
    if (digits == 0 || digits > 2)
        return -1;
    if (p < n && (s[p] == ':' || s[p] == '.')) {
        p++;
        int md = 0;
        while (p < n && s[p] >= '0' && s[p] <= '9' && md < 3)
            m = m * 10 + (s[p++] - '0'), md++;
        if (md != 2 || m > 59)
            return -1;
    }
    const char *suf = s + p;
    size_t sl = n - p;
    *used = 1;
    /* "at 5%", "at 10 percent": a battery or a rate, not a time */
    static const char *const shares[] = {"percent", "per", "pc"};
    if (sl == 0 && i + 1 < tb->n &&
        ((tb->tok[i + 1].norm_len == 1 && ctok_text(tb, i + 1)[0] == '%') ||
         ctok_word_in(tb, i + 1, shares, 3) >= 0))
        return -1;
    if (sl == 0 && i + 1 < tb->n && tb->tok[i + 1].kind == CTOK_WORD) {
        const char *nx = ctok_text(tb, i + 1);
        size_t nl = tb->tok[i + 1].norm_len;
        if ((nl == 2 && (memcmp(nx, "pm", 2) == 0 || memcmp(nx, "am", 2) == 0)) ||
            (nl == 1 && (nx[0] == 'p' || nx[0] == 'a'))) {
            suf = nx;
            sl = nl;
            *used = 2;
        }
    }
    int pm = -1;
    if (sl >= 1 && (suf[0] == 'p' || suf[0] == 'a') && (sl == 1 || (sl == 2 && suf[1] == 'm')))
        pm = suf[0] == 'p';
    else if (sl != 0)
        return -1;
    if (pm < 0 && *used == 1) {
        size_t half_used = 0;
        pm = clock_half(tb, i + 1, &half_used); /* "7 in the evening" */
        *used += half_used;
    }
    if (h > 23 || (pm >= 0 && (h < 1 || h > 12)))
        return -1;
    if (pm >= 0) {
        h = day_hour(h, pm);
    } else if (afternoon_guess(h) != h) {
        h = afternoon_guess(h);
        *guessed_pm = 1;
    }
    return h * 60 + m;
}

/* Whether a clock time follows a deadline word at token i ("before 3pm",
 * "by 17:00", "before 3 today"); *end: past the clock. A bare number counts
 * only after "before" (bare_ok) and before "today", "tomorrow" or
 * "tonight": "went up by 5 today" is no deadline. */
static int deadline_clock(const ctok_buf *tb, size_t i, int bare_ok, size_t *end)
{
    static const char *const days[] = {"today", "tomorrow", "tonight"};
    size_t used = 0;
    int guessed;
    if (parse_clock(tb, i, &used, &guessed) < 0)
        return 0;
    const char *s = ctok_text(tb, i);
    const size_t n = tb->tok[i].norm_len;
    const int bare = used == 1 && ((s[n - 1] >= '0' && s[n - 1] <= '9' && !memchr(s, ':', n)) ||
                                   word_hour(tb, i) >= 0);
    if (bare && (!bare_ok || i + 1 >= tb->n || ctok_word_in(tb, i + 1, days, 3) < 0))
        return 0;
    *end = i + used;
    return 1;
}

/* --- urgency and effort --------------------------------------------------- */

/* An occasion with stakes that is over once its time passes, also in 's
 * ("my flight's at 6"): urgency.tsv gives each a small weight of its own. */
static const char *const timed_events[] = {"flight",       "interview", "exam",        "wedding",
                                           "funeral",      "surgery",   "completion",  "payroll",
                                           "presentation", "flight's",  "interview's", "exam's",
                                           "wedding's",    "funeral's", "surgery's"};

/* Whether the clock time read at token k (parse_clock, *used tokens) is
 * said as one: with am or pm ("2pm", "7 pm"), with a colon ("14:00"), or
 * after "at", "by" or "before" as a bare hour ("at 2") or with a point
 * ("at 6.40"), a bare hour followed by no noun in the plural ("at 2
 * clinics", "at 15 euros") nor by another number (a phone number). */
static int said_clock(const ctok_buf *tb, size_t k, size_t used, size_t from)
{
    static const char *const before[] = {"at", "by", "before", "@"};
    const char *t = ctok_text(tb, k);
    const size_t n = tb->tok[k].norm_len;
    const char *suffix = used > 1 ? ctok_text(tb, k + 1) : t + n - (n >= 2 ? 2 : n);
    const size_t sl = used > 1 ? tb->tok[k + 1].norm_len : (n >= 2 ? 2 : n);
    if (sl == 2 && (memcmp(suffix, "am", 2) == 0 || memcmp(suffix, "pm", 2) == 0) &&
        (used > 1 || (n > 2 && t[n - 3] >= '0' && t[n - 3] <= '9')))
        return 1;
    if (used > 1 || tb->tok[k].kind == CTOK_WORD)
        return 0; /* "4 a year", "seat 4a" */
    if (memchr(t, ':', n))
        return 1;
    if (k == from || ctok_word_in(tb, k - 1, before, sizeof before / sizeof before[0]) < 0)
        return 0; /* "charged 12.50", "on 12.05" */
    if (k + 1 < tb->n) {
        const ctok *nx = &tb->tok[k + 1];
        const char *w = ctok_text(tb, k + 1);
        if (nx->kind == CTOK_NUM || (nx->kind == CTOK_WORD && nx->norm_len > 2 &&
                                     w[nx->norm_len - 1] == 's' && w[nx->norm_len - 2] != 's'))
            return 0;
    }
    return 1;
}

/* Whether the clause of token i, within eight tokens of it, names a time of
 * day or a weekday ahead, or says "in N hours": "my presentation is at 2",
 * "completion is at 2pm", "the flight on Friday", "interview in 3 hours";
 * not "every Friday", "on Friday last month". A day word ("today",
 * "tomorrow") presses by itself (urgency.tsv): with one in the clause the
 * occasion is not raised too. */
static int clause_timed(const ctok_buf *tb, size_t i)
{
    static const char *const weekdays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                           "friday", "saturday", "sunday"};
    static const char *const hours[] = {"hours", "hrs", "hour", "hr", "minutes", "mins"};
    static const char *const days[] = {"today", "tonight", "tomorrow"};
    static const char *const not_ahead[] = {"last", "every", "each", "previous", "past"};
    size_t from = i, end = i + 1;
    while (from > 0 && i - from < 8 && !(tb->tok[from - 1].flags & CTOK_F_CLAUSE_END))
        from--;
    while (end < tb->n && end - i <= 8 && !(tb->tok[end - 1].flags & CTOK_F_CLAUSE_END))
        end++;
    int timed = 0;
    for (size_t k = from; k < end; k++) {
        if (tb->tok[k].kind != CTOK_WORD && tb->tok[k].kind != CTOK_NUM)
            continue;
        if (ctok_word_in(tb, k, days, sizeof days / sizeof days[0]) >= 0)
            return 0;
        if (ctok_word_in(tb, k, weekdays, sizeof weekdays / sizeof weekdays[0]) >= 0) {
            const size_t na = sizeof not_ahead / sizeof not_ahead[0];
            timed |= !(k > 0 && ctok_word_in(tb, k - 1, not_ahead, na) >= 0) &&
                     ctok_word_in(tb, k + 1, not_ahead, na) < 0;
            continue;
        }
        if (k + 2 < end && ctok_is_word(tb, k, "in") &&
            (tb->tok[k + 1].kind == CTOK_NUM || word_hour(tb, k + 1) >= 0) &&
            ctok_word_in(tb, k + 2, hours, sizeof hours / sizeof hours[0]) >= 0) {
            timed = 1;
            continue;
        }
        const char *t = ctok_text(tb, k);
        if (tb->tok[k].norm_len == 0 || t[0] < '0' || t[0] > '9')
            continue;
        size_t used = 0;
        int guessed;
        if (parse_clock(tb, k, &used, &guessed) >= 0 && said_clock(tb, k, used, from))
            timed = 1;
    }
    return timed;
}

/* Whether "taken" or "took" comes right before token j, or one word of
 * about how many before it ("has taken 14 weeks", "took nearly two
 * months"): where it stands, or SIZE_MAX. */
static size_t taken_before(const ctok_buf *tb, size_t j)
{
    static const char *const took[] = {"taken", "took"};
    static const char *const about[] = {"over", "nearly", "almost", "about", "around"};
    if (j >= 1 && ctok_word_in(tb, j - 1, took, sizeof took / sizeof took[0]) >= 0)
        return j - 1;
    if (j >= 2 && ctok_word_in(tb, j - 1, about, sizeof about / sizeof about[0]) >= 0 &&
        ctok_word_in(tb, j - 2, took, sizeof took / sizeof took[0]) >= 0)
        return j - 2;
    return SIZE_MAX;
}

/* A duration ("days", "weeks") at token i is time already spent when a
 * count and a word of waiting come before it: "it's been 2 weeks", "been a
 * few days", "for 3 days", "over a month", "the past few hours"; so are
 * weeks, months or years something has taken ("my transfer has taken 14
 * weeks"; not "it took 2 days to arrive", quick enough for most). Returns
 * which word of waiting (0 for "been" or "taken", the only ones that say it
 * of themselves, see waited_since), or -1; *from: where that begins. */
int classify_wait_word(const classify_run *run, size_t i, size_t *from)
{
    static const char *const counts[] = {"a",    "an",     "one",     "two",   "three", "four",
                                         "five", "six",    "seven",   "eight", "nine",  "ten",
                                         "few",  "couple", "several", "many",  "twelve"};
    static const char *const since[] = {"been", "for", "over", "past", "last"};
    static const char *const time_off[] = {"off",       "leave",     "holiday",  "holidays",
                                           "paternity", "maternity", "vacation", "sick"};
    static const char *const long_units[] = {"week",   "weeks", "wks",   "month",
                                             "months", "year",  "years", "yrs"};
    const ctok_buf *tb = run->tb;
    if (i < 2)
        return -1;
    size_t j = i - 1; /* the count */
    if (tb->tok[j].kind != CTOK_NUM &&
        ctok_word_in(tb, j, counts, sizeof counts / sizeof counts[0]) < 0)
        return -1;
    if (j >= 2 && (ctok_is_word(tb, j - 1, "a") || ctok_is_word(tb, j - 1, "the")))
        j--; /* "a few", "the past 3" comes next */
    const size_t t = taken_before(tb, j);
    if (t != SIZE_MAX &&
        ctok_word_in(tb, i, long_units, sizeof long_units / sizeof long_units[0]) >= 0) {
        /* (time taken off is no wait: "I've taken two weeks off", "took 3
         * months paternity leave") */
        if (i + 1 < tb->n &&
            ctok_word_in(tb, i + 1, time_off, sizeof time_off / sizeof time_off[0]) >= 0)
            return -1;
        *from = t;
        return 0;
    }
    const int k = ctok_word_in(tb, j - 1, since, sizeof since / sizeof since[0]);
    if (k >= 0)
        *from = j - 1;
    return k;
}

/* Whether the duration at token i is a wait: "been" says it of itself; "for
 * 3 days" only in a message that complains ("I can rent it for 3 days",
 * "using it for 3 weeks and love it" are not waits). */
static int waited_since(const classify_run *run, size_t i, size_t *from)
{
    const int k = classify_wait_word(run, i, from);
    return k == 0 || (k > 0 && run->sent_sum < 0);
}

/* Whether the negation of token i is about it ("not urgent", "no rush",
 * "not in a hurry", "not that urgent", "don't need it urgently") rather
 * than about something before it ("if this isn't fixed today", "can't
 * chat, in a hurry"): only small words and boosters stand between the
 * negator and it. */
static int negated_directly(const classify_run *run, size_t i)
{
    static const char *const small[] = {"a",    "an",       "the",       "in",  "that",
                                        "any",  "at",       "all",       "it",  "this",
                                        "need", "anything", "something", "too", "so"};
    if (!run_negated(run, i))
        return 0;
    size_t j = i;
    while (j > 0 && !run_is_negator(run, j - 1)) {
        const lex_entry *e = run->lex[j - 1];
        if (!(e && e->mod == LEX_MOD_BOOSTER) &&
            ctok_word_in(run->tb, j - 1, small, sizeof small / sizeof small[0]) < 0)
            return 0;
        j--;
    }
    return j > 0;
}

/* Whether a verb in -ing after an auxiliary, or right after someone (the
 * auxiliary left out: "somebody using my card right now"), comes shortly
 * before token i in its clause: "now" after it is when something happens
 * ("someone is taking money out of my account right now", "the app keeps
 * crashing now"), a reason for haste, not insistence ("Fix it NOW", "do
 * something right now", "send it in writing now"); so is someone at a
 * place. */
static int happening_before(const ctok_buf *tb, size_t i)
{
    static const char *const place_det[] = {"my", "your", "the", "ur"};
    static const char *const people[] = {"i'm", "im", "am", "we're", "they're", "are"};
    static const char *const pressing_place[] = {
        "door", "airport", "gate",      "till",   "checkout", "counter",  "desk",     "store",
        "shop", "branch",  "station",   "pump",   "atm",      "machine",  "hospital", "pharmacy",
        "bank", "hotel",   "reception", "border", "terminal", "platform", "car",      "venue"};
    static const char *const aux[] = {
        "is",       "are",     "am",       "was",       "were",       "i'm",   "it's", "he's",
        "she's",    "they're", "we're",    "keep",      "keeps",      "still", "been", "someone",
        "somebody", "sum1",    "someones", "someone's", "somebody's", "they"};
    size_t back = 0;
    for (size_t j = i; j > 0 && back < 6; j--) {
        const size_t k = j - 1; /* the token before j */
        if (tb->tok[k].flags & CTOK_F_CLAUSE_END)
            return 0;
        if (tb->tok[k].kind != CTOK_WORD)
            continue;
        if (k > 0 && word_ends(ctok_text(tb, k), tb->tok[k].norm_len, "ing", 5) &&
            ctok_word_in(tb, k - 1, aux, sizeof aux / sizeof aux[0]) >= 0)
            return 1;
        /* people at a place where being there presses: "bailiffs are at
         * my door right now", "I'm at the ATM right now", "we're outside
         * the store now"; not a thing ("my parcel is at the depot") nor
         * where one spends the day ("I'm at the gym right now") */
        if (k > 0 && k + 2 < i &&
            ctok_word_in(tb, k - 1, people, sizeof people / sizeof people[0]) >= 0 &&
            (ctok_is_word(tb, k, "at") || ctok_is_word(tb, k, "outside")) &&
            ctok_word_in(tb, k + 1, place_det, sizeof place_det / sizeof place_det[0]) >= 0)
            /* (the place, right after the article or one word later: "the front door") */
            for (size_t p = k + 2; p <= k + 3 && p < i; p++)
                if (ctok_word_in(tb, p, pressing_place,
                                 sizeof pressing_place / sizeof pressing_place[0]) >= 0)
                    return 1;
        back++;
    }
    return 0;
}

/* The value of the number token i, of at most three digits, or -1. */
static int small_number(const ctok_buf *tb, size_t i)
{
    const ctok *t = &tb->tok[i];
    const char *s = ctok_text(tb, i);
    if (t->kind != CTOK_NUM || t->norm_len == 0 || t->norm_len > 3)
        return -1;
    int v = 0;
    for (size_t k = 0; k < t->norm_len; k++) {
        if (s[k] < '0' || s[k] > '9')
            return -1;
        v = v * 10 + (s[k] - '0');
    }
    return v;
}

static int is_punct(const ctok_buf *tb, size_t i, char c)
{
    return i < tb->n && tb->tok[i].kind == CTOK_PUNCT && tb->tok[i].punct == (unsigned char)c;
}

/* People whose age or home a customer speaks of. */
static const char *const AGE_PEOPLE[] = {
    "mum",      "mom",          "mother",        "dad",          "father",      "gran",
    "granny",   "grandma",      "nan",           "nana",         "nanna",       "grandmother",
    "grandad",  "grandpa",      "husband",       "wife",         "grandfather", "partner",
    "aunt",     "uncle",        "neighbour",     "neighbor",     "man",         "woman",
    "lady",     "gentleman",    "parent",        "parents",      "customer",    "pensioner",
    "widow",    "widower",      "brother",       "sister",       "friend",      "son",
    "daughter", "grandparents", "father-in-law", "mother-in-law"};

/* Whether token i, a word in 's ("mum's", "she's"), is one of AGE_PEOPLE,
 * "she" or "he" with it. */
static int person_is(const ctok_buf *tb, size_t i)
{
    const ctok *t = &tb->tok[i];
    const char *s = ctok_text(tb, i);
    if (t->kind != CTOK_WORD || t->norm_len < 4 || !word_ends(s, t->norm_len, "'s", 4))
        return 0;
    const size_t n = t->norm_len - 2;
    if ((n == 3 && memcmp(s, "she", 3) == 0) || (n == 2 && memcmp(s, "he", 2) == 0))
        return 1;
    for (size_t k = 0; k < sizeof AGE_PEOPLE / sizeof AGE_PEOPLE[0]; k++)
        if (strlen(AGE_PEOPLE[k]) == n && memcmp(s, AGE_PEOPLE[k], n) == 0)
            return 1;
    return 0;
}

/* An age of 75 or more said of a person at number token i: "my mum is
 * 87", "I'm 84 and...", "my 92-year-old father", "aged 80"; not "87 years
 * between us", "our 100 year old house", "she's 90 minutes late", "I'm 80
 * quid short". Old age asks for the care that "elderly" does. *start,
 * *end: where the saying starts, the token after the age. */
static int elderly_age(const ctok_buf *tb, size_t i, size_t *start, size_t *end)
{
    static const char *const say[] = {"i'm", "im",     "she's", "he's",   "aged",
                                      "age", "turned", "turns", "turning"};
    static const char *const be[] = {"is", "am", "was"};
    static const char *const who[] = {"i", "she", "he", "who"};
    static const char *const years[] = {"year", "years", "yr", "yrs"};
    /* (not "in" or "on": "I'm 80 in the queue", "I'm 90 on hold") */
    static const char *const then[] = {"and",    "n",     "now",  "this",  "next", "but",
                                       "so",     "with",  "who",  "today", "last", "yo",
                                       "living", "lives", "soon", "years", "yrs"};
    const int v = small_number(tb, i);
    if (v < 75 || v > 115)
        return 0;
    size_t j = i + 1;
    if (is_punct(tb, j, '-'))
        j++;
    int years_old = 0;
    if (j + 1 < tb->n && ctok_word_in(tb, j, years, sizeof years / sizeof years[0]) >= 0 &&
        ctok_is_word(tb, j + 1, "old")) {
        years_old = 1;
        j += 2;
    }
    *end = j;
    /* "my 92 year old father" */
    *start = i;
    if (years_old && j < tb->n &&
        ctok_word_in(tb, j, AGE_PEOPLE, sizeof AGE_PEOPLE / sizeof AGE_PEOPLE[0]) >= 0) {
        *end = j + 1;
        return 1;
    }
    if (i == 0)
        return 0;
    const size_t b = i - 1;
    *start = b;
    if (b > 0 && ctok_word_in(tb, b, be, sizeof be / sizeof be[0]) >= 0 &&
        (ctok_word_in(tb, b - 1, who, sizeof who / sizeof who[0]) >= 0 ||
         ctok_word_in(tb, b - 1, AGE_PEOPLE, sizeof AGE_PEOPLE / sizeof AGE_PEOPLE[0]) >= 0))
        *start = b - 1;
    else if (ctok_word_in(tb, b, say, sizeof say / sizeof say[0]) < 0 && !person_is(tb, b))
        return 0;
    /* what follows must not make the number a quantity */
    return years_old || j >= tb->n || (tb->tok[j].kind == CTOK_PUNCT && tb->tok[j].punct != '%') ||
           ctok_word_in(tb, j, then, sizeof then / sizeof then[0]) >= 0;
}

/* A temperature in a home that harms whoever lives there, at number token
 * i (a "-" before it makes it negative): "it's 4 degrees in her room",
 * "the flat is 38°C", "45 degrees in the house" (cold in Fahrenheit, a
 * heatwave in Celsius: harmful either way); not a temperature outside
 * ("-2 degrees outside"), nor one of a thing ("the oven won't go past 180
 * degrees"), nor a pleasant one ("21 degrees in the lounge"). *end: the
 * token after the unit. */
static int harmful_home_temperature(const ctok_buf *tb, size_t i, size_t *end)
{
    static const char *const units[] = {"degrees", "degree", "deg",       "c",
                                        "celsius", "f",      "fahrenheit"};
    static const char *const things[] = {"fridge", "freezer",    "water",  "oven",     "shower",
                                         "bath",   "kettle",     "washer", "wash",     "dryer",
                                         "tap",    "radiator",   "tank",   "cylinder", "pool",
                                         "hob",    "dishwasher", "engine", "car"};
    static const char *const home[] = {"house",   "home",      "flat",     "room",
                                       "bedroom", "inside",    "indoors",  "lounge",
                                       "kitchen", "apartment", "bungalow", "thermostat"};
    int v = small_number(tb, i);
    if (v < 0)
        return 0;
    if (i > 0 && is_punct(tb, i - 1, '-') && (i == 1 || tb->tok[i - 2].kind != CTOK_NUM))
        v = -v;
    size_t j = i + 1;
    if (j < tb->n && tb->tok[j].kind == CTOK_PUNCT && tb->tok[j].norm_len == 2 &&
        memcmp(ctok_text(tb, j), "\xc2\xb0", 2) == 0) /* "°" */
        j++;
    int u = j < tb->n ? ctok_word_in(tb, j, units, sizeof units / sizeof units[0]) : -1;
    /* (a bare "c" or "f" only after the sign: "Flat 4 c" is an address) */
    if ((u == 3 || u == 5) && j == i + 1)
        u = -1;
    if (u < 0 && !(j > i + 1))
        return 0;
    if (u >= 0)
        j++;
    const int celsius = u == 4 || (u == 3), fahrenheit = u == 5 || u == 6;
    int harmful;
    if (celsius)
        harmful = v <= 10 || (v >= 35 && v <= 60);
    else if (fahrenheit)
        harmful = v <= 50 || (v >= 95 && v <= 140);
    else /* harmful read as either */
        harmful = v <= 10 || (v >= 35 && v <= 50) || (v >= 95 && v <= 140);
    if (!harmful)
        return 0;
    *end = j;
    if (j < tb->n && (ctok_is_word(tb, j, "outside") || ctok_is_word(tb, j, "out")))
        return 0;
    const size_t from = ctok_sentence_start(tb, i), to = ctok_sentence_end(tb, i);
    int at_home = 0;
    for (size_t k = from; k < to; k++) {
        /* the temperature of a thing just before it: "the fridge in my
         * kitchen only gets down to 9 degrees", "the hot water in my flat
         * only gets to 40"; not a supply missing, "no hot water and it's 5
         * degrees in the house" */
        if (k < i && i - k <= 8 &&
            ctok_word_in(tb, k, things, sizeof things / sizeof things[0]) >= 0) {
            size_t b = k;
            if (b > from && (ctok_is_word(tb, b - 1, "hot") || ctok_is_word(tb, b - 1, "cold")))
                b--;
            if (!(b > from &&
                  (ctok_is_word(tb, b - 1, "no") || ctok_is_word(tb, b - 1, "without"))))
                return 0;
        }
        at_home |= ctok_word_in(tb, k, home, sizeof home / sizeof home[0]) >= 0 ||
                   (k > from && ctok_is_word(tb, k, "here") && ctok_is_word(tb, k - 1, "in"));
    }
    return at_home; /* ("in here", not "40 degrees here in Spain") */
}

/* Just below critical (score 0.8 at raw 1.77): what haste alone can reach. */
#define URGENCY_HASTE_MAX 1.7f
/* an occasion at a time said ("presentation at 2"): high on its own, as
 * the phrases of a deadline ("interview tomorrow") are */
#define URGENCY_TIMED_EVENT 0.8f
/* What a curt line and the channel reach with nothing else pressing:
 * normal (score 0.42). */
#define URGENCY_UNREASONED_MAX 0.7f
/* The least weight of a danger cue; below it, a vulnerability (urgency.tsv). */
#define URGENCY_DANGER_MIN 1.0f
/* The least weight of a danger told as bad news (classify_danger_at):
 * "no hot water" or "no power" (1.0 to 1.2) are trouble, not a fright. */
#define URGENCY_DANGER_TOLD 1.5f
/* What a report of fraud weighs (intent fraud_security, see
 * classify_urgency_stage): high on its own. */
#define URGENCY_FRAUD 0.8f
/* ... when the model is this sure of it: below, film reviews of "crimes"
 * and "Lost in Space" came in. */
#define URGENCY_FRAUD_SURE 0.8f
/* The sentiment from which a compliment that asks nothing is praise whose
 * times press nothing (see classify_urgency_stage). */
#define URGENCY_PRAISE 0.3f
/* The sentiment from which a story that turns at a "but" to the good is
 * praise, whatever the intent model reads in its first part ("Was fuming
 * when my payment failed twice, but Lauren sorted it in five minutes.
 * Thank you!"). */
#define URGENCY_TURNED 0.5f
/* ... and what such praise reaches: low (score 0.07). */
#define URGENCY_PRAISE_RAW (-0.7f)
/* An old age said (elderly_age) weighs as "elderly" in urgency.tsv, a
 * harmful temperature at home as "house is freezing". */
#define URGENCY_OLD_AGE 0.8f
#define URGENCY_HOME_TEMPERATURE 1.6f

/* The preference entry (channel, channel avoided, contact verb) at or
 * covering token j, or NULL. */
static const lex_entry *contact_entry(const classify_run *run, size_t j)
{
    const lex_entry *p = run_phrase(run, j);
    if (!p)
        p = run_inner_phrase(run, j);
    const lex_entry *e = p && p->pref ? p : run->lex[j];
    return e && (e->pref == LEX_PREF_CHANNEL || e->pref == LEX_PREF_AVOID ||
                 e->pref == LEX_PREF_CONTACT_VERB)
               ? e
               : NULL;
}

/* Whether the time word at token i says when to be contacted, not how
 * soon something is needed: a day after a request to be called in its
 * clause ("could you ring me back after seven tonight", "call me
 * tomorrow"), or a deadline after a refusal ("please don't ring me before
 * 9am"). A deadline on a callback still presses ("call me back before
 * 3pm, the card machine is dead"). */
static int contact_scheduled(const classify_run *run, const lex_entry *x, size_t i)
{
    static const char *const days[] = {"today", "tonight", "tomorrow", "this"};
    static const char *const due[] = {"by", "before", "until", "till"};
    const ctok_buf *tb = run->tb;
    const int deadline = lex_is_deadline(x);
    if (!deadline && x->pref != LEX_PREF_TIME &&
        ctok_word_in(tb, i, days, sizeof days / sizeof days[0]) < 0)
        return 0; /* only a time: "my phone was stolen" presses */
    /* (a few words back only: in a transcript without punctuation a day
     * further off belongs to another clause, "call me today the bailiffs
     * are coming tomorrow") */
    for (size_t j = i; j > 0 && i - j < 5 && !(tb->tok[j - 1].flags & CTOK_F_CLAUSE_END);) {
        j--;
        /* "call me back by five today": a deadline */
        if (!deadline && ctok_word_in(tb, j, due, sizeof due / sizeof due[0]) >= 0)
            return 0;
        const lex_entry *e = contact_entry(run, j);
        if (!e)
            continue;
        if (e->pref == LEX_PREF_AVOID)
            return 1;
        return !deadline;
    }
    return 0;
}

/* Whether the words from token i on tell the trouble put right ("but
 * Lauren on chat sorted it in five minutes", "but the credit you gave me
 * was fair, I'll stay"), and nothing says it goes on ("again", "still"):
 * a fault with kind staff is still a fault ("the router drops every
 * evening but your technician was brilliant"). */
static int resolved_after(const ctok_buf *tb, size_t i)
{
    static const char *const put_right[] = {
        "sorted",     "fixed",   "resolved", "solved", "refunded", "arrived", "restored",
        "reinstated", "working", "works",    "stay",   "sorting",  "fixing",  "replaced"};
    static const char *const goes_on[] = {"again", "still", "anymore"};
    /* (a repair denied, partial or only promised is none: "the part hasn't
     * arrived", "I was only refunded half", "they said fixing it will take
     * six weeks", "works only on the cold cycle") */
    static const char *const not_yet[] = {"not", "never", "only", "said", "will", "half"};
    int right = 0;
    for (size_t j = 0; j < tb->n; j++) {
        if (ctok_word_in(tb, j, goes_on, sizeof goes_on / sizeof goes_on[0]) >= 0)
            return 0;
        if (j < i || ctok_word_in(tb, j, put_right, sizeof put_right / sizeof put_right[0]) < 0)
            continue;
        int denied = ctok_is_word(tb, j + 1, "only");
        for (size_t k = j; k > i && j - k < 2 && !denied;) {
            k--;
            denied = ctok_word_in(tb, k, not_yet, sizeof not_yet / sizeof not_yet[0]) >= 0 ||
                     ctok_is_nt(tb, k);
        }
        right |= !denied;
    }
    return right;
}

/* (thanks with a need still press, and are not low) */
int classify_needs_something(const ctok_buf *tb)
{
    static const char *const need[] = {"need",   "needs", "want", "wants", "must",   "require",
                                       "please", "pls",   "plz",  "still", "waiting"};
    static const char *const can[] = {"can", "could", "would", "will"};
    static const char *const who[] = {"you", "u", "someone", "somebody", "i", "we"};
    static const char *const denied[] = {"no", "not", "don't", "dont", "doesn't"};
    for (size_t i = 0; i < tb->n; i++) {
        /* (every word above begins with one of these) */
        const char c = ctok_text(tb, i)[0];
        if (tb->tok[i].kind != CTOK_WORD ||
            !(c == 'n' || c == 'w' || c == 'm' || c == 'r' || c == 'p' || c == 's' || c == 'c'))
            continue;
        if ((ctok_word_in(tb, i, need, sizeof need / sizeof need[0]) >= 0 &&
             !(i > 0 && ctok_word_in(tb, i - 1, denied, sizeof denied / sizeof denied[0]) >= 0)) ||
            (i + 1 < tb->n && ctok_word_in(tb, i, can, sizeof can / sizeof can[0]) >= 0 &&
             ctok_word_in(tb, i + 1, who, sizeof who / sizeof who[0]) >= 0))
            return 1;
    }
    return 0;
}

/* Whether the danger at tokens i..i+span is over: thanked for as undone
 * ("thanks for stopping the loan I didn't apply for"), or told as history,
 * its clause dating it a month or more back ("last winter our boiler broke
 * and we had no heating", "a gas leak two years ago", "back in March
 * someone hacked my account"), and no word of the clause brings it to the
 * present ("no heating since last month", "it has happened again", "the
 * CO alarm you fitted last winter is going off right now"). Such a story
 * is told for what it led to (a claim, a premium, a payout still awaited),
 * which presses as any request does. A week back is not far enough: "the
 * boiler broke last week" may still be broken. */
static int danger_in_past(const ctok_buf *tb, size_t i, size_t span)
{
    static const char *const last_of[] = {
        "month",     "year",   "winter",  "summer",    "autumn",  "fall",     "spring",
        "christmas", "easter", "january", "february",  "march",   "april",    "may",
        "june",      "july",   "august",  "september", "october", "november", "december"};
    static const char *const ago_of[] = {"months", "years", "month", "year", "decade", "decades"};
    /* words that bring the clause to the present, anywhere in it, the
     * danger's own words too: "the alarm you fitted last winter is going
     * off right now", "our heating hasn't worked for three days" */
    static const char *const present[] = {
        "since",  "again", "anymore", "ongoing", "now",   "still", "currently", "today",  "tonight",
        "is",     "isn't", "are",     "aren't",  "am",    "can",   "can't",     "cannot", "has",
        "hasn't", "have",  "haven't", "keep",    "keeps", "gets",  "won't",     "will",   "there's",
        "it's",   "i'm",   "we're",   "we've",   "i've",  "don't", "doesn't"};
    static const char *const undone[] = {
        "stopping",  "blocking", "cancelling", "canceling", "freezing",  "fixing",
        "sorting",   "catching", "spotting",   "flagging",  "reversing", "removing",
        "resolving", "handling", "repairing",  "refunding", "dealing"};
    /* the danger's clause: a date in another clause dates something else
     * ("I can smell gas, the meter was fitted two years ago") */
    size_t from = i, to = i + span;
    while (from > 0 && !(tb->tok[from - 1].flags & CTOK_F_CLAUSE_END))
        from--;
    while (to < tb->n && !(tb->tok[to].flags & CTOK_F_CLAUSE_END))
        to++;
    /* the danger's own part of the clause ("and" and "but" part it) must
     * tell it in the past: "we had no heating", "the gas leak was
     * handled", "someone hacked my account"; not "a month ago the boiler
     * broke and no heating with two kids", "reported the gas smell two
     * months ago" */
    static const char *const parts[] = {"and", "but", "so"};
    static const char *const told_past[] = {"had",    "was",     "were",   "broke",  "happened",
                                            "hacked", "flooded", "leaked", "burst",  "caught",
                                            "stole",  "stolen",  "did",    "handled"};
    size_t part_from = i, part_to = i + span;
    while (part_from > from &&
           ctok_word_in(tb, part_from - 1, parts, sizeof parts / sizeof parts[0]) < 0)
        part_from--;
    while (part_to < to && ctok_word_in(tb, part_to, parts, sizeof parts / sizeof parts[0]) < 0)
        part_to++;
    int in_past = 0;
    for (size_t j = part_from; j < part_to; j++)
        in_past |= ctok_word_in(tb, j, told_past, sizeof told_past / sizeof told_past[0]) >= 0;
    int past = 0;
    for (size_t j = from; j < to; j++) {
        if (ctok_word_in(tb, j, present, sizeof present / sizeof present[0]) >= 0)
            return 0;
        /* thanked for as undone, the danger the thing undone: "thanks for
         * stopping the loan I didn't apply for" */
        if (j + 4 >= i && j < i && j >= 2 &&
            ctok_word_in(tb, j, undone, sizeof undone / sizeof undone[0]) >= 0 &&
            ctok_is_word(tb, j - 1, "for") &&
            (ctok_is_word(tb, j - 2, "thanks") || ctok_is_word(tb, j - 2, "you") ||
             ctok_is_word(tb, j - 2, "thank") || ctok_is_word(tb, j - 2, "thx")))
            past = 1;
        /* (not "for the last month": a span up to now) */
        if ((ctok_is_word(tb, j, "last") && !(j > 0 && ctok_is_word(tb, j - 1, "the")) &&
             ctok_word_in(tb, j + 1, last_of, sizeof last_of / sizeof last_of[0]) >= 0 &&
             in_past) ||
            (ctok_is_word(tb, j, "ago") && j > 0 &&
             ctok_word_in(tb, j - 1, ago_of, sizeof ago_of / sizeof ago_of[0]) >= 0 && in_past) ||
            (ctok_is_word(tb, j, "back") && ctok_is_word(tb, j + 1, "in") &&
             (ctok_word_in(tb, j + 2, last_of, sizeof last_of / sizeof last_of[0]) >= 0 ||
              (j + 2 < tb->n && tb->tok[j + 2].kind == CTOK_NUM)) &&
             in_past))
            past = 1;
    }
    return past;
}

size_t classify_danger_at(const classify_run *run, unsigned unless, int told, size_t *end)
{
    for (size_t hk = run_first_hit(run, LEX_H_URGENCY); hk < run->n_lexhit;
         hk = run_next_hit(run, hk + 1, LEX_H_URGENCY)) {
        const size_t i = run->lexhit[hk];
        size_t span;
        const lex_entry *x = entry_for(run, i, LEX_H_URGENCY, &span);
        if (x && (x->flags & LEX_F_DANGER) && x->urgency >= URGENCY_DANGER_MIN &&
            !(x->has & unless) &&
            !(told && (span < 2 || x->urgency < URGENCY_DANGER_TOLD || run_negated(run, i))) &&
            !negated_directly(run, i) && !danger_in_past(run->tb, i, span)) {
            if (end)
                *end = i + span;
            return i;
        }
    }
    return SIZE_MAX;
}

static void classify_urgency_stage(classify_run *run, const classify_context *ctx)
{
    const ctok_buf *tb = run->tb;
    classify_result *r = run->r;
    float raw = 0, effort = 0, danger = 0;
    int real_danger = 0; /* a danger cue, not only a vulnerability */
    int vulnerable = 0;
    int reason = 0;      /* something presses, see URGENCY_UNREASONED_MAX */
    size_t insisted = 0; /* words of insistence */
    unsigned cues = 0;
    /* a thank-you or a compliment (intent "other", said with confidence,
     * not negative) has nothing to hurry, however long the wait or many
     * the contacts before it: "Thanks, the refund has arrived" as the
     * second contact of the day is no repeat complaint */
    const int courteous = strcmp(r->intent.label, "other") == 0 && r->intent.confidence >= 0.5f &&
                          r->sentiment.score >= 0;
    /* nor does praise that asks nothing hurry for the time it names:
     * "shoutout to the crew on flight SH22 today, absolute legends" */
    const int turned = run->clause_w_mode == RUN_CLAUSE_BUT &&
                       r->sentiment.score >= URGENCY_TURNED && resolved_after(tb, run->last_but);
    const int praise =
        (courteous || turned) && run->n_quest == 0 && r->sentiment.score >= URGENCY_PRAISE &&
        classify_danger_at(run, 0, 0, NULL) == SIZE_MAX && !classify_needs_something(tb);
    /* only tokens with a word entry can have one for this stage; a phrase's
     * other tokens are skipped as the loop over every token did */
    size_t next = 0;
    for (size_t hk = run_first_hit(run, LEX_H_URGENCY); hk < run->n_lexhit;
         hk = run_next_hit(run, hk + 1, LEX_H_URGENCY)) {
        const size_t i = run->lexhit[hk];
        if (i < next)
            continue;
        size_t span;
        const lex_entry *x = entry_for(run, i, LEX_H_URGENCY, &span);
        if (!x)
            continue;
        if (x->urgency > 0 && negated_directly(run, i)) {
            next = i + span; /* "not urgent" */
            continue;
        }
        size_t from = i, end;
        if (lex_is_duration(x) && !waited_since(run, i, &from))
            continue; /* "in 2 weeks" is a date, "for 2 weeks" a wait */
        if (lex_is_deadline(x)) {
            if (!deadline_clock(tb, i + span, ctok_is_word(tb, i, "before"), &end))
                continue; /* "by the way", "before I forget" */
            span = end - i;
        }
        if (x->urgency > 0 && !(x->flags & LEX_F_DANGER) && contact_scheduled(run, x, i)) {
            next = i + span;
            continue;
        }
        /* (no weight for capitals: shouting presses no more than saying) */
        if (x->mod == LEX_MOD_INSIST && !(x->flags & LEX_F_DANGER) && x->urgency > 0 &&
            !happening_before(tb, i)) {
            /* insisting is said, and shown, but moves nothing: "Fix it
             * NOW" after a wait reads as "Could someone help?" after the
             * same wait */
            classify_evidence_add(run, CLASSIFY_EV_URGENCY, "insistence", i, i + span, 0);
            insisted += span;
        } else if (x->urgency != 0 && !(praise && x->urgency > 0 && !(x->flags & LEX_F_DANGER))) {
            reason |= x->urgency > 0;
            float w = x->urgency;
            const char *rule = "time_pressure";
            if ((x->flags & LEX_F_DANGER) && w >= URGENCY_DANGER_MIN &&
                danger_in_past(tb, i, span)) {
                w = 0;
                rule = "past_danger";
            } else if (x->flags & LEX_F_DANGER) {
                /* a vulnerability (a danger weight below 1) adds to a danger
                 * that comes with it, and is no haste alone */
                danger += w;
                real_danger |= w >= URGENCY_DANGER_MIN;
                vulnerable |= w < URGENCY_DANGER_MIN;
                rule = w >= URGENCY_DANGER_MIN ? "danger" : "vulnerability";
            } else {
                /* an occasion at a time said presses as a deadline does:
                 * "completion is at 2pm" as "interview tomorrow" */
                if (w > 0 && w < URGENCY_TIMED_EVENT && span == 1 &&
                    ctok_word_in(tb, i, timed_events,
                                 sizeof timed_events / sizeof timed_events[0]) >= 0 &&
                    clause_timed(tb, i)) {
                    w = URGENCY_TIMED_EVENT;
                    rule = "timed_event";
                }
                raw += w;
            }
            classify_evidence_add(run, CLASSIFY_EV_URGENCY, rule, i, i + span, w);
            cues++;
        }
        if (x->effort != 0) {
            reason |= x->effort > 0;
            effort += x->effort;
            classify_evidence_add(run, CLASSIFY_EV_URGENCY, "effort", from, i + span, x->effort);
            cues++;
        }
        next = i + span;
    }
    /* numbers: an old age of a person, a harmful temperature at home */
    for (size_t i = 0; tb->n_nums > 0 && i < tb->n; i++) {
        size_t start, end;
        if (tb->tok[i].kind != CTOK_NUM)
            continue;
        if (!vulnerable && elderly_age(tb, i, &start, &end)) {
            vulnerable = 1;
            danger += URGENCY_OLD_AGE;
            classify_evidence_add(run, CLASSIFY_EV_URGENCY, "vulnerability", start, end,
                                  URGENCY_OLD_AGE);
            cues++;
        } else if (harmful_home_temperature(tb, i, &end)) {
            reason = 1;
            danger += URGENCY_HOME_TEMPERATURE;
            real_danger = 1;
            classify_evidence_add(run, CLASSIFY_EV_URGENCY, "danger", i, end,
                                  URGENCY_HOME_TEMPERATURE);
            cues++;
        }
    }
    /* a curt message (four words or fewer) presses, whatever its tone: "!"
     * or a swear word must not make it press more */
    if (tb->n_words > insisted && tb->n_words - insisted <= 4) {
        raw += 0.4f;
        classify_evidence_add_text(run, CLASSIFY_EV_URGENCY, "curt_message", "", 0, 0.4f);
        cues++;
    }
    const float haste = courteous ? 0.0f : 1.0f;
    if (ctx) {
        if (ctx->wait_seconds >= 0) {
            float w = (float)ctx->wait_seconds;
            float add = haste * (w >= 1800 ? 1.2f : w >= 600 ? 0.7f : w >= 180 ? 0.3f : 0.0f);
            raw += add;
            effort += clampf(w / 1800.0f, 0, 1.5f);
            reason |= add > 0;
            if (add > 0) {
                char buf[40];
                int n = snprintf(buf, sizeof buf, "wait_seconds=%.0f", ctx->wait_seconds);
                classify_evidence_add_text(run, CLASSIFY_EV_URGENCY, "context_wait", buf,
                                           n > 0 ? (size_t)n : 0, add);
                cues++;
            }
        }
        if (ctx->contacts_24h >= 2) {
            float add = haste * clampf(0.5f * (float)(ctx->contacts_24h - 1), 0, 1.5f);
            reason |= add > 0;
            raw += add;
            effort += 0.5f * (float)(ctx->contacts_24h - 1);
            char buf[40];
            int n = snprintf(buf, sizeof buf, "contacts_24h=%d", ctx->contacts_24h);
            classify_evidence_add_text(run, CLASSIFY_EV_URGENCY, "context_repeat", buf,
                                       n > 0 ? (size_t)n : 0, add);
            cues++;
        }
        if (ctx->contacts_7d >= 3) {
            reason |= haste > 0;
            raw += 0.3f * haste;
            effort += 0.15f * (float)(ctx->contacts_7d - 2);
            cues++;
        }
        float add = 0;
        switch (ctx->channel) {
        case CLASSIFY_CHANNEL_VOICE:
        case CLASSIFY_CHANNEL_CHAT:
        case CLASSIFY_CHANNEL_SOCIAL:
            add = 0.2f; /* the customer is there now, or in public */
            break;
        case CLASSIFY_CHANNEL_EMAIL:
            add = -0.3f;
            break;
        default:
            break;
        }
        if (add != 0) {
            raw += add;
            const char *name = classify_channel_name(ctx->channel);
            char buf[40];
            int n = snprintf(buf, sizeof buf, "channel=%s", name);
            classify_evidence_add_text(run, CLASSIFY_EV_URGENCY, "context_channel", buf,
                                       n > 0 ? (size_t)n : 0, add);
        }
    }
    raw += 0.4f * effort * haste;
    /* fraud or a break-in reported presses as a deadline does: money or an
     * identity is at risk until someone acts ("There are transactions on my
     * card that I didn't make"), whatever words tell it; not thanks for a
     * card blocked (the sentiment of praise), nor a question ("Can I freeze
     * my card if I lose it?", "is this text genuine?") */
    if (run->n_quest == 0 && r->sentiment.score < URGENCY_PRAISE &&
        r->intent.confidence >= URGENCY_FRAUD_SURE &&
        strcmp(r->intent.label, "fraud_security") == 0) {
        raw += URGENCY_FRAUD;
        reason = 1;
        cues++;
        classify_evidence_add_text(run, CLASSIFY_EV_URGENCY, "fraud_reported", r->intent.label,
                                   strlen(r->intent.label), URGENCY_FRAUD);
    }
    /* a curt line and the channel press, but with nothing else pressing
     * they stay normal */
    if (!reason && raw > URGENCY_UNREASONED_MAX)
        raw = URGENCY_UNREASONED_MAX;
    /* praise or thanks that ask nothing need nothing, on any channel and
     * however short: low ("ok thanks", "thank you, you've been a star") */
    if (praise && !real_danger && raw > URGENCY_PRAISE_RAW) {
        classify_evidence_add_text(run, CLASSIFY_EV_URGENCY, "praise", "", 0,
                                   URGENCY_PRAISE_RAW - raw);
        raw = URGENCY_PRAISE_RAW;
    }
    /* Haste, effort and the context make a message high at most; only
     * danger to a person or a home (urgency.tsv's "danger") makes it
     * critical: "due tonight" and "third time" are pressing, "smell gas" and
     * "no heating" with "newborn" are an emergency. A vulnerability alone
     * ("my husband passed away", "I'm deaf") asks for care, which the
     * policy gives (situation.urgency.vulnerable), not for speed: read as
     * haste it made the pace brisk. */
    if (!real_danger)
        danger = 0;
    if (raw > URGENCY_HASTE_MAX)
        raw = URGENCY_HASTE_MAX;
    /* calm words and an e-mail lower haste, never a danger: "no rush, but
     * I smell gas" and an e-mailed "my elderly mum has no heating" are as
     * critical as the same said on the phone */
    if (danger > 0 && raw < 0)
        raw = 0;
    raw += danger;
    /* A threat with a weapon in hand is critical: someone may be hurt now.
     * Any other threat, anger, swearing and abuse move urgency not at all: a
     * place in the queue is not won by shouting or menace (policy.md, "Anger
     * is not rewarded"), and the protection flow, not the queue, answers a
     * threat; the same need said calmly reads the same. */
    if (r->threat.level == CLASSIFY_THREAT_THREAT && run->threat_weapon) {
        const float floor = 2.0f;
        if (raw < floor)
            classify_evidence_add_text(run, CLASSIFY_EV_URGENCY, "threat_with_weapon", "", 0,
                                       floor - raw);
        raw = fmaxf(raw, floor);
    }
    /* a logistic curve: no cue at all is "normal", one strong cue "high" */
    float score = 1.0f / (1.0f + (raw == 0 ? run->c->urgency_exp0 : urgency_exp(raw)));
    r->urgency.score = score;
    r->urgency.level = score < 0.1f    ? CLASSIFY_URGENCY_LOW
                       : score < 0.45f ? CLASSIFY_URGENCY_NORMAL
                       : score < 0.8f  ? CLASSIFY_URGENCY_HIGH
                                       : CLASSIFY_URGENCY_CRITICAL;
    r->urgency.effort = effort == 0 ? 0.0f : 1.0f - expf(-effort);
    r->urgency.confidence = 0.6f + 0.1f * (float)(cues > 3 ? 3 : cues);
    r->urgency.vulnerable = vulnerable;
    run->n_urgency_cues = cues;
}

/* --- preferences and politeness --------------------------------------------- */

static void set_pref(char *dst, const char *value)
{
    size_t n = strlen(value);
    if (n >= CLASSIFY_LABEL_MAX)
        n = CLASSIFY_LABEL_MAX - 1;
    memcpy(dst, value, n);
    dst[n] = '\0';
}

/* The clock after "and", "to" or "-" at token i, ending a range ("between
 * 2 and 4pm"); *used: the tokens taken. -1: no range; -2: not clocks at
 * all but a count ("between 2 and 3 hours"). */
static int range_end(const ctok_buf *tb, size_t i, size_t *used)
{
    static const char *const units[] = {"minutes", "mins", "minute", "hours", "hour",   "hrs",
                                        "days",    "day",  "weeks",  "week",  "months", "month",
                                        "years",   "year", "times",  "of"};
    if (i + 1 >= tb->n)
        return -1;
    if (!ctok_is_word(tb, i, "and") && !ctok_is_word(tb, i, "to") && !ctok_is_word(tb, i, "n") &&
        !is_punct(tb, i, '-') && !is_punct(tb, i, '&'))
        return -1;
    size_t u = 0;
    int guessed = 0;
    int m = parse_clock(tb, i + 1, &u, &guessed);
    if (m < 0 && word_hour(tb, i + 1) >= 0) {
        /* the range marks it a time: "between twelve and one could..." */
        m = afternoon_guess(word_hour(tb, i + 1)) * 60;
        u = 1;
    }
    if (m < 0)
        return -1;
    if (i + 1 + u < tb->n &&
        ctok_word_in(tb, i + 1 + u, units, sizeof units / sizeof units[0]) >= 0)
        return -2;
    *used = 1 + u;
    return m;
}

/* The start of a range whose end is until: a bare hour guessed to be the
 * afternoon ("2" in "between 2 and 4pm" is 14:00) goes back to the morning
 * when that puts it after the end ("from 8 to 10am" is read 08:00 anyway;
 * "from 6pm to 8am", said with its "pm", stays as said). */
static int range_start(int start, int guessed_pm, int until)
{
    if (guessed_pm && start > until && start - 12 * 60 < until)
        return start - 12 * 60;
    return start;
}

/* A contact time joins one already found when one is a day or part of day
 * and the other a clock ("monday" and "between 14:00 and 16:00" make
 * "monday between 14:00 and 16:00"); otherwise the later one wins. */
static void set_contact_time(char *dst, const char *value)
{
    char joined[CLASSIFY_LABEL_MAX];
    const int old_clock = strchr(dst, ':') != NULL, new_clock = strchr(value, ':') != NULL;
    if (dst[0] && old_clock != new_clock) {
        snprintf(joined, sizeof joined, "%s %s", old_clock ? value : dst, old_clock ? dst : value);
        set_pref(dst, joined);
    } else {
        set_pref(dst, value);
    }
}

/* Whether the sentence that starts at token from speaks of contacting (a
 * contact verb or a channel, up to the token that ends the sentence). */
static int is_contact_sentence(const classify_run *run, size_t from)
{
    const ctok_buf *tb = run->tb;
    for (size_t j = from; j < tb->n; j++) {
        const lex_entry *p = run_phrase(run, j);
        const lex_entry *e = p ? p : run->lex[j];
        const lex_entry *w = run->lex[j];
        if ((e && (e->pref == LEX_PREF_CONTACT_VERB || e->pref == LEX_PREF_CHANNEL)) ||
            (w && w->pref == LEX_PREF_CONTACT_VERB))
            return 1;
        if (tb->tok[j].flags & CTOK_F_SENT_END)
            break;
    }
    return 0;
}

/* Whether the channel at token i is the one turned down: "by email rather
 * than by phone", "instead of a call", "any way other than post". */
static int turned_down(const ctok_buf *tb, size_t i)
{
    static const char *const small[] = {"by", "via", "over", "on", "the", "a", "an"};
    size_t j = i;
    while (j > 0 && ctok_word_in(tb, j - 1, small, sizeof small / sizeof small[0]) >= 0)
        j--;
    if (j < 2)
        return 0;
    if (ctok_is_word(tb, j - 1, "than")) {
        /* "rather than by phone", and "rather ... by email than by phone" */
        static const char *const choosing[] = {"rather", "other", "prefer", "prefers"};
        for (size_t k = j - 1; k > 0 && j - 1 - k < 10; k--) {
            if (tb->tok[k - 1].flags & CTOK_F_CLAUSE_END)
                break;
            if (ctok_word_in(tb, k - 1, choosing, sizeof choosing / sizeof choosing[0]) >= 0)
                return 1;
        }
        return 0;
    }
    return ctok_is_word(tb, j - 1, "of") && ctok_is_word(tb, j - 2, "instead");
}

/* is_contact_sentence for the sentence of token i, kept for the next time
 * in the same sentence: *sent_of is the token that sentence begins at. */
static int in_contact_sentence(const classify_run *run, size_t i, size_t *sent_of, int *is)
{
    const size_t from = ctok_sentence_start(run->tb, i);
    if (from != *sent_of) {
        *sent_of = from;
        *is = is_contact_sentence(run, from);
    }
    return *is;
}

/* Whether token i is part of a negative idiom or of a sarcastic
 * interjection. */
static int in_scorn(const classify_run *run, size_t i)
{
    if (run->tflags[i] & RUN_T_SARCASM)
        return 1;
    const lex_entry *p = run_phrase(run, i);
    if (!p)
        p = run_inner_phrase(run, i);
    return p && lex_is_scorn(p);
}

/* The languages a message's words belong to (preferences.tsv's "written"
 * words), and how many of its words each has. */
#define WRITTEN_MAX 8
typedef struct {
    const char *lang[WRITTEN_MAX];
    unsigned n[WRITTEN_MAX];
    unsigned k;
} written_count;

static void written_add(written_count *w, const char *lang)
{
    unsigned j = 0;
    while (j < w->k && strcmp(w->lang[j], lang) != 0)
        j++;
    if (j == w->k) {
        if (w->k == WRITTEN_MAX)
            return;
        w->lang[w->k++] = lang;
    }
    w->n[j]++;
}

/* A message written in another language asks for it, unless the customer
 * named one: two of its words or more, and three in ten of the message's
 * words (a Spanish name in an English message is not Spanish). */
static void written_language(classify_run *run, const written_count *w)
{
    unsigned best = 0;
    for (unsigned j = 1; j < w->k; j++)
        if (w->n[j] > w->n[best])
            best = j;
    if (w->k == 0 || w->n[best] < 2 || w->n[best] * 10 < run->tb->n_words * 3)
        return;
    set_pref(run->r->preferences.language, w->lang[best]);
    classify_evidence_add_text(run, CLASSIFY_EV_PREFERENCE, "written_in", w->lang[best],
                               strlen(w->lang[best]), (float)w->n[best] / (float)run->tb->n_words);
}

/* Where a time begins right after the channel turned down at [i, i +
 * span), or SIZE_MAX: "don't call before noon", "please do not ring me after
 * 8pm", "don't phone us in the mornings" turn down a time, not the
 * channel. */
static size_t refused_time(const classify_run *run, size_t i, size_t span)
{
    static const char *const whom[] = {"me", "us", "him", "her", "them", "back"};
    const ctok_buf *tb = run->tb;
    size_t j = i + span;
    while (j < tb->n && ctok_word_in(tb, j, whom, sizeof whom / sizeof whom[0]) >= 0)
        j++;
    if (j >= tb->n)
        return SIZE_MAX;
    const lex_entry *p = run_phrase(run, j);
    const lex_entry *e = p && p->pref ? p : run->lex[j];
    if (e && e->pref == LEX_PREF_TIME)
        return j;
    /* a time word with a clock after it: not "can't take calls at work" */
    size_t used = 0;
    int guessed = 0;
    return e && e->pref == LEX_PREF_TIME_WORD && parse_clock(tb, j + 1, &used, &guessed) >= 0
               ? j
               : SIZE_MAX;
}

/* The contact time said after a refusal: "before" turns to "after" and
 * back, anything else is "not" it ("don't call in the mornings": "not
 * morning"). */
static const char *refused_time_word(const char *v, char *buf, size_t size)
{
    if (strcmp(v, "before") == 0)
        return "after";
    if (strcmp(v, "after") == 0)
        return "before";
    snprintf(buf, size, "not %s", v);
    return buf;
}

/* A second time refused after a first: "after 09:00 and before 21:00". */
static void join_refused(char *contact_time, const char *first)
{
    if (!first[0])
        return;
    char both[CLASSIFY_LABEL_MAX * 2 + 8];
    snprintf(both, sizeof both, "%s and %s", first, contact_time);
    set_pref(contact_time, both);
}

/* Whether the contact statement at [i, end) asks for this contact only: a
 * word of the moment in its clause ("I can't talk right now", "call me
 * tomorrow", "text me today", "call me now"; with back, a call back asked
 * for: "call me back", not "write back to my email"), unless the clause
 * says it lasts ("from now on", "always", "in future", "prefer"), or a
 * word beside it does ("never ring", "don't call me again"). "now" is a
 * moment as "right now", "just now", or right after a request ("ring me
 * back now"; asked): "I'm deaf now so please text me" lasts. */
/* Words that say a contact statement lasts (said_for_now, sends_a_thing). */
static const char *const pref_lasting[] = {"always",     "future", "prefer",    "prefers",
                                           "preferably", "only",   "generally", "usually"};

static int said_for_now(const ctok_buf *tb, size_t i, size_t end, int asked, int back)
{
    static const char *const moment[] = {"rn",      "atm",      "asap",  "today",
                                         "tonight", "tomorrow", "moment"};
    static const char *const after[] = {"again", "ever", "anymore"};
    static const char *const parts[] = {"morning", "afternoon", "evening"};
    static const char *const just[] = {"right", "just"};
    size_t from = i, to = end;
    while (from > 0 && i - from < 8 && !(tb->tok[from - 1].flags & CTOK_F_CLAUSE_END))
        from--;
    while (to < tb->n && to - end < 8 && !(tb->tok[to].flags & CTOK_F_CLAUSE_END))
        to++;
    int now = 0;
    for (size_t j = from; j < to; j++) {
        if (ctok_word_in(tb, j, pref_lasting, sizeof pref_lasting / sizeof pref_lasting[0]) >= 0)
            return 0;
        if ((j + 2 >= i && j < i && ctok_is_word(tb, j, "never")) ||
            (j >= end && j < end + 2 &&
             ctok_word_in(tb, j, after, sizeof after / sizeof after[0]) >= 0))
            return 0;
        if (ctok_is_word(tb, j, "now")) {
            if (j > 0 && ctok_is_word(tb, j - 1, "from"))
                return 0;
            now |= (asked && j == end) || (j > 0 && ctok_word_in(tb, j - 1, just, 2) >= 0);
        }
        now |= ctok_word_in(tb, j, moment, sizeof moment / sizeof moment[0]) >= 0 ||
               (back && j <= end && ctok_is_word(tb, j, "back")) ||
               (ctok_is_word(tb, j, "this") &&
                ctok_word_in(tb, j + 1, parts, sizeof parts / sizeof parts[0]) >= 0);
    }
    return now;
}

/* Whether the channel statement ending at end sends a thing ("please
 * email me the invoice", "text me the code", "can you email me a copy"):
 * a delivery asked for once, not the way to be reached, unless the message
 * says elsewhere that a way lasts ("I prefer email, email me the details"). */
static int sends_a_thing(const ctok_buf *tb, size_t end)
{
    static const char *const object[] = {"the",  "a",     "an",    "my", "our", "this",
                                         "that", "these", "those", "it", "them"};
    size_t j = end;
    if (j < tb->n && (ctok_is_word(tb, j, "me") || ctok_is_word(tb, j, "us")))
        j++;
    if (j >= tb->n || ctok_word_in(tb, j, object, sizeof object / sizeof object[0]) < 0)
        return 0;
    for (size_t k = 0; k < tb->n; k++)
        if (ctok_word_in(tb, k, pref_lasting, sizeof pref_lasting / sizeof pref_lasting[0]) >= 0)
            return 0;
    return 1;
}

/* Whether a channel at token i, in the scope of a negation, is asked for
 * anew after it: "if you can't can someone ring me back" (a transcript
 * without its comma); not "can't someone just email me" (which still
 * asks), "could you not call me" nor "don't call me". */
static int asked_anew(const ctok_buf *tb, size_t i)
{
    static const char *const modal[] = {"can", "could", "will", "would"};
    static const char *const whom[] = {"someone", "somebody", "anyone", "anybody", "you"};
    static const char *const negators[] = {"not", "never", "no"};
    for (size_t j = i; j > 1 && i - j < 5;) {
        j--;
        const size_t len = tb->tok[j].norm_len;
        if ((len > 3 && memcmp(ctok_text(tb, j) + len - 3, "n't", 3) == 0) ||
            ctok_word_in(tb, j, negators, sizeof negators / sizeof negators[0]) >= 0)
            return 0; /* "could you not call me", "can someone not ring at 3am" */
        if (ctok_word_in(tb, j - 1, modal, sizeof modal / sizeof modal[0]) >= 0 &&
            ctok_word_in(tb, j, whom, sizeof whom / sizeof whom[0]) >= 0)
            return 1;
    }
    return 0;
}

/* Whether the time word at token i tells of a contact that happened ("your
 * engineer rang at 7.30 this morning", "she called me at 9"): no
 * preference. */
static int told_past_contact(const ctok_buf *tb, size_t i)
{
    static const char *const done[] = {"rang",   "rung",   "called",  "phoned",  "emailed",
                                       "texted", "came",   "arrived", "visited", "messaged",
                                       "turned", "showed", "knocked"};
    /* "I'd like to be called at 6pm" asks */
    static const char *const wished[] = {"be", "been", "being", "get", "getting"};
    const size_t j = word_back(tb, i, done, sizeof done / sizeof done[0], 3);
    return j != SIZE_MAX &&
           !(j > 0 && ctok_word_in(tb, j - 1, wished, sizeof wished / sizeof wished[0]) >= 0);
}

static void classify_prefs_stage(classify_run *run)
{
    const ctok_buf *tb = run->tb;
    classify_result *r = run->r;
    const lex_table *lex = &run->c->lex;
    unsigned polite = 0;
    /* a time is a preference only in a sentence about contacting; whether
     * the sentence is one is worked out only when a time is met (rarely),
     * from where the sentence begins */
    size_t sent_of = SIZE_MAX; /* the sentence contact_sentence is for */
    int contact_sentence = 0;
    written_count written = {{NULL}, {0}, 0};
    size_t next = 0;
    /* a time turned down starts here (refused_time), SIZE_MAX for none: a
     * time that opens the message is asked for, "Evenings are best for me" */
    size_t refused_at = SIZE_MAX;
    int refused_more = 0; /* refused_at is a second time after "or" */
    char refused[CLASSIFY_LABEL_MAX];
    /* where the channel, the channel avoided and the contact time were
     * last said (said_for_now) */
    size_t channel_at = 0, avoid_at = 0, time_at = 0;
    size_t channel_end = 0, avoid_end = 0, time_end = 0;
    for (size_t hk = run_first_hit(run, LEX_H_PREF); hk < run->n_lexhit;
         hk = run_next_hit(run, hk + 1, LEX_H_PREF)) {
        size_t i = run->lexhit[hk];
        if (i < next)
            continue;
        size_t span;
        const lex_entry *x = entry_for(run, i, LEX_H_PREF, &span);
        if (!x)
            continue;
        const char *v = lex_pref_value(lex, x);
        const int refusing = i == refused_at;
        /* a second time refused joins the first: "don't call me before
         * 9am or after 9pm" is after 09:00 and before 21:00 */
        char kept[CLASSIFY_LABEL_MAX];
        kept[0] = '\0';
        if (refusing && refused_more)
            set_pref(kept, r->preferences.contact_time);
        const char *rule = NULL;
        switch (x->pref) {
        case LEX_PREF_CHANNEL:
            if ((run_negated(run, i) && !asked_anew(tb, i)) || turned_down(tb, i)) {
                set_pref(r->preferences.avoid_channel, v);
                rule = "avoid_channel";
                avoid_at = i;
                avoid_end = i + span;
            } else {
                set_pref(r->preferences.channel, v);
                rule = "channel";
                channel_at = i;
                channel_end = i + span;
            }
            break;
        case LEX_PREF_AVOID:
            refused_at = refused_time(run, i, span);
            if (refused_at != SIZE_MAX) {
                /* the time is read next, turned round */
                classify_evidence_add(run, CLASSIFY_EV_PREFERENCE, "refused_time", i, refused_at,
                                      0.0f);
                contact_sentence = 1;
                sent_of = ctok_sentence_start(tb, i);
                break;
            }
            set_pref(r->preferences.avoid_channel, v);
            rule = "avoid_channel";
            avoid_at = i;
            avoid_end = i + span;
            break;
        case LEX_PREF_LANGUAGE:
            set_pref(r->preferences.language, v);
            rule = "language";
            break;
        case LEX_PREF_PACE:
            if (negated_directly(run, i))
                break; /* "not in a hurry" asks for no pace */
            set_pref(r->preferences.pace, v);
            rule = "pace";
            break;
        case LEX_PREF_TIME:
            if (refusing)
                v = refused_time_word(v, refused, sizeof refused);
            if (in_contact_sentence(run, i, &sent_of, &contact_sentence)) {
                set_contact_time(r->preferences.contact_time, v);
                rule = "contact_time";
                time_at = i;
                time_end = i + span;
                join_refused(r->preferences.contact_time, kept);
            }
            break;
        case LEX_PREF_WRITTEN:
            written_add(&written, v);
            break;
        case LEX_PREF_POLITE:
            /* thanks said in scorn ("thanks for nothing", a sarcastic
             * "thanks a lot") is not politeness */
            polite += !in_scorn(run, i);
            break;
        case LEX_PREF_TIME_WORD: {
            size_t used = 0, used2 = 0;
            int guessed = 0;
            const int mins = parse_clock(tb, i + span, &used, &guessed);
            /* a range: "between 2 and 4pm", "from 9 to 11am" */
            const char *join = strcmp(v, "between") == 0 ? "and"
                               : strcmp(v, "from") == 0  ? "to"
                                                         : NULL;
            const int until = mins >= 0 && join ? range_end(tb, i + span + used, &used2) : -1;
            if (refusing)
                v = refused_time_word(v, refused, sizeof refused);
            if (mins >= 0 && until != -2 && !told_past_contact(tb, i) &&
                in_contact_sentence(run, i, &sent_of, &contact_sentence)) {
                char buf[CLASSIFY_LABEL_MAX + 32];
                if (until >= 0) {
                    const int start = range_start(mins, guessed, until);
                    snprintf(buf, sizeof buf, "%s %02d:%02d %s %02d:%02d", v, start / 60,
                             start % 60, join, until / 60, until % 60);
                    used += used2;
                } else {
                    /* "between 12 and..." with no end read: from its start */
                    snprintf(buf, sizeof buf, "%s %02d:%02d", strcmp(v, "between") ? v : "from",
                             mins / 60, mins % 60);
                }
                set_contact_time(r->preferences.contact_time, buf);
                time_at = i;
                time_end = i + span + used;
                classify_evidence_add(run, CLASSIFY_EV_PREFERENCE, "contact_time", i,
                                      i + span + used, 1.0f);
                span += used;
                join_refused(r->preferences.contact_time, kept);
            }
            break;
        }
        default:
            break;
        }
        if (rule)
            classify_evidence_add(run, CLASSIFY_EV_PREFERENCE, rule, i, i + span, 1.0f);
        next = i + span;
        refused_more = 0;
        if (refusing && next + 1 < tb->n &&
            (ctok_is_word(tb, next, "or") || ctok_is_word(tb, next, "and"))) {
            refused_at = next + 1;
            refused_more = 1;
        }
    }
    if (!r->preferences.language[0] && written.k > 0)
        written_language(run, &written);
    unsigned now = 0;
    if (r->preferences.channel[0] && (said_for_now(tb, channel_at, channel_end, 1,
                                                   strcmp(r->preferences.channel, "voice") == 0) ||
                                      sends_a_thing(tb, channel_end)))
        now |= CLASSIFY_PREF_CHANNEL;
    if (r->preferences.avoid_channel[0] && said_for_now(tb, avoid_at, avoid_end, 0, 0))
        now |= CLASSIFY_PREF_AVOID_CHANNEL;
    if (r->preferences.contact_time[0] &&
        (strncmp(r->preferences.contact_time, "tomorrow", 8) == 0 ||
         said_for_now(tb, time_at, time_end, 0, 0)))
        now |= CLASSIFY_PREF_CONTACT_TIME;
    r->preferences.for_now = now;
    float p = polite ? 1.0f - expf(-0.7f * (float)polite) : 0.0f;
    if (r->threat.level >= CLASSIFY_THREAT_ABUSE)
        p -= 0.6f;
    else if (r->threat.level == CLASSIFY_THREAT_PROFANITY)
        p -= 0.25f;
    r->preferences.politeness = clampf(p, 0, 1);
}

/* The stages after sentiment, in the order they read one another: threat,
 * then emotion (which reads the threat level), urgency, preferences. One
 * call, so that the compiler may inline each of them. */
void classify_rule_stages(classify_run *run, const classify_context *ctx)
{
    classify_threat_stage(run);
    /* the model's heads may raise the threat reading, which the stages
     * after read */
    if (run->c->has_intent)
        classify_intent_stage(run);
    classify_sentiment_hostile(run);
    classify_emotion_stage(run);
    classify_urgency_stage(run, ctx);
    classify_prefs_stage(run);
}
