/* classify: the classifier object and the pipeline of one call:
 * tokenize, look every token and phrase up once, then let each stage
 * (sentiment, emotion, threat, urgency, preferences, intent) read the shared
 * analysis. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify/classify_int.h"
#include "files.h"
#include "json.h"

attune_err classify_new(const classify_options *opts, classify **out, char *errstr,
                        size_t errstr_size)
{
    if (!out)
        return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "out is NULL");
    *out = NULL;
    if (!opts || !opts->data_dir || !opts->data_dir[0])
        return attune_errf(ATTUNE_ERR_CONFIG, errstr, errstr_size, "no data directory given");
    classify *c = calloc(1, sizeof *c);
    if (!c)
        return attune_errf(ATTUNE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    /* volatile: computed by libm at run time, as the stage would, never
     * folded by the compiler */
    volatile float no_cue = 0.0f;
    c->urgency_exp0 = urgency_exp(no_cue);
    attune_err err = lex_load_dir(&c->lex, opts->data_dir, errstr, errstr_size);
    if (err) {
        free(c);
        return err;
    }
    char path[4096];
    const char *model = opts->intent_model;
    if (!model) {
        int n = snprintf(path, sizeof path, "%s/intent.model", opts->data_dir);
        if (n < 0 || (size_t)n >= sizeof path) {
            classify_free(c);
            return attune_errf(ATTUNE_ERR_LIMIT, errstr, errstr_size, "data_dir too long");
        }
        model = path;
    }
    if (model[0]) {
        err = intent_model_load(&c->intent, model, errstr, errstr_size);
        if (err) {
            classify_free(c);
            return err;
        }
        c->has_intent = 1;
        err = intent_model_index_words(&c->intent, &c->lex, errstr, errstr_size);
        if (err) {
            classify_free(c);
            return err;
        }
    }
    *out = c;
    return ATTUNE_OK;
}

void classify_free(classify *c)
{
    if (!c)
        return;
    lex_fini(&c->lex);
    if (c->has_intent)
        intent_model_fini(&c->intent);
    free(c);
}

int classify_data_dir(const char *given, char *buf, size_t size)
{
    return files_find(given && *given ? given : getenv("ATTUNE_DATA_DIR"), "deploy/data",
                      "/usr/share/attune/data", buf, size);
}

void classify_context_init(classify_context *ctx)
{
    ctx->wait_seconds = -1;
    ctx->contacts_24h = -1;
    ctx->contacts_7d = -1;
    ctx->channel = CLASSIFY_CHANNEL_UNKNOWN;
    ctx->known_customer = -1;
    ctx->contact_intent[0] = '\0';
}

void classify_context_contact(classify_context *ctx, const cJSON *data)
{
    ctx->contact_intent[0] = '\0';
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(data, "interaction_id");
    const cJSON *context = cJSON_GetObjectItemCaseSensitive(data, "context");
    const cJSON *recent = cJSON_GetObjectItemCaseSensitive(context, "recent");
    if (!cJSON_IsString(id) || !cJSON_IsArray(recent))
        return;
    for (const cJSON *r = recent->child; r; r = r->next) {
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "interaction_id");
        const cJSON *intent = cJSON_GetObjectItemCaseSensitive(r, "intent");
        if (!cJSON_IsString(rid) || !cJSON_IsString(intent) ||
            strcmp(rid->valuestring, id->valuestring) != 0)
            continue;
        const size_t n = strlen(intent->valuestring);
        if (n < sizeof ctx->contact_intent)
            memcpy(ctx->contact_intent, intent->valuestring, n + 1);
        return;
    }
}

size_t classify_intent_count(const classify *c)
{
    return c && c->has_intent ? c->intent.n_class : 0;
}

const char *classify_intent_label(const classify *c, size_t i)
{
    if (!c || !c->has_intent || i >= c->intent.n_class)
        return NULL;
    return c->intent.labels[i];
}

const char *classify_polarity_name(classify_polarity p)
{
    switch (p) {
    case CLASSIFY_NEGATIVE:
        return "negative";
    case CLASSIFY_POSITIVE:
        return "positive";
    case CLASSIFY_NEUTRAL:
        break;
    }
    return "neutral";
}

const char *classify_emotion_name(classify_emotion e)
{
    static const char *const names[CLASSIFY_EMO_COUNT] = {"anger",     "fear", "sadness",
                                                          "confusion", "joy",  "neutral"};
    return (unsigned)e < CLASSIFY_EMO_COUNT ? names[e] : "neutral";
}

const char *classify_urgency_name(classify_urgency_level l)
{
    static const char *const names[] = {"low", "normal", "high", "critical"};
    return (unsigned)l < 4 ? names[l] : "normal";
}

const char *classify_threat_name(classify_threat_level l)
{
    static const char *const names[] = {"none", "profanity", "abuse", "threat"};
    return (unsigned)l < 4 ? names[l] : "none";
}

static const char *const channel_names[] = {"unknown", "voice",  "chat", "email",
                                            "sms",     "social", "web",  "ivr"};

const char *classify_channel_name(classify_channel ch)
{
    return (unsigned)ch < sizeof channel_names / sizeof channel_names[0] ? channel_names[ch]
                                                                         : "unknown";
}

classify_channel classify_channel_parse(const char *name)
{
    if (!name)
        return CLASSIFY_CHANNEL_UNKNOWN;
    /* any case: "CHAT" is chat, not an unknown channel */
    for (size_t i = 1; i < sizeof channel_names / sizeof channel_names[0]; i++)
        if (strcasecmp(name, channel_names[i]) == 0)
            return (classify_channel)i;
    if (strcasecmp(name, "phone") == 0 || strcasecmp(name, "call") == 0)
        return CLASSIFY_CHANNEL_VOICE;
    return CLASSIFY_CHANNEL_UNKNOWN;
}

/* Copies at most n-1 bytes of s, cut at a UTF-8 boundary. */
static size_t copy_utf8(char *dst, size_t n, const char *s, size_t len)
{
    len = json_utf8_cut(s, len, n - 1);
    memcpy(dst, s, len);
    dst[len] = '\0';
    return len;
}

