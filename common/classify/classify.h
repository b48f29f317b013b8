/* classify: the situation and sentiment classifier of attune, a pure C
 * library (no I/O after start-up) shared by attune-classify, the offline
 * tools and the tests.
 *
 * Ownership in one sentence: a classify object owns everything it loaded and
 * is read-only after classify_new(), so any number of threads may call
 * classify_text() on the same object at once; results are plain caller-owned
 * structs with no pointers into the input or the classifier, and the cJSON
 * tree from classify_result_to_json() belongs to the caller (cJSON_Delete).
 *
 * Start-up reads the data directory (lexicons, idioms, rules: see
 * docs/classifier.md) and an intent model; classify_text() allocates nothing:
 * its scratch space (about 190 KiB) lives on the caller's stack, so a
 * thread that calls it needs a stack of 512 KiB or more (the default of
 * glibc is 8 MiB). */
#ifndef ATTUNE_CLASSIFY_H
#define ATTUNE_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

/* Bytes of text looked at; the rest is ignored and result.truncated is set.
 * The opening of a message carries the situation, and the cap bounds both
 * time and the stack. */
#define CLASSIFY_MAX_TEXT 8192
/* Tokens kept from one text (after the byte cap). */
#define CLASSIFY_MAX_TOKENS 2048
/* Evidence items kept per result; the strongest survive. */
#define CLASSIFY_MAX_EVIDENCE 24
/* Bytes (with NUL) of the text of one evidence item; longer spans are cut at
 * a UTF-8 boundary. */
#define CLASSIFY_EVIDENCE_TEXT 48
/* Bytes (with NUL) of a label or preference value. */
#define CLASSIFY_LABEL_MAX 64
/* Intent labels a model may have. */
#define CLASSIFY_MAX_INTENTS 128

typedef struct classify classify;

typedef enum {
    CLASSIFY_NEGATIVE = 0,
    CLASSIFY_NEUTRAL,
    CLASSIFY_POSITIVE,
} classify_polarity;

/* Emotions in the order of classify_result.emotion.scores. */
typedef enum {
    CLASSIFY_EMO_ANGER = 0, /* incl. annoyance, frustration */
    CLASSIFY_EMO_FEAR,      /* incl. anxiety, worry */
    CLASSIFY_EMO_SADNESS,   /* incl. disappointment */
    CLASSIFY_EMO_CONFUSION,
    CLASSIFY_EMO_JOY, /* incl. gratitude, relief */
    CLASSIFY_EMO_NEUTRAL,
    CLASSIFY_EMO_COUNT
} classify_emotion;

typedef enum {
    CLASSIFY_URGENCY_LOW = 0,
    CLASSIFY_URGENCY_NORMAL,
    CLASSIFY_URGENCY_HIGH,
    CLASSIFY_URGENCY_CRITICAL,
} classify_urgency_level;

typedef enum {
    CLASSIFY_THREAT_NONE = 0,
    CLASSIFY_THREAT_PROFANITY, /* swearing, not aimed at a person */
    CLASSIFY_THREAT_ABUSE,     /* insults, harassment or slurs aimed at staff */
    CLASSIFY_THREAT_THREAT,    /* threat of violence or harm */
} classify_threat_level;

typedef enum {
    CLASSIFY_CHANNEL_UNKNOWN = 0,
    CLASSIFY_CHANNEL_VOICE,
    CLASSIFY_CHANNEL_CHAT,
    CLASSIFY_CHANNEL_EMAIL,
    CLASSIFY_CHANNEL_SMS,
    CLASSIFY_CHANNEL_SOCIAL,
    CLASSIFY_CHANNEL_WEB,
    CLASSIFY_CHANNEL_IVR,
} classify_channel;

/* Preference members, as bits of classify_result.preferences.for_now. */
enum {
    CLASSIFY_PREF_CHANNEL = 1,
    CLASSIFY_PREF_AVOID_CHANNEL = 2,
    CLASSIFY_PREF_CONTACT_TIME = 4,
};

/* The confidence of an intent a line keeps from its contact. */
#define CLASSIFY_CARRY_CONFIDENCE 0.5f

/* What is known about the contact besides its text. A negative number means
 * "not known"; classify_context_init() sets every field so. */
typedef struct {
    double wait_seconds;
    int contacts_24h;
    int contacts_7d;
    classify_channel channel;
    int known_customer; /* 1 ok, 0 unknown_customer, -1 unavailable/absent */
    /* the intent an earlier line of the same contact was read with (its
     * record in context.recent), "" when none: a line that names no need
     * of its own ("yes", "I did.", "my account number is 4471") keeps it */
    char contact_intent[CLASSIFY_LABEL_MAX];
} classify_context;