/* The weakest item of kind in the full list, or CLASSIFY_MAX_EVIDENCE. */
static size_t evidence_weakest(const classify_result *r, classify_evidence_kind kind)
{
    size_t weakest = CLASSIFY_MAX_EVIDENCE;
    for (size_t i = 0; i < CLASSIFY_MAX_EVIDENCE; i++)
        if (r->evidence[i].kind == kind &&
            (weakest == CLASSIFY_MAX_EVIDENCE ||
             fabsf(r->evidence[i].weight) < fabsf(r->evidence[weakest].weight)))
            weakest = i;
    return weakest;
}

/* When the list is full: the weakest item of the same kind, if the new one
 * is stronger, else NULL (the new one is dropped); for a kind with no item
 * yet, the weakest item of the kind that has the most, so that a reading
 * never goes without a reason (a long angry message once filled the list
 * with sentiment and left a threat unexplained). */
classify_evidence *classify_evidence_evict(classify_result *r, classify_evidence_kind kind,
                                           float weight)
{
    size_t weakest = evidence_weakest(r, kind);
    if (weakest == CLASSIFY_MAX_EVIDENCE) {
        unsigned count[CLASSIFY_EV_PREFERENCE + 1] = {0};
        for (size_t i = 0; i < CLASSIFY_MAX_EVIDENCE; i++)
            if (r->evidence[i].kind <= CLASSIFY_EV_PREFERENCE)
                count[r->evidence[i].kind]++;
        classify_evidence_kind most = CLASSIFY_EV_SENTIMENT;
        for (int k = 1; k <= CLASSIFY_EV_PREFERENCE; k++)
            if (count[k] > count[most])
                most = (classify_evidence_kind)k;
        return &r->evidence[evidence_weakest(r, most)];
    }
    if (fabsf(r->evidence[weakest].weight) >= fabsf(weight))
        return NULL;
    return &r->evidence[weakest];
}

void classify_evidence_add_text(classify_run *run, classify_evidence_kind kind, const char *rule,
                                const char *text, size_t len, float weight)
{
    classify_evidence *ev = classify_evidence_item(run->r, kind, rule, weight);
    if (!ev)
        return;
    if (len > 0 && len < sizeof ev->text)
        classify_copy_short(ev->text, text, len);
    else
        copy_utf8(ev->text, sizeof ev->text, text, len);
}

void classify_evidence_text(const ctok_buf *tb, char *buf, size_t from, size_t to)
{
    size_t used = 0;
    for (size_t i = from; i < to && i < tb->n; i++) {
        if (used + 2 >= CLASSIFY_EVIDENCE_TEXT)
            break;
        if (i > from && tb->tok[i].kind != CTOK_PUNCT)
            buf[used++] = ' ';
        const size_t len = tb->tok[i].norm_len;
        if (len > 0 && len < CLASSIFY_EVIDENCE_TEXT - used) {
            classify_copy_short(buf + used, ctok_text(tb, i), len); /* mostly a short word */
            used += len;
        } else {
            used += copy_utf8(buf + used, CLASSIFY_EVIDENCE_TEXT - used, ctok_text(tb, i), len);
        }
    }
    buf[used] = '\0';
}

/* Looks up every token and the longest phrase at each position (phrases do
 * not overlap and do not cross punctuation), and marks negation scopes.
 * Not inlined: on its own its loop keeps more in registers (measured). */
/* A hashtag written as one word ("#worstflightever", "#BadCustomerService")
 * that has no entry of its own is split into two to four known words
 * (fewest first, each of 2 to 15 bytes), and takes the entry of its part
 * with the strongest valence, unless a part negates ("#notbad" is left
 * alone). Only an unknown word right after '#' gets here. */
static __attribute__((noinline)) uint32_t
hashtag_entry(const lex_key *keys, size_t mask, const lex_entry *entries, const char *s, size_t n)
{
    enum { MAX_LEN = 40, MAX_PARTS = 4, MIN_PART = 2, MAX_PART = 15, NONE = 255 };
    if (n < 2 * MIN_PART || n > MAX_LEN)
        return LEX_NO_ENTRY;
    uint8_t parts[MAX_LEN + 1], from[MAX_LEN + 1];
    uint32_t idx[MAX_LEN + 1];
    memset(parts, NONE, sizeof parts);
    parts[0] = 0;
    for (size_t j = MIN_PART; j <= n; j++) {
        for (size_t a = j > MAX_PART ? j - MAX_PART : 0; a + MIN_PART <= j; a++) {
            if (parts[a] == NONE || parts[a] + 1 > MAX_PARTS || parts[a] + 1 >= parts[j])
                continue;
            const lex_key *k = lex_key_in(keys, mask, ctok_hash_bytes(s + a, j - a));
            if (!k)
                continue;
            parts[j] = (uint8_t)(parts[a] + 1);
            from[j] = (uint8_t)a;
            idx[j] = k->idx;
        }
    }
    if (parts[n] == NONE || parts[n] < 2)
        return LEX_NO_ENTRY;
    uint32_t best = LEX_NO_ENTRY;
    float strongest = 0;
    for (size_t j = n; j > 0; j = from[j]) {
        if (idx[j] == LEX_NO_ENTRY)
            continue;
        const lex_entry *e = &entries[idx[j]];
        if (e->mod == LEX_MOD_NEGATOR)
            return LEX_NO_ENTRY;
        if (fabsf(e->valence) > strongest) {
            strongest = fabsf(e->valence);
            best = idx[j];
        }
    }
    return best;
}

/* Whether a word of comparison comes in [from, to]. */
static int compared_after(const ctok_buf *tb, size_t from, size_t to)
{
    static const char *const cmp[] = {"better", "best", "than", "as", "more", "else"};
    for (size_t j = from; j <= to && j < tb->n; j++)
        if (ctok_word_in(tb, j, cmp, sizeof cmp / sizeof cmp[0]) >= 0)
            return 1;
    return 0;
}

/* Verbs of opinion whose negation reaches over their clause (analyse),
 * as far as this many tokens. */
static const char *const opinion_verbs[] = {"say", "describe", "think", "consider"};
#define CLASSIFY_OPINION_SCOPE 16

/* Whether the phrase that starts at token j says something good: a thing
 * received ("received my refund", "got my refund"), not a word ("still
 * haven't stopped smiling", "still haven't found a better provider"). */
static int positive_at(const classify_run *run, size_t j)
{
    const lex_entry *p = run_phrase(run, j);
    return p && (p->flags & LEX_F_VALENCE) && p->valence > 0;
}

static __attribute__((noinline)) void analyse(classify_run *run, const ctok_buf *tb,
                                              const lex_table *lex)
{
    const ctok *tok = tb->tok;
    /* kept in locals: the byte stores below could alias them otherwise */
    const lex_key *keys = lex->keys;
    const lex_entry *entries = lex->entries;
    const size_t mask = lex->cap - 1;
    const char *norm = tb->norm;
    const size_t n = tb->n;
    size_t nh = 0, nneg = 0, nstart = 0;
    unsigned has = 0;
    /* '!' in the low half, '?' in the high half: one register less */
    uint64_t marks = 0;
    size_t hashtag_at = SIZE_MAX;         /* the token right after a '#' */
    uint16_t neg[CLASSIFY_MAX_TOKENS];    /* negators, phrases not yet known */
    uint16_t starts[CLASSIFY_MAX_TOKENS]; /* items of lexhit a phrase may begin at */
    for (size_t i = 0; i < n; i++) {
        const ctok *t = &tok[i];
        const lex_entry *e = NULL;
        int32_t row = -1;
        if (t->kind == CTOK_PUNCT) {
            marks += t->n_excl | (uint64_t)t->n_quest << 32;
            if (t->punct == '#')
                hashtag_at = i + 1;
        } else {
            /* one probe gives the word's entry and its intent row; an
             * elongated word ("sooo") is looked up squeezed to one as well */
            const lex_key *k = lex_key_in(keys, mask, t->hash);
            uint32_t idx = LEX_NO_ENTRY;
            if (k) {
                row = k->intent_row;
                idx = k->idx;
            }
            if (idx == LEX_NO_ENTRY && t->hash1 != t->hash) {
                const lex_key *k1 = lex_key_in(keys, mask, t->hash1);
                if (k1)
                    idx = k1->idx;
            }
            if (i == hashtag_at && idx == LEX_NO_ENTRY && t->kind == CTOK_WORD)
                idx = hashtag_entry(keys, mask, entries, norm + t->norm_off, t->norm_len);
            if (idx != LEX_NO_ENTRY) {
                e = &entries[idx];
                has |= e->has;
                run->lexhit[nh] = (uint16_t)i;
                run->hithas[nh] = e->has;
                /* a phrase may begin here only if its second token may
                 * follow (second_sig is 0 unless LEX_F_PHRASE_START) */
                if (e->second_sig && i + 1 < n && (e->second_sig & lex_sig_bit(tok[i + 1].hash)))
                    starts[nstart++] = (uint16_t)nh;
                if (e->mod == LEX_MOD_NEGATOR)
                    neg[nneg++] = (uint16_t)i;
                nh++;
            }
            /* any word in n't negates, in the lexicon or not; tested with &
             * rather than &&, one branch taken only by the words in n't in
             * place of three that mispredict on ordinary words (a word of
             * under three bytes has its first read, within norm) */
            const size_t len = t->norm_len;
            const char *s = norm + t->norm_off + (len >= 3 ? len - 3 : 0);
            if ((len > 3) & (s[2] == 't') & (s[1] == '\'') & (s[0] == 'n') &
                (t->kind == CTOK_WORD)) {
                if (!(e && e->mod == LEX_MOD_NEGATOR))
                    neg[nneg++] = (uint16_t)i;
            }
        }
        run->lex[i] = e;
        run->intent_row[i] = row;
        run->tflags[i] = 0;
    }
    run->n_lexhit = nh;
    memset(run->hithas + nh, 0, 8);
    run->n_excl = (unsigned)(marks & 0xffffffffu);
    run->n_quest = (unsigned)(marks >> 32);
    const size_t maxp = lex->max_phrase < LEX_MAX_PHRASE ? lex->max_phrase : LEX_MAX_PHRASE;
    size_t next = 0;
    for (size_t sk = 0; sk < nstart && maxp >= 2; sk++) {
        const size_t hk = starts[sk];
        const size_t i = run->lexhit[hk];
        const lex_entry *w = run->lex[i];
        if (i < next || tok[i + 1].kind == CTOK_PUNCT)
            continue;
        /* most starts end here: no phrase begins with these two tokens */
        uint64_t acc =
            ctok_phrase_step(ctok_phrase_step(CTOK_PHRASE_SEED, tok[i].hash), tok[i + 1].hash);
        if (!lex_maybe_prefix(lex, acc))
            continue;
        uint64_t h[LEX_MAX_PHRASE + 1];
        size_t avail = 2;
        h[2] = acc;
        /* no phrase that begins with this word is longer than its
         * phrase_max, and none goes on where no phrase begins so */
        const size_t lim = w->phrase_max < maxp ? w->phrase_max : maxp;
        while (avail < lim && i + avail < n && tok[i + avail].kind != CTOK_PUNCT) {
            acc = ctok_phrase_step(acc, tok[i + avail].hash);
            if (!lex_maybe_prefix(lex, acc))
                break;
            h[++avail] = acc;
        }
        for (size_t l = avail; l >= 2; l--) {
            if (!lex_maybe_phrase(lex, h[l]))
                continue;
            const lex_entry *e = lex_key_entry(lex, lex_key_in(keys, mask, h[l]));
            if (e && e->ntok == l) {
                run->phrase[i] = e;
                run->phrase_len[i] = (uint8_t)l;
                run->tflags[i] |= RUN_T_PHRASE;
                for (size_t k = 1; k < l; k++) {
                    run->owner[i + k] = (int16_t)i;
                    run->tflags[i + k] |= RUN_T_INNER;
                }
                has |= e->has;
                run->hithas[hk] |= e->has;
                next = i + l;
                break;
            }
        }
    }
    run->has = has;
    /* negation scope: up to four tokens after a negator outside a phrase,
     * inside its clause, before a contrast word and before the next
     * negator: negations do not stack ("no that didn't help" is an answer
     * and a complaint, not praise) */
    for (size_t k = 0; k < nneg; k++) {
        size_t i = neg[k];
        /* "no one" is an idiom (a complaint of its own) that negates what
         * follows it, as "nobody" does: "no one is able to help me" */
        const int no_one = (run->tflags[i] & RUN_T_PHRASE) && run->phrase_len[i] == 2 &&
                           run_in_idiom(run, i) && i + 1 < n && ctok_is_word(tb, i + 1, "one");
        /* an idiom that ends in a verb's negation negates what follows it
         * too: "I still haven't received my refund" */
        const int idiom_end =
            !no_one && run_in_idiom(run, i) &&
            run_phrase_start(run, i) + run->phrase_len[run_phrase_start(run, i)] == i + 1 &&
            (ctok_is_word(tb, i, "not") || ctok_is_nt(tb, i));
        if (no_one)
            i++;
        else if (run_in_idiom(run, i) && !idiom_end)
            continue;
        /* a negated verb of opinion negates its whole clause: "I wouldn't
         * say the service I received on Tuesday was anything close to
         * good", "I don't think the new app is any good"; until "ever" or
         * "could", which the negation is about: "I don't think I've ever
         * had such good service", "I don't think I could be happier" */
        const int opinion = !no_one && i + 1 < n &&
                            ctok_word_in(tb, i + 1, opinion_verbs,
                                         sizeof opinion_verbs / sizeof opinion_verbs[0]) >= 0;
        const size_t reach = opinion ? CLASSIFY_OPINION_SCOPE : 4;
        size_t end = i + reach < n - 1 ? i + reach : n - 1;
        /* (not in a comparison: "no one does it better", "no one else was
         * as helpful as Sarah") */
        if (no_one && compared_after(tb, i + 1, end))
            continue;
        /* a negator inside a phrase of another file negates within it
         * ("heating not working", "can't cope"), not the words after it */
        if (!no_one && !idiom_end && run_in_phrase(run, i)) {
            const size_t at = run_phrase_start(run, i);
            const size_t last = at + run->phrase_len[at] - 1;
            if (last < end)
                end = last;
        }
        /* (a negator in an idiom counts: "no it is not working") */
        if (k + 1 < nneg && neg[k + 1] <= end)
            end = neg[k + 1] - 1;
        int felt = 0;
        for (size_t j = i + 1; j <= end; j++) {
            /* an emoticon, emoji or hashtag is the writer's own verdict,
             * outside the sentence: "not good :(" is not a happy face,
             * "nothing here #fail" is not a success (right after the
             * negator the tag is what it negates: "not #happy") */
            if ((tok[j].flags & CTOK_F_CLAUSE_END) || tok[j].kind == CTOK_EMOTICON ||
                tok[j].kind == CTOK_EMOJI ||
                (tok[j].kind == CTOK_PUNCT && tok[j].punct == '#' && j > i + 1))
                break;
            /* nor past a contrast or a word that opens a clause of its
             * own: "I'll never understand how stupid that is" */
            const lex_entry *e = run->lex[j];
            if (e && (e->mod == LEX_MOD_CONTRAST_AFTER || e->mod == LEX_MOD_CONTRAST_BEFORE ||
                      e->mod == LEX_MOD_SCOPE_END))
                break;
            if (opinion && (ctok_is_word(tb, j, "ever") || ctok_is_word(tb, j, "could")))
                break;
            /* (past the usual four tokens only up to the first word of
             * feeling: "I don't think it's fair that I was charged twice"
             * negates "fair", not the charge) */
            if (opinion && j > i + 4 && felt)
                break;
            felt |= (run->lex[j] && (run->lex[j]->flags & LEX_F_VALENCE)) ||
                    (run_phrase(run, j) && (run_phrase(run, j)->flags & LEX_F_VALENCE));
            /* (after such an idiom only a good thing received is negated:
             * "still haven't got my money back" is no praise) */
            if (idiom_end && !positive_at(run, j))
                continue;
            run->tflags[j] |= RUN_T_NEGATED;
        }
    }
}