/* One reason behind a label: the kind of output it fed, the rule that fired
 * and the text (normalised) that fired it. */
typedef enum {
    CLASSIFY_EV_SENTIMENT = 0,
    CLASSIFY_EV_EMOTION,
    CLASSIFY_EV_INTENT,
    CLASSIFY_EV_URGENCY,
    CLASSIFY_EV_THREAT,
    CLASSIFY_EV_PREFERENCE,
} classify_evidence_kind;

typedef struct {
    classify_evidence_kind kind;
    const char *rule; /* static string, e.g. "lexicon", "negation", "idiom" */
    char text[CLASSIFY_EVIDENCE_TEXT];
    float weight; /* signed contribution on the output's own scale */
} classify_evidence;

typedef struct {
    struct {
        float score; /* [-1, 1] */
        classify_polarity label;
        float confidence; /* [0, 1] */
    } sentiment;
    struct {
        float scores[CLASSIFY_EMO_COUNT]; /* each [0, 1], summing to 1 */
        classify_emotion label;
        float confidence;
    } emotion;
    struct {
        char label[CLASSIFY_LABEL_MAX]; /* "" when no model is loaded */
        float confidence;               /* probability-like, [0, 1] */
        char second[CLASSIFY_LABEL_MAX];
        float second_confidence;
        /* the line names no need of its own ("yes", "I did.", at most six
         * words read other or under 0.7): its contact's intent applies,
         * with CLASSIFY_CARRY_CONFIDENCE (classify_context.contact_intent
         * here; attune-decide where that was not known yet) */
        int no_need;
    } intent;
    struct {
        float score; /* [0, 1] */
        classify_urgency_level level;
        float effort; /* [0, 1]: repeat contacts, waits, "third time" */
        float confidence;
        /* the text names a vulnerability (bereaved, ill, disabled, elderly,
         * a baby, hardship, not coping): care, not haste */
        int vulnerable;
    } urgency;
    struct {
        classify_threat_level level;
        float confidence;
    } threat;
    struct {
        /* Empty strings when the text states no such preference. */
        char channel[CLASSIFY_LABEL_MAX];       /* email, voice, sms, chat, post */
        char avoid_channel[CLASSIFY_LABEL_MAX]; /* "don't call me" -> voice */
        char contact_time[CLASSIFY_LABEL_MAX];  /* "after 17:00", "morning" */
        char language[CLASSIFY_LABEL_MAX];      /* ISO 639-1 code */
        char pace[CLASSIFY_LABEL_MAX];          /* brief, slow, detailed */
        float politeness;                       /* [0, 1] */
        /* CLASSIFY_PREF_* of the members above that ask for this contact
         * only ("ring me back", "I can't talk right now", "call me
         * tomorrow"): the decision follows them, the memory keeps none */
        unsigned for_now;
    } preferences;
    unsigned n_tokens;
    int truncated; /* the text was longer than CLASSIFY_MAX_TEXT or had too many tokens */
    unsigned n_evidence;
    /* the first n_evidence items; the rest are left as they were */
    classify_evidence evidence[CLASSIFY_MAX_EVIDENCE];
} classify_result;

typedef struct {
    /* Directory with the lexicon files; required. */
    const char *data_dir;
    /* Intent model file; NULL means <data_dir>/intent.model. An empty string
     * means "no intent model" (intent.label stays ""). */
    const char *intent_model;
} classify_options;

/* Loads the data directory and the intent model. On success *out belongs to
 * the caller (classify_free). On failure *out is NULL and errstr says which
 * file and line was wrong. */
ATTUNE_MUST_CHECK attune_err classify_new(const classify_options *opts, classify **out,
                                          char *errstr, size_t errstr_size);

/* NULL is a no-op. */
void classify_free(classify *c);

/* The data directory: given (a --data-dir), else $ATTUNE_DATA_DIR, else
 * <directory of the executable>/../../deploy/data when it exists, else
 * /usr/share/attune/data. Returns 0, or -1 when buf is too small. */
int classify_data_dir(const char *given, char *buf, size_t size);

/* Sets every context field to "not known". */
void classify_context_init(classify_context *ctx);

/* Classifies len bytes of text (need not be NUL-terminated; invalid UTF-8 is
 * replaced, never rejected). ctx may be NULL. Never allocates; safe to call
 * concurrently on one classifier. Fails only on NULL arguments. */