/* The line that starts at p (its leading blanks left out) and, in *end, where
 * it ends (its '\n', or text_end, a '\r' before it left out). */
static const char *line_at(const char *p, const char *text_end, const char **end)
{
    while (p < text_end && (*p == ' ' || *p == '\t'))
        p++;
    const char *e = p < text_end ? memchr(p, '\n', (size_t)(text_end - p)) : NULL;
    if (!e)
        e = p < text_end ? text_end : p;
    if (e > p && e[-1] == '\r')
        e--;
    *end = e;
    return p;
}

/* Whether the line at [s, end) starts with prefix, ASCII case ignored. */
static int line_starts(const char *s, const char *end, const char *prefix)
{
    const size_t k = strlen(prefix);
    return (size_t)(end - s) >= k && strncasecmp(s, prefix, k) == 0;
}

/* Whether the line at [s, end), trailing spaces left out, ends with suffix. */
static int line_ends(const char *s, const char *end, const char *suffix)
{
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    const size_t k = strlen(suffix);
    return (size_t)(end - s) >= k && memcmp(end - k, suffix, k) == 0;
}

/* Whether the line at [s, end) begins what an e-mail carries below the
 * customer's own words: the quoted history ("> ...", "On Tue, ... wrote:",
 * "-----Original Message-----", an Outlook "From: ... Sent:" block), a
 * signature ("-- ", "Sent from my iPhone") or a disclaimer. */
static int below_the_message(const char *s, const char *end, const char *text_end)
{
    static const char *const starts[] = {
        ">",
        "-----original message",
        "----- original message",
        "-------- original message",
        "----- forwarded message",
        "---------- forwarded message",
        "sent from my ",
        "get outlook for ",
        "this email and any ",
        "this e-mail and any ",
        "this message and any attachments",
        "this email is confidential",
        "this e-mail is confidential",
        "confidentiality notice",
        "disclaimer:",
    };
    for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++)
        if (line_starts(s, end, starts[k]))
            return 1;
    if ((end - s == 2 || end - s == 3) && s[0] == '-' && s[1] == '-' &&
        (end - s == 2 || s[2] == ' '))
        return 1; /* the signature delimiter */
    if (line_starts(s, end, "on ") &&
        (line_ends(s, end, "wrote:") || line_ends(s, end, "schrieb:") ||
         line_ends(s, end, "escribi\xc3\xb3:") ||
         line_ends(s, end,
                   "\xc3\xa9"
                   "crit :") ||
         line_ends(s, end,
                   "\xc3\xa9"
                   "crit:")))
        return 1;
    /* an Outlook header: "From:" and, within three lines, "Sent:", or
     * "Date:" when the sender is an address (not a customer's "From: London
     * Euston / To: Glasgow / Date: 12 May") */
    if (line_starts(s, end, "from:")) {
        const int address = memchr(s, '@', (size_t)(end - s)) != NULL;
        const char *p = end;
        for (int n = 0; n < 3 && p < text_end; n++) {
            if (*p == '\r')
                p++;
            if (p >= text_end)
                break;
            const char *qe;
            const char *q = line_at(p + 1, text_end, &qe);
            if (line_starts(q, qe, "sent:") || (address && line_starts(q, qe, "date:")))
                return 1;
            p = qe;
        }
    }
    return 0;
}

/* The length of what the customer wrote in a text that may carry an
 * e-mail's quoted history, signature or disclaimer below it: the company's
 * own reply quoted back ("threats such as 'I will kill you' will be
 * reported"), an advert in it or a footer are not the customer's words,
 * needs or preferences. A text whose every line is such stays whole. Only
 * a text with a line break is looked at. */
static size_t own_words_len(const char *text, size_t len)
{
    const char *end = text + len;
    for (const char *nl = memchr(text, '\n', len); nl;
         nl = memchr(nl + 1, '\n', (size_t)(end - nl - 1))) {
        const char *e;
        const char *s = line_at(nl + 1, end, &e);
        if (below_the_message(s, e, end)) {
            for (const char *p = text; p < nl; p++)
                if ((unsigned char)*p > ' ')
                    return (size_t)(nl - text);
            return len;
        }
        if (nl + 1 >= end)
            break;
    }
    return len;
}

/* Speakers of a transcript sent whole: "Agent: how can I help? Customer:
 * my internet is down". */
enum { SPEAKER_NONE = 0, SPEAKER_AGENT, SPEAKER_CUSTOMER };

/* The speaker whose label ends at the ':' at colon ("Agent:", "[00:01:02]
 * Caller:", "rep:"), a word alone after the start, a space, a line break,
 * ']' or ')'; *label_start: where the label begins. */
static int speaker_label(const char *text, const char *colon, const char **label_start)
{
    static const char *const agents[] = {"agent",     "advisor",  "adviser",        "rep",
                                         "operator",  "csr",      "representative", "bot",
                                         "assistant", "associate"};
    static const char *const customers[] = {"customer", "caller", "client", "user", "member"};
    const char *w = colon;
    while (w > text && colon - w < 15 && ((w[-1] | 0x20) >= 'a' && (w[-1] | 0x20) <= 'z'))
        w--;
    const size_t n = (size_t)(colon - w);
    if (n < 3 || (w > text && w[-1] != ' ' && w[-1] != '\n' && w[-1] != '\r' && w[-1] != '\t' &&
                  w[-1] != ']' && w[-1] != ')'))
        return SPEAKER_NONE;
    char word[16];
    for (size_t k = 0; k < n; k++)
        word[k] = (char)(w[k] | 0x20);
    word[n] = '\0';
    *label_start = w;
    for (size_t k = 0; k < sizeof agents / sizeof agents[0]; k++)
        if (strcmp(word, agents[k]) == 0)
            return SPEAKER_AGENT;
    for (size_t k = 0; k < sizeof customers / sizeof customers[0]; k++)
        if (strcmp(word, customers[k]) == 0)
            return SPEAKER_CUSTOMER;
    return SPEAKER_NONE;
}

/* A transcript of both speakers, labelled, is read as the customer's
 * turns only (the agent's "I'm so sorry for the wait" is no apology of the
 * customer's, a script's "calls may be recorded" no preference): copies
 * them into out (len bytes or more), one turn a line, and returns their
 * length; 0 when the text does not label both an agent and a customer. */
static size_t customer_turns(const char *text, size_t len, char *out)
{
    const char *end = text + len, *from = NULL;
    int speaker = SPEAKER_NONE, agents = 0, customers = 0;
    size_t o = 0;
    for (const char *p = memchr(text, ':', len); p; p = memchr(p + 1, ':', (size_t)(end - p - 1))) {
        const char *label = NULL;
        const int who = speaker_label(text, p, &label);
        if (who != SPEAKER_NONE) {
            if (speaker == SPEAKER_CUSTOMER && from) {
                memcpy(out + o, from, (size_t)(label - from));
                o += (size_t)(label - from);
                out[o++] = '\n';
            }
            speaker = who;
            from = p + 1;
            agents += who == SPEAKER_AGENT;
            customers += who == SPEAKER_CUSTOMER;
        }
        if (p + 1 >= end)
            break;
    }
    if (!agents || !customers)
        return 0;
    if (speaker == SPEAKER_CUSTOMER && from) {
        memcpy(out + o, from, (size_t)(end - from));
        o += (size_t)(end - from);
    }
    return o;
}