ATTUNE_MUST_CHECK attune_err classify_text(const classify *c, const char *text, size_t len,
                                           const classify_context *ctx, classify_result *out);

/* Builds {"sentiment":{...},"emotion":{...},"intent":{...},"urgency":{...},
 * "threat":{...},"preferences":{...},"evidence":[...]} ; *out belongs to the
 * caller (cJSON_Delete). */
ATTUNE_MUST_CHECK attune_err classify_result_to_json(const classify_result *r, cJSON **out);

/* Writes the same object as classify_result_to_json, as compact JSON text,
 * into buf without building a tree (the fast path of --batch and the
 * service). Returns the length written (NUL excluded), or 0 when size is
 * too small (CLASSIFY_JSON_MAX always suffices). */
#define CLASSIFY_JSON_MAX 8192
size_t classify_result_write_json(const classify_result *r, char *buf, size_t size);

/* Reads an enriched event's context object ({"status", "contacts_24h",
 * "contacts_7d", "wait_seconds", "channel", ...}) into ctx, which it first
 * resets (classify_context_init): what json does not say is unknown.
 * Unknown members are ignored, wrong types are an error. json may be NULL
 * (nothing known). */
ATTUNE_MUST_CHECK attune_err classify_context_from_json(const cJSON *json, classify_context *ctx,
                                                        char *errstr, size_t errstr_size);

/* Sets ctx->contact_intent from an event's data: the intent of the record
 * in data.context.recent whose interaction_id is the event's own (an
 * earlier line of the same contact), "" when there is none. */
void classify_context_contact(classify_context *ctx, const cJSON *data);

/* Names for the enums, static strings. */
const char *classify_polarity_name(classify_polarity p);
const char *classify_emotion_name(classify_emotion e);
const char *classify_urgency_name(classify_urgency_level l);
const char *classify_threat_name(classify_threat_level l);
const char *classify_channel_name(classify_channel ch);
/* Parses "voice", "chat", ... ; unknown names give CLASSIFY_CHANNEL_UNKNOWN. */
classify_channel classify_channel_parse(const char *name);

/* Intent labels of the loaded model (0 when none); the strings live as long
 * as c. */
size_t classify_intent_count(const classify *c);
const char *classify_intent_label(const classify *c, size_t i);

/* --- batch lines ---------------------------------------------------------
 * One input line of `attune-classify --batch`:
 * {"id": string|number, "text": string, "context": {...}, "wait_seconds": n,
 *  "channel": s}. Lines are capped at CLASSIFY_BATCH_MAX_LINE bytes and
 * CLASSIFY_BATCH_MAX_DEPTH levels of nesting, and read as strictly as the
 * services read records (json_parse: UTF-8, no NUL, no repeated member
 * name), so that a line classifies as its event would. */
#define CLASSIFY_BATCH_MAX_LINE 65536
#define CLASSIFY_BATCH_MAX_DEPTH 16

typedef struct {
    cJSON *root;      /* owned; freed by classify_batch_item_fini */
    const cJSON *id;  /* borrowed from root; NULL when absent */
    const char *text; /* borrowed from root */
    size_t text_len;
    classify_context ctx;
} classify_batch_item;

/* Parses one line (no trailing newline needed). On success item->root must
 * be released with classify_batch_item_fini. On failure nothing is held
 * (item->root is NULL) and errstr says why; if the line was a JSON object
 * with a usable id, a copy of that id goes to *id_out (the caller's to
 * cJSON_Delete; id_out may be NULL) so that the error line can name it.
 * On success *id_out stays NULL: the id is item->id. */
ATTUNE_MUST_CHECK attune_err classify_batch_parse_line(const char *line, size_t len,
                                                       classify_batch_item *item, cJSON **id_out,
                                                       char *errstr, size_t errstr_size);
void classify_batch_item_fini(classify_batch_item *item);

/* --- intent features (shared with attune-train) -------------------------
 * Calls fn once per feature occurrence of text: a 64-bit hash, the
 * feature's printable name (only when want_names; otherwise NULL) and its
 * weight. Returns the sum of the squared weights, the square root of which
 * normalises the vector. Training and prediction use this same function, so
 * the model's features always mean the same thing. */
typedef void (*classify_feature_fn)(uint64_t hash, const char *name, size_t name_len, float weight,
                                    void *arg);
double classify_intent_features(const char *text, size_t len, int want_names,
                                classify_feature_fn fn, void *arg);

#endif