attune_err classify_text(const classify *c, const char *text, size_t len,
                         const classify_context *ctx, classify_result *out)
{
    if (!c || !out || (!text && len > 0))
        return ATTUNE_ERR_INVALID;
    /* only what a stage may leave unwritten: the strings of a preference
     * not stated and of the intent without a model (their first byte), the
     * intent's confidences, and the evidence count; every other field is
     * always written by its stage, and only the first n_evidence items of
     * the evidence are ever read */
    out->intent.label[0] = out->intent.second[0] = '\0';
    out->intent.confidence = out->intent.second_confidence = 0;
    out->intent.no_need = 0;
    out->preferences.channel[0] = out->preferences.avoid_channel[0] = '\0';
    out->preferences.contact_time[0] = out->preferences.language[0] = '\0';
    out->preferences.pace[0] = '\0';
    out->preferences.for_now = 0;
    out->n_evidence = 0;
    ctok_buf tb;
    classify_run run;
    const size_t read = len > CLASSIFY_MAX_TEXT ? CLASSIFY_MAX_TEXT : len;
    /* the customer's turns of a labelled transcript (no longer than the
     * text: each line break stands for a label of 4 bytes or more) */
    char turns[CLASSIFY_MAX_TEXT];
    const size_t said = read > 0 && memchr(text, ':', read) ? customer_turns(text, read, turns) : 0;
    if (said > 0) {
        text = turns;
        len = said;
    } else if (read > 0 && memchr(text, '\n', read)) {
        const size_t own = own_words_len(text, read);
        if (own < read)
            len = own;
    }
    ctok_run(text, len, &tb);
    run.c = c;
    run.tb = &tb;
    run.r = out;
    run.clause_w_mode = RUN_CLAUSE_NONE;
    run.sent_sum = run.neg_sum = run.pos_sum = run.fault_sum = 0;
    run.sent_hits = 0;
    run.n_persist = run.n_profanity = run.n_urgency_cues = 0;
    run.threat_weapon = run.abuse_addressed = run.quotes_marked = run.threat_unmade = 0;
    run.n_intent_ev = 0;
    out->n_tokens = (unsigned)tb.n;
    out->truncated = tb.truncated;
    analyse(&run, &tb, &c->lex);
    if (c->has_intent)
        classify_intent_prefetch(&run);
    classify_sentiment(&run);
    classify_rule_stages(&run, ctx);
    classify_intent_evidence(&run);
    if (c->has_intent)
        classify_intent_carry(&run, ctx ? ctx->contact_intent : "");
    return ATTUNE_OK;
}

/* --- JSON without a tree --------------------------------------------- */

/* The writer appends to a fixed buffer and only remembers that something
 * did not fit. Keys are written as literals with their punctuation, so most
 * of a line is a handful of constant-size copies. */
typedef struct {
    char *p;
    size_t left;
    int fail;
} jw;

static inline void jw_raw(jw *w, const char *s, size_t n)
{
    if (w->fail || n >= w->left) {
        w->fail = 1;
        return;
    }
    memcpy(w->p, s, n);
    w->p += n;
    w->left -= n;
}

/* A string literal, its length known at compile time. */
#define JW_LIT(w, lit) jw_raw((w), (lit), sizeof(lit) - 1)

static void jw_str(jw *w, const char *s)
{
    size_t n = w->fail ? 0 : json_write_string(w->p, w->left, s);
    if (n == 0 || n >= w->left) {
        w->fail = 1;
        return;
    }
    w->p += n;
    w->left -= n;
}

/* Writes d (already rounded to four decimals) as printf's "%.4g" does, for
 * |d| < 1000, without printf: a result has about twenty numbers, and
 * printf's exact decimal conversion took a quarter of --batch's time.
 * Returns the length, or 0 when the caller must use printf. */
static size_t fmt_4g(double d, char *b)
{
    double a = fabs(d);
    if (!(a < 1000.0))
        return 0;
    /* a is u / 10^4 up to its binary error (u < 10^7); four significant
     * digits keep dec decimals of it, so the last 4 - dec digits of u go */
    uint32_t u = (uint32_t)llround(a * 10000.0);
    int dec;
    uint32_t q, r, half;
    if (a >= 100.0) {
        dec = 1, q = u / 1000, r = u % 1000, half = 500;
    } else if (a >= 10.0) {
        dec = 2, q = u / 100, r = u % 100, half = 50;
    } else if (a >= 1.0) {
        dec = 3, q = u / 10, r = u % 10, half = 5;
    } else {
        dec = 4, q = u, r = 0, half = 1; /* nothing dropped */
    }
    if (r > half) {
        q++;
    } else if (r == half) {
        /* a decimal tie: the binary value decides, as it does for printf;
         * fma gives the sign of a * 10^4 - u exactly, and an exact tie
         * goes to the even digit */
        double e = fma(a, 10000.0, -(double)u);
        if (e > 0 || (e == 0 && (q & 1)))
            q++;
    }
    /* q holds the digits with dec decimals; trailing zeros go */
    static const uint32_t p10[5] = {1, 10, 100, 1000, 10000};
    uint32_t ip = q / p10[dec], frac = q % p10[dec];
    int fd = dec;
    while (fd > 0 && frac % 10 == 0) {
        frac /= 10;
        fd--;
    }
    size_t n = 0;
    if (signbit(d))
        b[n++] = '-'; /* printf writes "-0" for a negative zero too */
    char digits[12];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip > 0);
    while (nd > 0)
        b[n++] = digits[--nd];
    if (fd > 0) {
        b[n++] = '.';
        for (int i = fd - 1; i >= 0; i--)
            b[n++] = (char)('0' + (frac / p10[i]) % 10);
    }
    b[n] = '\0';
    return n;
}

/* The common case of fmt_4g, |v| * 10^4 rounding below 10^4 (scores,
 * confidences, weights under one): "0." and at most four digits, with no
 * libm call. Returns 0 when fmt_4g must decide. */
static size_t fmt_small(float v, char *b)
{
    double x = (double)v * 10000.0, a = fabs(x);
    if (!(a < 9999.5))
        return 0;
    /* round half away from zero, as round() does: a - trunc(a) is exact */
    uint32_t u = (uint32_t)a;
    u += a - (double)u >= 0.5;
    size_t n = 0;
    if (signbit(x))
        b[n++] = '-';
    b[n++] = '0';
    if (u == 0)
        return n;
    b[n++] = '.';
    char d[4] = {(char)('0' + u / 1000), (char)('0' + u / 100 % 10), (char)('0' + u / 10 % 10),
                 (char)('0' + u % 10)};
    int nd = 4;
    while (d[nd - 1] == '0')
        nd--;
    memcpy(b + n, d, (size_t)nd);
    return n + (size_t)nd;
}

static void jw_num(jw *w, float v)
{
    char b[32];
    size_t fn = fmt_small(v, b);
    if (fn) {
        jw_raw(w, b, fn);
        return;
    }
    double d = round((double)v * 10000.0) / 10000.0;
    if (!isfinite(d))
        d = 0;
    fn = fmt_4g(d, b);
    if (fn) {
        jw_raw(w, b, fn);
        return;
    }
    int n = snprintf(b, sizeof b, "%.4g", d);
    jw_raw(w, b, n > 0 ? (size_t)n : 0);
}

/* Names written as they are, with the punctuation around them: every one
 * is a literal of this file or a label that needs no escaping. */
static const char *const polarity_json[] = {"\"negative\"", "\"neutral\"", "\"positive\""};
static const char *const emotion_keys[CLASSIFY_EMO_COUNT] = {
    "\"anger\":", ",\"fear\":", ",\"sadness\":", ",\"confusion\":", ",\"joy\":", ",\"neutral\":"};
static const char *const ev_kind_names[] = {"sentiment", "emotion", "intent",
                                            "urgency",   "threat",  "preference"};

static void jw_name(jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

size_t classify_result_write_json(const classify_result *r, char *buf, size_t size)
{
    if (!r || !buf || size == 0)
        return 0;
    jw w = {buf, size, 0};
    JW_LIT(&w, "{\"sentiment\":{\"score\":");
    jw_num(&w, r->sentiment.score);
    JW_LIT(&w, ",\"label\":");
    unsigned pl = (unsigned)r->sentiment.label;
    jw_name(&w, pl == CLASSIFY_NEGATIVE   ? polarity_json[0]
                : pl == CLASSIFY_POSITIVE ? polarity_json[2]
                                          : polarity_json[1]);
    JW_LIT(&w, ",\"confidence\":");
    jw_num(&w, r->sentiment.confidence);
    JW_LIT(&w, "},\"emotion\":{\"scores\":{");
    for (int i = 0; i < CLASSIFY_EMO_COUNT; i++) {
        jw_name(&w, emotion_keys[i]);
        jw_num(&w, r->emotion.scores[i]);
    }
    JW_LIT(&w, "},\"label\":");
    jw_str(&w, classify_emotion_name(r->emotion.label));
    JW_LIT(&w, ",\"confidence\":");
    jw_num(&w, r->emotion.confidence);
    JW_LIT(&w, "},\"intent\":{");
    if (r->intent.label[0]) {
        JW_LIT(&w, "\"label\":");
        jw_str(&w, r->intent.label);
        JW_LIT(&w, ",\"confidence\":");
        jw_num(&w, r->intent.confidence);
        if (r->intent.second[0]) {
            JW_LIT(&w, ",\"second\":");
            jw_str(&w, r->intent.second);
            JW_LIT(&w, ",\"second_confidence\":");
            jw_num(&w, r->intent.second_confidence);
        }
        if (r->intent.no_need)
            JW_LIT(&w, ",\"no_need\":true");
    } else {
        JW_LIT(&w, "\"label\":null,\"confidence\":0");
    }
    JW_LIT(&w, "},\"urgency\":{\"score\":");
    jw_num(&w, r->urgency.score);
    JW_LIT(&w, ",\"level\":");
    jw_str(&w, classify_urgency_name(r->urgency.level));
    JW_LIT(&w, ",\"effort\":");
    jw_num(&w, r->urgency.effort);
    JW_LIT(&w, ",\"confidence\":");
    jw_num(&w, r->urgency.confidence);
    if (r->urgency.vulnerable)
        JW_LIT(&w, ",\"vulnerable\":true");
    else
        JW_LIT(&w, ",\"vulnerable\":false");
    JW_LIT(&w, "},\"threat\":{\"level\":");
    jw_str(&w, classify_threat_name(r->threat.level));
    JW_LIT(&w, ",\"confidence\":");
    jw_num(&w, r->threat.confidence);
    JW_LIT(&w, "},\"preferences\":{\"politeness\":");
    jw_num(&w, r->preferences.politeness);
    const struct {
        const char *key;
        const char *value;
    } prefs[] = {
        {",\"channel\":", r->preferences.channel},
        {",\"avoid_channel\":", r->preferences.avoid_channel},
        {",\"contact_time\":", r->preferences.contact_time},
        {",\"language\":", r->preferences.language},
        {",\"pace\":", r->preferences.pace},
    };
    for (size_t i = 0; i < sizeof prefs / sizeof prefs[0]; i++) {
        if (prefs[i].value[0]) {
            jw_name(&w, prefs[i].key);
            jw_str(&w, prefs[i].value);
        }
    }
    if (r->preferences.for_now) {
        static const char *const now_names[] = {"channel", "avoid_channel", "contact_time"};
        const char *sep = ",\"for_now\":[";
        for (unsigned b = 0; b < 3; b++) {
            if (r->preferences.for_now & (1u << b)) {
                jw_name(&w, sep);
                jw_str(&w, now_names[b]);
                sep = ",";
            }
        }
        JW_LIT(&w, "]");
    }
    JW_LIT(&w, "},\"evidence\":[");
    for (unsigned i = 0; i < r->n_evidence && i < CLASSIFY_MAX_EVIDENCE; i++) {
        const classify_evidence *x = &r->evidence[i];
        if (i)
            JW_LIT(&w, ",");
        JW_LIT(&w, "{\"for\":\"");
        jw_name(&w, (unsigned)x->kind < 6 ? ev_kind_names[x->kind] : "other");
        JW_LIT(&w, "\",\"rule\":");
        jw_str(&w, x->rule ? x->rule : "");
        JW_LIT(&w, ",\"text\":");
        jw_str(&w, x->text);
        JW_LIT(&w, ",\"weight\":");
        jw_num(&w, x->weight);
        JW_LIT(&w, "}");
    }
    JW_LIT(&w, "]");
    if (r->truncated)
        JW_LIT(&w, ",\"truncated\":true");
    JW_LIT(&w, "}");
    if (w.fail || w.left == 0)
        return 0;
    *w.p = '\0';
    return size - w.left;
}

/* --- context and batch lines ---------------------------------------------- */

static attune_err read_count(const cJSON *obj, const char *name, int *out, char *errstr,
                             size_t errstr_size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v))
        return ATTUNE_OK;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1e6)
        return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size,
                           "%s must be a number in [0, 1000000]", name);
    *out = (int)v->valuedouble;
    return ATTUNE_OK;
}

/* wait_seconds and channel may sit in the context or on the line itself. */
static attune_err read_wait_channel(const cJSON *obj, classify_context *ctx, char *errstr,
                                    size_t errstr_size)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(obj, "wait_seconds");
    if (w && !cJSON_IsNull(w)) {
        if (!cJSON_IsNumber(w) || !(w->valuedouble >= 0) || w->valuedouble > 1e7)
            return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size,
                               "wait_seconds must be a number in [0, 10000000]");
        ctx->wait_seconds = w->valuedouble;
    }
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(obj, "channel");
    if (ch && !cJSON_IsNull(ch)) {
        if (!cJSON_IsString(ch))
            return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "channel must be a string");
        ctx->channel = classify_channel_parse(ch->valuestring);
    }
    return ATTUNE_OK;
}

attune_err classify_context_from_json(const cJSON *json, classify_context *ctx, char *errstr,
                                      size_t errstr_size)
{
    if (!ctx)
        return ATTUNE_ERR_INVALID;
    /* filled anew: what this json does not say is unknown, never what an
     * earlier event said (a service reuses one ctx per event) */
    classify_context_init(ctx);
    if (!json || cJSON_IsNull(json))
        return ATTUNE_OK;
    if (!cJSON_IsObject(json))
        return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "context must be an object");
    /* (read by the stages after this one; a wrong type is refused here
     * rather than read as absent) */
    const cJSON *profile = cJSON_GetObjectItemCaseSensitive(json, "profile");
    if (profile && !cJSON_IsNull(profile) && !cJSON_IsObject(profile))
        return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size,
                           "context.profile must be an object");
    const cJSON *recent = cJSON_GetObjectItemCaseSensitive(json, "recent");
    if (recent && !cJSON_IsNull(recent) && !cJSON_IsArray(recent))
        return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size,
                           "context.recent must be an array");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(json, "status");
    if (st && !cJSON_IsNull(st)) {
        if (!cJSON_IsString(st))
            return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size,
                               "context.status must be a string");
        if (strcmp(st->valuestring, "ok") == 0)
            ctx->known_customer = 1;
        else if (strcmp(st->valuestring, "unknown_customer") == 0)
            ctx->known_customer = 0;
        else
            ctx->known_customer = -1;
    }
    attune_err err = read_count(json, "contacts_24h", &ctx->contacts_24h, errstr, errstr_size);
    if (!err)
        err = read_count(json, "contacts_7d", &ctx->contacts_7d, errstr, errstr_size);
    if (!err)
        err = read_wait_channel(json, ctx, errstr, errstr_size);
    return err;
}

attune_err classify_batch_parse_line(const char *line, size_t len, classify_batch_item *item,
                                     cJSON **id_out, char *errstr, size_t errstr_size)
{
    if (id_out)
        *id_out = NULL;
    if (!item)
        return ATTUNE_ERR_INVALID;
    memset(item, 0, sizeof *item);
    classify_context_init(&item->ctx);
    if (!line)
        return attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "no line");
    if (len > CLASSIFY_BATCH_MAX_LINE)
        return attune_errf(ATTUNE_ERR_LIMIT, errstr, errstr_size, "line longer than %d bytes",
                           CLASSIFY_BATCH_MAX_LINE);
    cJSON *root = NULL;
    attune_err err = json_parse(line, len, CLASSIFY_BATCH_MAX_DEPTH, &root, errstr, errstr_size);
    if (err)
        return err;
    const cJSON *id = NULL;
    if (!cJSON_IsObject(root)) {
        err = attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "line must be a JSON object");
        goto fail;
    }
    id = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (id && !cJSON_IsString(id) && !(cJSON_IsNumber(id) && isfinite(id->valuedouble))) {
        id = NULL;
        err = attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size,
                          "id must be a string or a finite number");
        goto fail;
    }
    const cJSON *iid = cJSON_GetObjectItemCaseSensitive(root, "interaction_id");
    if (iid && !cJSON_IsNull(iid) && !cJSON_IsString(iid)) {
        err =
            attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "interaction_id must be a string");
        goto fail;
    }
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "text");
    /* an interaction of a kind that has no text (attune-sim's events: a
     * call's "started", "ended", an IVR step) may lack it; a batch line,
     * a message or a transcript must have one */
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    const int may_lack =
        (!text || cJSON_IsNull(text)) && cJSON_IsString(kind) &&
        (strcmp(kind->valuestring, "started") == 0 || strcmp(kind->valuestring, "ended") == 0 ||
         strcmp(kind->valuestring, "ivr_step") == 0);
    if (!may_lack && (!text || !cJSON_IsString(text) || !text->valuestring)) {
        err = attune_errf(ATTUNE_ERR_INVALID, errstr, errstr_size, "text must be a string");
        goto fail;
    }
    err = classify_context_from_json(cJSON_GetObjectItemCaseSensitive(root, "context"), &item->ctx,
                                     errstr, errstr_size);
    if (!err)
        err = read_wait_channel(root, &item->ctx, errstr, errstr_size);
    if (err)
        goto fail;
    classify_context_contact(&item->ctx, root);
    item->root = root;
    item->id = id;
    item->text = may_lack ? "" : text->valuestring;
    item->text_len = strlen(item->text);
    return ATTUNE_OK;
fail:
    /* the error line names the input: its id outlives the tree */
    if (id && id_out)
        *id_out = cJSON_Duplicate(id, 1);
    cJSON_Delete(root);
    return err;
}

void classify_batch_item_fini(classify_batch_item *item)
{
    if (!item)
        return;
    cJSON_Delete(item->root);
    memset(item, 0, sizeof *item);
}

/* The tree is parsed from the writer's text, so the two forms can never
 * disagree. */
attune_err classify_result_to_json(const classify_result *r, cJSON **out)
{
    if (!out)
        return ATTUNE_ERR_INVALID;
    *out = NULL;
    if (!r)
        return ATTUNE_ERR_INVALID;
    char *buf = malloc(CLASSIFY_JSON_MAX);
    if (!buf)
        return ATTUNE_ERR_NOMEM;
    size_t n = classify_result_write_json(r, buf, CLASSIFY_JSON_MAX);
    *out = n ? cJSON_ParseWithLength(buf, n) : NULL;
    free(buf);
    return *out ? ATTUNE_OK : ATTUNE_ERR_NOMEM;
}
