/* tokenize: UTF-8 text to normalised tokens.
 *
 * Words are NFKC-style decomposed, case folded and stripped of accents with
 * utf8proc, one code point at a time, so the output never needs more than a
 * fixed buffer. ASCII emoticons and emoji become tokens of their own, runs of
 * "!" and "?" become one token that counts them, letters repeated three
 * times or more are squeezed ("sooo" keeps a flag and two spellings for the
 * lexicon). Invalid UTF-8 bytes are treated as separators.
 *
 * Most words are plain ASCII: fast_word reads them 8 bytes at a time (SWAR:
 * letters, capitals and the end of the word found with a few operations on
 * a uint64_t), and read_word, the general path, is the reference it must
 * match wherever it applies.
 *
 * Last, a word written the texting way or without its apostrophe ("dont",
 * "im", "some1", "2day", "b4", "pls") becomes the standard word, so that
 * every lexicon, rule and model reads one spelling (ctok_fold_texting). */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include <utf8proc.h>

#include "classify/classify_int.h"
#include "json.h"

/* Words are hashed 8 bytes at a time, so that the one-pass word reader can
 * hash each chunk it has just folded: a token's hash must equal
 * ctok_hash_bytes of its normalised bytes (the lexicon and the intent model
 * key their words with it at load time). A chunk is read little-endian,
 * the last one padded with zero bytes (which no token contains, so the
 * length needs no mixing in). Each step is a bijection of h ^ chunk, and
 * the shifts bring every input byte down to the low bits that pick a table
 * slot: no two words of up to 8 bytes share a hash, and none hashes to 0. */
#define CTOK_HASH_K 0x9E3779B97F4A7C15ULL

static inline uint64_t load_le64(const char *s)
{
    uint64_t w;
    memcpy(&w, s, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static inline void store_le64(char *d, uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    memcpy(d, &w, 8);
}

static inline uint64_t hash_chunk(uint64_t h, uint64_t chunk)
{
    h ^= chunk;
    h ^= h >> 29;
    h *= CTOK_HASH_K;
    return h ^ (h >> 32);
}

uint64_t ctok_hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0;
    size_t i = 0;
    for (; n - i >= 8; i += 8)
        h = hash_chunk(h, load_le64(s + i));
    if (i < n) {
        uint64_t w = 0;
        for (size_t k = 0; i + k < n; k++)
            w |= (uint64_t)(unsigned char)s[i + k] << (8 * k);
        h = hash_chunk(h, w);
    }
    /* 0 marks empty slots in the tables */
    return h ? h : 1;
}

/* Hash of s with every run of a repeated byte squeezed to one. */
static uint64_t hash_squeezed(const char *s, size_t n)
{
    char sq[CTOK_MAX_LEN] = {0};
    size_t m = 0;
    for (size_t i = 0; i < n && m < sizeof sq; i++)
        if (i == 0 || s[i] != s[i - 1])
            sq[m++] = s[i];
    return ctok_hash_bytes(sq, m);
}

/* Emoticons are matched on the raw bytes, before words and punctuation are
 * split, and only when they stand alone (space or end on both sides). */
static const char *const emoticons[] = {
    ">:(", ">:-(", ":'(", ":'-(", ":-)", ":-(", ":-D", ":-P", ":-p", ":-/", ":-|", ";-)", "</3",
    "^_^", "-_-",  "T_T", ":)",   ":(",  ":D",  ":P",  ":p",  ":/",  ":|",  ";)",  "<3",  ":o",
    ":O",  "xD",   "XD",  "=)",   "=(",  ":@",  ":3",  ":*",  "^^",  ":]",  ":[",  "D:",
};

static inline int is_space_cp(utf8proc_int32_t cp)
{
    /* ASCII: the controls (category Cc) and the space (Zs) */
    if (cp < 0x80)
        return cp <= 0x20 || cp == 0x7F;
    utf8proc_category_t cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_CC;
}

static int is_emoji_cp(utf8proc_int32_t cp)
{
    return (cp >= 0x1F300 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF) ||
           (cp >= 0x1F000 && cp <= 0x1F2FF) || cp == 0x2B50 || cp == 0x2B55 || cp == 0x2764 ||
           cp == 0x203C || cp == 0x2049;
}

/* Joiners and modifiers that belong to the emoji before them. */
static inline int is_emoji_tail_cp(utf8proc_int32_t cp)
{
    return cp >= 0x200D &&
           (cp == 0x200D || cp == 0xFE0F || cp == 0xFE0E || (cp >= 0x1F3FB && cp <= 0x1F3FF));
}

/* Invisible format characters that text copied from web pages and
 * apps carries inside words (soft hyphen, zero-width space and joiners,
 * word joiner, byte order mark): "pass<ZWSP>word" is "password". */
static inline int is_format_cp(utf8proc_int32_t cp)
{
    return cp == 0xAD || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF;
}

static inline int is_word_cp(utf8proc_int32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
               cp == '_';
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

static int is_apostrophe(utf8proc_int32_t cp)
{
    return cp == '\'' || cp == 0x2019 || cp == 0x2018 || cp == 0x02BC;
}

/* Decodes one code point; invalid bytes give U+FFFD and advance one byte. */
static inline size_t decode(const char *s, size_t n, utf8proc_int32_t *cp)
{
    if ((unsigned char)s[0] < 0x80) {
        *cp = (unsigned char)s[0];
        return 1;
    }
    utf8proc_ssize_t r = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, cp);
    if (r <= 0) {
        *cp = 0xFFFD;
        return 1;
    }
    return (size_t)r;
}

static int at_boundary(const char *s, size_t n, size_t pos)
{
    if (pos >= n)
        return 1;
    unsigned char ch = (unsigned char)s[pos];
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ',' || ch == '.' ||
           ch == '!' || ch == '?';
}

/* The emoticon at pos: its length in s, 0 if none, and in *base the length
 * of the emoticon it is; a mouth said again is the same face, stronger in
 * feeling only as "!!!" is (":((((" is ":(", ":)))" is ":)"). */
static size_t match_emoticon(const char *s, size_t n, size_t pos, size_t *base)
{
    if (pos > 0 && !at_boundary(s, n, pos - 1) && s[pos - 1] != '(')
        return 0;
    for (size_t i = 0; i < sizeof emoticons / sizeof emoticons[0]; i++) {
        if (emoticons[i][0] != s[pos])
            continue;
        size_t el = strlen(emoticons[i]);
        if (pos + el > n || memcmp(s + pos, emoticons[i], el) != 0)
            continue;
        size_t end = pos + el;
        const char mouth = emoticons[i][el - 1];
        if (mouth == ')' || mouth == '(' || mouth == 'D' || mouth == '[' || mouth == ']')
            while (end < n && s[end] == mouth)
                end++;
        if (at_boundary(s, n, end)) {
            *base = el;
            return end - pos;
        }
    }
    return 0;
}

static ctok *new_token(ctok_buf *tb, uint8_t kind, size_t src_off)
{
    if (tb->n >= CLASSIFY_MAX_TOKENS) {
        tb->truncated = 1;
        return NULL;
    }
    ctok *t = &tb->tok[tb->n];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->src_off = (uint16_t)src_off;
    t->norm_off = (uint32_t)tb->norm_used;
    return t;
}

static int norm_put(ctok_buf *tb, ctok *t, const char *bytes, size_t n)
{
    if (t->norm_len + n > CTOK_MAX_LEN || tb->norm_used + n >= sizeof tb->norm)
        return 0;
    memcpy(tb->norm + tb->norm_used, bytes, n);
    tb->norm_used += n;
    t->norm_len = (uint16_t)(t->norm_len + n);
    return 1;
}

static void finish_token(ctok_buf *tb, ctok *t, size_t src_end)
{
    t->src_len = (uint16_t)(src_end - t->src_off);
    const char *s = tb->norm + t->norm_off;
    t->hash = ctok_hash_bytes(s, t->norm_len);
    t->hash1 = (t->flags & CTOK_F_ELONG) ? hash_squeezed(s, t->norm_len) : t->hash;
    if (t->norm_len == 0) {
        tb->norm_used = t->norm_off;
        return; /* a word made only of ignorable code points */
    }
    if (t->kind == CTOK_WORD || t->kind == CTOK_NUM)
        tb->n_words++;
    tb->n_nums += t->kind == CTOK_NUM;
    tb->n_caps += (t->flags & CTOK_F_ALLCAPS) != 0;
    tb->n_titles += (t->flags & CTOK_F_TITLE) != 0;
    tb->n++;
}

/* Appends one normalised code point, squeezing the third and later repeats
 * of a letter ("sooo" -> "soo") and flagging the token as elongated. */
static inline void put_cp(ctok_buf *tb, ctok *t, utf8proc_int32_t cp, utf8proc_int32_t *last,
                          unsigned *run)
{
    if (cp == *last) {
        if (++*run >= 2 && !(cp >= '0' && cp <= '9') && cp != '*') {
            t->flags |= CTOK_F_ELONG;
            return;
        }
    } else {
        *run = 0;
    }
    *last = cp;
    if (cp < 0x80) {
        if (t->norm_len < CTOK_MAX_LEN && tb->norm_used + 1 < sizeof tb->norm) {
            tb->norm[tb->norm_used++] = (char)cp;
            t->norm_len++;
        }
        return;
    }
    utf8proc_uint8_t enc[4];
    utf8proc_ssize_t el = utf8proc_encode_char(cp, enc);
    if (el > 0)
        (void)norm_put(tb, t, (const char *)enc, (size_t)el);
}

/* What a byte begins, for the main loop: one load instead of a chain of
 * tests. Bytes >= 0x80, '_' and '@' (a handle) take the general path (BYTE_OTHER), and so
 * do the bytes that may begin an emoticon when they do not. The letters
 * that begin an emoticon (T_T xD XD D:) begin words far more often and are
 * told apart by the byte after. */
enum { BYTE_OTHER = 0, BYTE_WORD, BYTE_SPACE, BYTE_WORD_EMO, BYTE_EMO, BYTE_PUNCT };
static const uint8_t byte_class[256] = {
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4, 4, 4, 4, 5,
    0, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 3, 1, 1, 5, 5, 5, 4, 0,
    5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 5, 5, 5, 5, 2,
};

/* The byte after a run of letters or digits: 1 when read_word could keep
 * it inside the word (apostrophes, '*', '_', bytes >= 0x80), 2 for : . ,
 * (kept between digits), 4 for a space, which the main loop would only
 * skip, 8 for a digit (which ends a run of letters); 0 otherwise. */
#define TERM_SLOW 1
#define TERM_DIGIT 2
#define TERM_SPACE 4
#define TERM_WORD 8
static const uint8_t term_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    4, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 2, 0, 2, 0, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 2, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Eight bytes at a time, with SWAR: REP(b) has b in every byte, HIGH the
 * top bit of every byte, where the tests below leave their answers. */
#define REP(b) (0x0101010101010101ULL * (uint64_t)(b))
/* for the straight-line layout of the usual paths */
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HIGH REP(0x80)

/* The 8 bytes at p, the ones past the end of the text read as 0 (which
 * ends a word) without reading past it. */
static inline uint64_t load_chunk(const char *s, size_t n, size_t p)
{
    if (LIKELY(n - p >= 8))
        return load_le64(s + p);
    if (p >= n)
        return 0;
    if (n >= 8)
        return load_le64(s + n - 8) >> (8 * (8 - (n - p)));
    uint64_t w = 0;
    for (size_t i = 0; p + i < n; i++)
        w |= (uint64_t)(unsigned char)s[p + i] << (8 * i);
    return w;
}

/* HIGH bits of the bytes of v that are 0, when every byte is below 0x80
 * (as folded words are): adding 0x7F sets the top bit of the others, and
 * never carries into the next byte. */
static inline uint64_t zero_bytes7(uint64_t v)
{
    return ~(v + REP(0x7F)) & HIGH;
}

/* Sum of the bytes of v, when it fits in a byte. */
static inline unsigned byte_sum(uint64_t v)
{
    return (unsigned)((v * REP(1)) >> 56);
}

/* The counters of the token buffer, kept in locals by the main loop while
 * it reads plain words: stores through char pointers (the normalised text)
 * would otherwise make the compiler reload them after every word. They go
 * back to the buffer before any other path runs. */
typedef struct {
    size_t n, used;
    unsigned words, nums, caps, titles;
    int truncated;
    /* fast_word runs while used is below fast_room, which leaves room
     * for the whole chunks it stores and for a token (see fast_room_renew);
     * room_max is the most it may be, 0 when the fast paths are off */
    size_t fast_room, room_max;
} tok_state;

static inline void state_load(tok_state *st, const ctok_buf *tb)
{
    st->n = tb->n;
    st->used = tb->norm_used;
    st->words = tb->n_words;
    st->nums = tb->n_nums;
    st->caps = tb->n_caps;
    st->titles = tb->n_titles;
    st->truncated = tb->truncated;
}

static inline void state_store(const tok_state *st, ctok_buf *tb)
{
    tb->n = st->n;
    tb->norm_used = st->used;
    tb->n_words = st->words;
    tb->n_nums = st->nums;
    tb->n_caps = st->caps;
    tb->n_titles = st->titles;
    tb->truncated = st->truncated;
}

/* Every token kept has one normalised byte at least: while used stays
 * below used + (cap - n), n stays below the token cap, and fast_word need
 * not check it. Returns 0 when there is no room left at all. */
static __attribute__((noinline, cold)) int fast_room_renew(tok_state *st)
{
    size_t room = st->used + (CLASSIFY_MAX_TOKENS - st->n);
    st->fast_room = room < st->room_max ? room : st->room_max;
    return st->used < st->fast_room;
}

/* Bytes of a chunk, as the HIGH bit of each: the letters (lo is the chunk
 * with bit 5 set in every byte) and the word bytes (ASCII letters and
 * digits). A byte >= 0x80 may carry into the next one, but it is never a
 * word byte, and only the bytes before the first non-word byte count. */
static inline uint64_t swar_letters(uint64_t lo)
{
    return (lo + REP(0x80 - 'a')) & ~(lo + REP(0x80 - 'z' - 1)) & HIGH;
}

static inline uint64_t swar_word_bytes(uint64_t w, uint64_t lo)
{
    uint64_t digit = (w + REP(0x80 - '0')) & ~(w + REP(0x80 - '9' - 1));
    return (swar_letters(lo) | digit) & ~w & HIGH;
}

/* A token's fields. The last 8 bytes (src_len to pad) are one store where
 * the byte order allows, the layout checked here; the offsets and lengths
 * before them cost more to pack than to store one by one. rest is kind,
 * flags, n_excl, n_quest and punct, one byte each from the lowest. */
_Static_assert(offsetof(ctok, norm_off) == 16 && offsetof(ctok, norm_len) == 20 &&
                   offsetof(ctok, src_off) == 22 && offsetof(ctok, src_len) == 24 &&
                   offsetof(ctok, kind) == 26 && offsetof(ctok, flags) == 27 &&
                   offsetof(ctok, n_excl) == 28 && offsetof(ctok, n_quest) == 29 &&
                   offsetof(ctok, punct) == 30 && offsetof(ctok, pad) == 31 && sizeof(ctok) == 32,
               "ctok_put writes src_len to pad as one 8-byte word");

static inline void ctok_put(ctok *t, uint64_t h, size_t norm_off, size_t norm_len, size_t src_off,
                            size_t src_len, uint64_t rest)
{
    t->hash = t->hash1 = h;
    t->norm_off = (uint32_t)norm_off;
    t->norm_len = (uint16_t)norm_len;
    t->src_off = (uint16_t)src_off;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t b = (uint64_t)(uint16_t)src_len | rest << 16;
    memcpy((char *)t + offsetof(ctok, src_len), &b, 8);
#else
    t->src_len = (uint16_t)src_len;
    t->kind = (uint8_t)rest;
    t->flags = (uint8_t)(rest >> 8);
    t->n_excl = (uint8_t)(rest >> 16);
    t->n_quest = (uint8_t)(rest >> 24);
    t->punct = (uint8_t)(rest >> 32);
    t->pad = 0;
#endif
}

/* Appends a word read by fast_word or fast_word_long, with its flags
 * (CTOK_F_ALLCAPS and CTOK_F_TITLE only, which the counters follow). */
static inline void emit_word(ctok_buf *tb, tok_state *st, uint64_t h, size_t o, size_t pos,
                             size_t end, unsigned flags, unsigned kind)
{
    if (flags) {
        st->caps += flags == CTOK_F_ALLCAPS;
        st->titles += flags == CTOK_F_TITLE;
    }
    ctok_put(&tb->tok[st->n++], h, st->used, o, pos, end - pos, kind | flags << 8);
    st->used += o;
    st->words++;
    st->nums += kind == CTOK_NUM;
}

/* The flags read_word gives a word: in capitals with two capitals or more
 * and no lower case letter, Title case with one capital, first, and a
 * lower case letter after it. */
static inline unsigned word_flags(unsigned upper, unsigned alpha, int title)
{
    if (upper >= 2 && upper == alpha)
        return CTOK_F_ALLCAPS;
    if (upper == 1 && alpha >= 2 && title)
        return CTOK_F_TITLE;
    return 0;
}

static inline int is_ascii_letter(unsigned b)
{
    return (b | 0x20) - 'a' < 26u;
}

static inline int is_ascii_alnum(unsigned b)
{
    return is_ascii_letter(b) || b - '0' < 10u;
}

/* A word read so far: the next byte to read, the bytes kept and their
 * hash, the last chunk of the current run and its bytes equal to the one
 * before (for a letter three times running), the capitals and the letters
 * counted in byte lanes (one per byte of a chunk). */
typedef struct {
    size_t p, o;
    uint64_t h, prev, prev_eq, ups, alphas;
} word_acc;

/* ctok_hash_bytes of the o bytes of a token being made, read in whole
 * chunks: the room fast_word checks for lies past its end. */
static inline uint64_t hash_norm(const char *d, size_t o)
{
    uint64_t h = 0;
    for (size_t i = 0; i < o; i += 8) {
        uint64_t w = load_le64(d + i);
        if (o - i < 8)
            w &= (1ULL << (8 * (o - i))) - 1;
        h = hash_chunk(h, w);
    }
    return h ? h : 1;
}

/* fast_word for the words that do not end within their first 8 bytes, or
 * that end with a byte read_word might keep: runs of ASCII letters and
 * digits read chunk by chunk, joined by what read_word keeps between them
 * (an apostrophe before a letter or digit, : . , between digits). Anything
 * else read_word could keep in a word returns 0, as does a letter three
 * times running. */
static size_t fast_word_long(const char *s, size_t n, size_t pos, word_acc *a, ctok_buf *tb,
                             tok_state *st)
{
    char *dst = tb->norm + st->used;
    uint64_t h = a->h, ups = a->ups, alphas = a->alphas, prev = a->prev, prev_eq = a->prev_eq;
    size_t p = a->p, o = a->o;
    int joined = 0;  /* an apostrophe makes a word even of digits */
    int aligned = 1; /* chunks kept at multiples of 8: hashed as they come */
    for (;;) {
        /* one run of letters and digits, from p */
        uint64_t w;
        unsigned k;
        for (;;) {
            w = load_chunk(s, n, p);
            uint64_t lo = w | REP(0x20);
            uint64_t stop = ~swar_word_bytes(w, lo) & HIGH;
            uint64_t mask = ((stop & -stop) >> 7) - 1;
            uint64_t letter = swar_letters(lo) & mask;
            uint64_t upper = letter & ~(w << 2);
            uint64_t fold = (w | upper >> 2) & mask;
            uint64_t eq = zero_bytes7(fold ^ (fold << 8 | prev >> 56));
            if (eq & (eq << 8 | prev_eq >> 56) & letter)
                return 0;
            k = stop ? (unsigned)__builtin_ctzll(stop) >> 3 : 8;
            if (o + k > CTOK_MAX_LEN)
                return 0;
            store_le64(dst + o, fold);
            if (aligned && k)
                h = hash_chunk(h, fold);
            o += k;
            p += k;
            ups += upper >> 7;
            alphas += letter >> 7;
            if (k < 8)
                break;
            prev = fold;
            prev_eq = eq;
        }
        if (o == 0 || p >= n)
            break;
        /* what ends the run, and what follows it */
        unsigned b = (unsigned char)s[p], last = (unsigned char)dst[o - 1];
        if (!(term_byte[b] & (TERM_SLOW | TERM_DIGIT)))
            break;
        size_t q = p + 1;
        if (b >= 0x80) {
            utf8proc_int32_t cp;
            q = p + decode(s + p, n - p, &cp);
            if (is_word_cp(cp) || is_format_cp(cp))
                return 0;
            if (!is_apostrophe(cp))
                break;
            b = '\'';
        } else if (b != '\'' && b != '.' && b != ',' && b != ':') {
            if (b == '*' || b == '_')
                return 0;
            break;
        }
        unsigned next = q < n ? (unsigned char)s[q] : ' ';
        if (b == '\'') {
            if (!is_ascii_alnum(next)) {
                /* read_word keeps it before any letter */
                if (next >= 0x80 || next == '_')
                    return 0;
                break;
            }
            joined = 1;
        } else if (!(last - '0' < 10u && next - '0' < 10u)) {
            break;
        }
        if (o == CTOK_MAX_LEN)
            return 0;
        dst[o++] = (char)b;
        p = q;
        prev = prev_eq = 0;
        aligned = 0;
    }
    if (o == 0)
        return 0;
    unsigned up = byte_sum(ups), alpha = byte_sum(alphas);
    emit_word(tb, st, aligned ? (h ? h : 1) : hash_norm(dst, o), o, pos, p,
              word_flags(up, alpha, (unsigned)(unsigned char)s[pos] - 'A' < 26u),
              alpha || joined ? CTOK_WORD : CTOK_NUM);
    return p + (p < n && s[p] == ' ');
}

/* fast_word_long from the start of the word. */
static size_t fast_word_restart(const char *s, size_t n, size_t pos, ctok_buf *tb, tok_state *st)
{
    word_acc a = {pos, 0, 0, 0, 0, 0, 0};
    return fast_word_long(s, n, pos, &a, tb, st);
}

/* The answer of fast_word from fast_word_long's: its end, 0 for none. */
static inline int fast_word_done(size_t *end, size_t e)
{
    if (!e)
        return 0;
    *end = e;
    return 1;
}

/* The common word: ASCII letters and digits only, ended by a byte that
 * cannot continue it, no letter three times running, at most CTOK_MAX_LEN
 * bytes. It is read, folded, checked, copied and hashed 8 bytes at a time,
 * most often in one chunk. Returns 1 with *end moved to the end of the word
 * (past one space after it, which the main loop would only skip), or 0
 * (nothing kept, *end as it was) when read_word must handle the word. */
static inline int fast_word(const char *s, size_t n, size_t *end, ctok_buf *tb, tok_state *st)
{
    size_t pos = *end;
    if (UNLIKELY(st->used >= st->fast_room) && !fast_room_renew(st))
        return 0;
    /* letters only: a digit ends the run, and sends the word (words with
     * digits are few) to fast_word_long */
    uint64_t w = load_chunk(s, n, pos), letters = swar_letters(w | REP(0x20)) & ~w;
    /* bit 5 (lower case) moves to bit 7 of the same byte */
    uint64_t uppers = letters & ~(w << 2), stop = letters ^ HIGH;
    if (UNLIKELY(!stop)) {
        /* 8 letters: the word goes on */
        uint64_t fold = w | uppers >> 2, eq = zero_bytes7(fold ^ fold << 8);
        if (eq & eq << 8)
            return 0;
        store_le64(tb->norm + st->used, fold);
        uint64_t h = hash_chunk(0, fold);
        /* most such words end in the next 8 bytes: the same again */
        uint64_t w2 = load_chunk(s, n, pos + 8), letter2 = swar_letters(w2 | REP(0x20)) & ~w2;
        uint64_t stop2 = letter2 ^ HIGH;
        if (!stop2) {
            word_acc more = {pos + 8, 8, h, fold, eq, uppers >> 7, letters >> 7};
            return fast_word_done(end, fast_word_long(s, n, pos, &more, tb, st));
        }
        uint64_t mask2 = (stop2 ^ (stop2 - 1)) >> 8;
        letter2 &= mask2;
        uint64_t upper2 = letter2 & ~(w2 << 2), fold2 = (w2 | upper2 >> 2) & mask2;
        uint64_t eq2 = zero_bytes7(fold2 ^ (fold2 << 8 | fold >> 56));
        if (eq2 & (eq2 << 8 | eq >> 56) & letter2)
            return 0;
        unsigned bit = (unsigned)__builtin_ctzll(stop2), k = bit >> 3;
        unsigned tk = term_byte[(w2 >> (bit - 7)) & 0xFF];
        if (tk & (TERM_SLOW | TERM_WORD))
            return fast_word_done(end, fast_word_restart(s, n, pos, tb, st));
        store_le64(tb->norm + st->used + 8, fold2);
        if (k) {
            h = hash_chunk(h, fold2);
            h = h ? h : 1;
        }
        /* all letters: capitals if all are, Title case if only the first */
        unsigned flags = uppers == HIGH && upper2 == letter2 ? CTOK_F_ALLCAPS
                         : uppers == 0x80 && upper2 == 0     ? CTOK_F_TITLE
                                                             : 0;
        emit_word(tb, st, h, 8 + k, pos, pos + 8 + k, flags, CTOK_WORD);
        *end = pos + 8 + k + (tk >> 2);
        return 1;
    }
    /* the bytes before the first one that is not a letter */
    uint64_t mask = (stop ^ (stop - 1)) >> 8;
    uint64_t letter = letters & mask, upper = uppers & mask, fold = (w | upper >> 2) & mask;
    /* a letter three times running is squeezed by read_word: a byte equal
     * to the one before, which is equal to the one before it. The bytes of
     * fold ^ fold << 8 are below 0x80, so 0x80 - byte keeps its top bit
     * only for a 0 and never borrows: the letters' top bits pick those. */
    uint64_t eq = HIGH - (fold ^ fold << 8);
    if (UNLIKELY(eq & eq << 8 & letter))
        return 0;
    unsigned bit = (unsigned)__builtin_ctzll(stop), k = bit >> 3;
    unsigned tk = term_byte[(w >> (bit - 7)) & 0xFF];
    /* a word that begins with a digit has k == 0 and ends here too */
    if (UNLIKELY(tk & (TERM_SLOW | TERM_WORD)))
        return fast_word_done(end, fast_word_restart(s, n, pos, tb, st));
    store_le64(tb->norm + st->used, fold);
    /* k letters: capitals if all are, Title case if only the first; two
     * letters at least for either */
    unsigned flags = 0;
    if (UNLIKELY(upper && mask > 0xFF))
        flags = upper == letter ? CTOK_F_ALLCAPS : upper == 0x80 ? CTOK_F_TITLE : 0;
    emit_word(tb, st, hash_chunk(0, fold), k, pos, pos + k, flags, CTOK_WORD);
    *end = pos + k + (tk >> 2);
    return 1;
}

/* The flags other_step gives ASCII punctuation. */
static const uint8_t punct_flags[128] = {
    ['.'] = CTOK_F_SENT_END | CTOK_F_CLAUSE_END,
    ['!'] = CTOK_F_SENT_END | CTOK_F_CLAUSE_END,
    ['?'] = CTOK_F_SENT_END | CTOK_F_CLAUSE_END,
    [','] = CTOK_F_CLAUSE_END,
    ['('] = CTOK_F_CLAUSE_END,
    [')'] = CTOK_F_CLAUSE_END,
    ['"'] = CTOK_F_CLAUSE_END,
};

/* ASCII punctuation that cannot begin an emoticon, as other_step makes it:
 * runs of ! and ? are one token that counts them, "..." one token too.
 * Returns the position after it and one space after it, which the main
 * loop would only skip. */
static inline size_t fast_punct(const char *text, size_t len, size_t p, ctok_buf *tb, tok_state *st)
{
    unsigned ch = (unsigned char)text[p], ne = 0, nq = 0;
    size_t q = p + 1;
    if (ch == '!' || ch == '?') {
        for (q = p; q < len && (text[q] == '!' || text[q] == '?'); q++) {
            ne += text[q] == '!';
            nq += text[q] == '?';
        }
    } else if (ch == '.') {
        while (q < len && text[q] == '.')
            q++;
    }
    if (st->n >= CLASSIFY_MAX_TOKENS) {
        st->truncated = 1;
        return q;
    }
    if (st->used + 1 >= sizeof tb->norm)
        return q; /* no room for its text: not kept */
    tb->norm[st->used] = (char)ch;
    uint64_t rest = CTOK_PUNCT | (unsigned)punct_flags[ch & 0x7F] << 8 |
                    (uint64_t)(ne > 255 ? 255 : ne) << 16 | (uint64_t)(nq > 255 ? 255 : nq) << 24 |
                    (uint64_t)ch << 32;
    ctok_put(&tb->tok[st->n++], hash_chunk(0, ch), st->used, 1, p, q - p, rest);
    st->used++;
    return q + (q < len && text[q] == ' ');
}

/* Reads one word starting at pos; returns the end position. */
static size_t read_word(const char *s, size_t n, size_t pos, ctok_buf *tb)
{
    ctok *t = new_token(tb, CTOK_NUM, pos);
    /* past the token cap the word is still read to its end, into a token
     * that is full from the start (so nothing is written) and never kept */
    ctok spill;
    int keep_tok = t != NULL;
    if (!t) {
        memset(&spill, 0, sizeof spill);
        spill.norm_len = CTOK_MAX_LEN;
        t = &spill;
    }
    size_t p = pos;
    unsigned upper = 0, lower = 0;
    int first_upper = -1;
    utf8proc_int32_t last = -1, prev_in = -1;
    unsigned run = 0;
    while (p < n) {
        /* ASCII letters and digits, the bulk of real text: a tight loop on
         * locals (the output pointer is a char *, which would otherwise make
         * the compiler reload every counter after each store) */
        unsigned b0 = (unsigned char)s[p];
        if (((b0 | 0x20) - 'a' < 26u) | (b0 - '0' < 10u)) {
            if (first_upper < 0)
                first_upper = b0 - 'A' < 26u;
            size_t room = CTOK_MAX_LEN - t->norm_len;
            if (room > sizeof tb->norm - 1 - tb->norm_used)
                room = sizeof tb->norm - 1 - tb->norm_used;
            char *dst = tb->norm + tb->norm_used;
            size_t o = 0;
            unsigned up = 0, alpha_n = 0, r = run;
            int l = last, elong = 0;
            unsigned b = b0;
            do {
                unsigned lc = b | 0x20;
                unsigned alpha = lc - 'a' < 26u;
                up += alpha & (b < 'a');
                alpha_n += alpha;
                unsigned c = alpha ? lc : b;
                p++;
                /* the third and later repeats of a letter are dropped
                 * ("sooo" -> "soo"), digits are kept */
                unsigned same = (int)c == l;
                r = same ? r + 1 : 0;
                if (same && r >= 2 && alpha) {
                    elong = 1;
                } else {
                    l = (int)c;
                    if (o < room)
                        dst[o++] = (char)c;
                }
                if (p >= n)
                    break;
                b = (unsigned char)s[p];
            } while (((b | 0x20) - 'a' < 26u) | (b - '0' < 10u));
            /* prev_in is the last byte read, lower-cased like the old
             * per-byte loop did; only whether it is a digit matters */
            prev_in = (utf8proc_int32_t)(unsigned char)s[p - 1];
            if (prev_in >= 'A' && prev_in <= 'Z')
                prev_in |= 0x20;
            tb->norm_used += o;
            t->norm_len = (uint16_t)(t->norm_len + o);
            if (alpha_n)
                t->kind = CTOK_WORD;
            if (elong)
                t->flags |= CTOK_F_ELONG;
            upper += up;
            lower += alpha_n - up;
            last = l;
            run = r;
            continue;
        }
        unsigned b = b0;
        /* any other ASCII byte but these ends the word (see the rules below) */
        if (b < 0x80 && b != '\'' && b != ':' && b != '.' && b != ',' && b != '*' && b != '_')
            break;
        utf8proc_int32_t cp;
        size_t k = decode(s + p, n - p, &cp);
        if (!is_word_cp(cp)) {
            /* apostrophes and ':' '.' inside numbers, '*' in masked swearing */
            utf8proc_int32_t next = -1;
            if (p + k < n)
                decode(s + p + k, n - p - k, &next);
            int inner = next >= 0 && is_word_cp(next) && prev_in >= 0;
            int keep = 0;
            if (is_format_cp(cp) && prev_in >= 0) {
                /* a run of them inside the word is skipped whole */
                size_t q = p + k;
                utf8proc_int32_t after = -1;
                while (q < n) {
                    size_t kk = decode(s + q, n - q, &after);
                    if (!is_format_cp(after))
                        break;
                    q += kk;
                    after = -1;
                }
                if (after >= 0 && is_word_cp(after)) {
                    p = q;
                    continue;
                }
            }
            if (is_apostrophe(cp) && inner)
                keep = 1, cp = '\'';
            else if ((cp == ':' || cp == '.' || cp == ',') && prev_in >= '0' && prev_in <= '9' &&
                     next >= '0' && next <= '9')
                keep = 1;
            else if (cp == '*' && prev_in >= 0 && (inner || next == '*' || prev_in == '*'))
                keep = 1;
            if (!keep)
                break;
        }
        prev_in = cp;
        if (cp < 0x80) {
            if (cp != ':' && cp != '.' && cp != ',')
                t->kind = CTOK_WORD;
            put_cp(tb, t, cp, &last, &run);
        } else {
            utf8proc_category_t cat = utf8proc_category(cp);
            if (first_upper < 0)
                first_upper = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT;
            if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT)
                upper++;
            else if (cat == UTF8PROC_CATEGORY_LL)
                lower++;
            if (cat != UTF8PROC_CATEGORY_ND)
                t->kind = CTOK_WORD;
            utf8proc_int32_t out[8];
            int bc = 0;
            utf8proc_ssize_t m =
                utf8proc_decompose_char(cp, out, 8,
                                        UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE |
                                            UTF8PROC_STRIPMARK | UTF8PROC_IGNORE,
                                        &bc);
            for (utf8proc_ssize_t j = 0; j < m && j < 8; j++)
                put_cp(tb, t, out[j], &last, &run);
        }
        p += k;
    }
    if (keep_tok) {
        if (upper >= 2 && lower == 0)
            t->flags |= CTOK_F_ALLCAPS;
        else if (first_upper == 1 && upper == 1 && lower >= 1)
            t->flags |= CTOK_F_TITLE;
        finish_token(tb, t, p);
    }
    return p > pos ? p : pos + 1;
}

/* An emoticon that begins at p, as a token: its length, 0 if none. */
static size_t emit_emoticon(const char *text, size_t len, size_t p, ctok_buf *tb)
{
    size_t base = 0, el = match_emoticon(text, len, p, &base);
    if (el > 0) {
        ctok *t = new_token(tb, CTOK_EMOTICON, p);
        if (t) {
            (void)norm_put(tb, t, text + p, base);
            finish_token(tb, t, p + el);
        }
    }
    return el;
}

/* Whether byte c may be in a handle ("@Uber_Support"). */
static int handle_byte(unsigned char c)
{
    return is_ascii_alnum(c) || c == '_';
}

/* The end of an @handle at p, or 0: '@' at the start or after a space or
 * an opening bracket or quote, then a letter, then letters, digits or '_'.
 * An address ("me@example.com") is not one. */
static size_t mention_end(const char *text, size_t len, size_t p)
{
    if (p > 0) {
        unsigned char b = (unsigned char)text[p - 1];
        if (byte_class[b] != BYTE_SPACE && b != '(' && b != '[' && b != '"' && b != '\'')
            return 0;
    }
    if (p + 1 >= len || !is_ascii_letter((unsigned char)text[p + 1]))
        return 0; /* ("meet @5pm": a time) */
    size_t q = p + 1;
    while (q < len && handle_byte((unsigned char)text[q]))
        q++;
    return q;
}

/* At the ':' of a web address ("http://" or "https://", any case, the
 * scheme the last token): takes that token back and returns the end of
 * the address, up to a space less the punctuation that ends it ("see
 * https://example.com/x." ends a sentence); 0 if it is none. Found at the
 * ':' so that the usual path for words looks for nothing. */
static size_t url_end(const char *text, size_t len, size_t p, ctok_buf *tb)
{
    if (len - p < 4 || text[p + 1] != '/' || text[p + 2] != '/' ||
        byte_class[(unsigned char)text[p + 3]] == BYTE_SPACE || tb->n == 0 ||
        (tb->truncated && tb->n >= CLASSIFY_MAX_TOKENS))
        return 0; /* (at the token cap the general path read no further) */
    ctok *t = &tb->tok[tb->n - 1];
    if ((size_t)t->src_off + t->src_len != p ||
        !(ctok_is_word(tb, tb->n - 1, "http") || ctok_is_word(tb, tb->n - 1, "https")))
        return 0;
    tb->n--;
    tb->norm_used = t->norm_off;
    tb->n_words--;
    tb->n_caps -= (t->flags & CTOK_F_ALLCAPS) != 0;
    tb->n_titles -= (t->flags & CTOK_F_TITLE) != 0;
    size_t q = p;
    while (q < len && byte_class[(unsigned char)text[q]] != BYTE_SPACE)
        q++;
    while (q > p && strchr(".,!?;:)\"'", text[q - 1]))
        q--;
    return q;
}

/* Whatever begins at p but an ASCII word or a space: an emoticon, a word
 * that begins with a non-ASCII letter, an emoji, punctuation. Returns the
 * position after it. */
static size_t other_step(const char *text, size_t len, size_t p, ctok_buf *tb, unsigned cls)
{
    /* addresses and handles name no one's feelings or needs: no token */
    if (text[p] == ':' || text[p] == '@') {
        size_t skip = text[p] == '@' ? mention_end(text, len, p) : url_end(text, len, p, tb);
        if (skip > 0)
            return skip;
    }
    if (cls == BYTE_EMO) {
        size_t el = emit_emoticon(text, len, p, tb);
        if (el > 0)
            return p + el;
    }
    utf8proc_int32_t cp;
    size_t k = decode(text + p, len - p, &cp);
    if (cp == 0xFFFD || is_space_cp(cp) || is_emoji_tail_cp(cp) || is_format_cp(cp)) {
        return p + k;
    }
    /* a hyphen between letters joins a word's parts: no token, so that
     * "top-notch" is read as the phrase "top notch" and "mid-cycle" ends no
     * clause (between digits it is a range, "2-4pm", or a number's parts) */
    if (cp == '-' && p > 0 && p + 1 < len && is_ascii_letter((unsigned char)text[p - 1]) &&
        is_ascii_letter((unsigned char)text[p + 1]))
        return p + 1;
    if (is_word_cp(cp)) {
        return read_word(text, len, p, tb);
    }
    if (is_emoji_cp(cp)) {
        ctok *t = new_token(tb, CTOK_EMOJI, p);
        if (t) {
            (void)norm_put(tb, t, text + p, k);
            finish_token(tb, t, p + k);
        }
        return p + k;
    }
    /* punctuation: runs of ! and ? are one token, "..." too */
    ctok *t = new_token(tb, CTOK_PUNCT, p);
    size_t q = p;
    if (cp == '!' || cp == '?') {
        unsigned ne = 0, nq = 0;
        while (q < len && (text[q] == '!' || text[q] == '?')) {
            if (text[q] == '!')
                ne++;
            else
                nq++;
            q++;
        }
        if (t) {
            t->n_excl = (uint8_t)(ne > 255 ? 255 : ne);
            t->n_quest = (uint8_t)(nq > 255 ? 255 : nq);
        }
    } else if (cp == '.') {
        while (q < len && text[q] == '.')
            q++;
    } else {
        q += k;
    }
    if (t) {
        /* curly double quotes read as straight ones */
        const int dquote = cp == '"' || cp == 0x201C || cp == 0x201D;
        t->punct = dquote ? '"' : cp < 0x80 ? (uint8_t)cp : 0;
        if (cp == '.' || cp == '!' || cp == '?' || cp == ';' || cp == 0x3002)
            t->flags |= CTOK_F_SENT_END | CTOK_F_CLAUSE_END;
        else if (cp == ',' || cp == ':' || cp == '(' || cp == ')' || cp == '-' || cp == 0x2014 ||
                 cp == 0x2013 || dquote)
            t->flags |= CTOK_F_CLAUSE_END;
        (void)norm_put(tb, t, text + p, cp < 0x80 ? 1 : k);
        finish_token(tb, t, q);
    }
    return q > p ? q : p + 1;
}

/* Spellings of texting, speech-to-text and hurried typing, and the word
 * each stands for. Only forms that are never another word in a customer's
 * message ("ill", "its", "lets", "were", "n", and "ur", which is "your"
 * and "you're" both, stay as they are). At most 8
 * bytes each: words that short never share a hash, so the hash names the
 * form. */
static const char *const texting[][2] = {
    {"dont", "don't"},       {"cant", "can't"},       {"wont", "won't"},
    {"didnt", "didn't"},     {"doesnt", "doesn't"},   {"isnt", "isn't"},
    {"wasnt", "wasn't"},     {"arent", "aren't"},     {"werent", "weren't"},
    {"havent", "haven't"},   {"hasnt", "hasn't"},     {"hadnt", "hadn't"},
    {"couldnt", "couldn't"}, {"wouldnt", "wouldn't"}, {"shouldnt", "shouldn't"},
    {"aint", "ain't"},       {"im", "i'm"},           {"ive", "i've"},
    {"youre", "you're"},     {"youve", "you've"},     {"youll", "you'll"},
    {"theyre", "they're"},   {"theyve", "they've"},   {"thats", "that's"},
    {"whats", "what's"},     {"theres", "there's"},   {"some1", "someone"},
    {"sum1", "someone"},     {"any1", "anyone"},      {"every1", "everyone"},
    {"2day", "today"},       {"2moro", "tomorrow"},   {"2morro", "tomorrow"},
    {"2morrow", "tomorrow"}, {"2mrw", "tomorrow"},    {"tmrw", "tomorrow"},
    {"tmrow", "tomorrow"},   {"tmr", "tomorrow"},     {"2nite", "tonight"},
    {"2night", "tonight"},   {"tonite", "tonight"},   {"b4", "before"},
    {"txt", "text"},         {"msg", "message"},      {"pls", "please"},
    {"plz", "please"},       {"plse", "please"},      {"thx", "thanks"},
    {"thnx", "thanks"},      {"thanx", "thanks"},     {"u", "you"},
    {"ppl", "people"},       {"cuz", "because"},      {"coz", "because"},
    {"bcoz", "because"},     {"bcos", "because"},     {"abt", "about"},
    {"btwn", "between"},     {"acct", "account"},     {"pmt", "payment"},
    {"wat", "what"},         {"wot", "what"},         {"l8r", "later"},
    {"gr8", "great"},        {"w8", "wait"},          {"rly", "really"},
    {"cld", "could"},        {"wld", "would"},        {"shld", "should"},
};

enum { TEXTING_SLOTS = 256 };
static struct {
    uint64_t hash; /* 0: empty */
    const char *to;
    uint16_t to_len;
} texting_table[TEXTING_SLOTS];
/* One bit per form, by the top 9 bits of its hash: most words are turned
 * away with one load from one cache line, before any probe. */
static uint64_t texting_bits[8];
static pthread_once_t texting_once = PTHREAD_ONCE_INIT;

static inline int texting_maybe(uint64_t h)
{
    return (texting_bits[h >> 61] >> ((h >> 55) & 63)) & 1;
}

static inline size_t texting_slot(uint64_t h)
{
    return (size_t)((h * CTOK_HASH_K) >> 56) & (TEXTING_SLOTS - 1);
}

/* The table's slot of the form of hash h: its own, or the empty one where
 * it would be. */
static size_t texting_find(uint64_t h)
{
    size_t k = texting_slot(h);
    while (texting_table[k].hash && texting_table[k].hash != h)
        k = (k + 1) & (TEXTING_SLOTS - 1);
    return k;
}

static void texting_init(void)
{
    _Static_assert(sizeof texting / sizeof texting[0] < TEXTING_SLOTS / 2, "texting slots");
    for (size_t i = 0; i < sizeof texting / sizeof texting[0]; i++) {
        const uint64_t h = ctok_hash_bytes(texting[i][0], strlen(texting[i][0]));
        const size_t k = texting_find(h);
        texting_table[k].hash = h;
        texting_bits[h >> 61] |= 1ULL << ((h >> 55) & 63);
        texting_table[k].to = texting[i][1];
        texting_table[k].to_len = (uint16_t)strlen(texting[i][1]);
    }
}

/* Rewrites the texting forms among tb's tokens as their standard words (the
 * standard word's bytes go at the end of the normalised text, while there
 * is room). */
static void ctok_fold_texting(ctok_buf *tb)
{
    pthread_once(&texting_once, texting_init);
    for (size_t i = 0; i < tb->n; i++) {
        ctok *t = &tb->tok[i];
        if (t->norm_len > 8 || (t->kind != CTOK_WORD && t->kind != CTOK_NUM) ||
            (!texting_maybe(t->hash) && (t->hash1 == t->hash || !texting_maybe(t->hash1))))
            continue;
        size_t k = texting_find(t->hash);
        if (!texting_table[k].hash && t->hash1 != t->hash) /* "plsss" */
            k = texting_find(t->hash1);
        if (!texting_table[k].hash)
            continue;
        const size_t n = texting_table[k].to_len;
        if (tb->norm_used + n >= sizeof tb->norm)
            return;
        memcpy(tb->norm + tb->norm_used, texting_table[k].to, n);
        t->norm_off = (uint32_t)tb->norm_used;
        t->norm_len = (uint16_t)n;
        tb->norm_used += n;
        t->hash = ctok_hash_bytes(texting_table[k].to, n);
        /* ("youlll" is "you'll", still elongated: its hash1 stays that of
         * the word squeezed, as for every token) */
        t->hash1 = (t->flags & CTOK_F_ELONG) ? hash_squeezed(texting_table[k].to, n) : t->hash;
        if (t->kind == CTOK_NUM) {
            t->kind = CTOK_WORD;
            tb->n_nums--;
        }
    }
}

void ctok_run(const char *text, size_t len, ctok_buf *tb)
{
    ctok_run_opts(text, len, tb, 1);
}

void ctok_run_opts(const char *text, size_t len, ctok_buf *tb, int fast)
{
    tb->n = 0;
    tb->norm_used = 0;
    tb->truncated = 0;
    tb->n_words = 0;
    tb->n_nums = 0;
    tb->n_caps = tb->n_titles = 0;
    tb->all_caps_text = 0;
    tb->title_text = 0;
    if (!text)
        len = 0;
    if (len > CLASSIFY_MAX_TEXT) {
        len = json_utf8_cut(text, len, CLASSIFY_MAX_TEXT);
        tb->truncated = 1;
    }
    tok_state st;
    state_load(&st, tb);
    /* room for a last chunk stored past a full token */
    st.room_max = fast ? sizeof tb->norm - CTOK_MAX_LEN - 8 : 0;
    /* what fast_room_renew would say now, n and used being 0 */
    _Static_assert(CLASSIFY_MAX_TOKENS < sizeof tb->norm - CTOK_MAX_LEN - 8, "fast_room");
    st.fast_room = fast ? CLASSIFY_MAX_TOKENS : 0;
    size_t p = 0;
    /* past the token cap a token sets truncated: the text is read no
     * further (the fast paths check the cap before they keep a token) */
#define RUN_SLOW(expr)                                                                             \
    do {                                                                                           \
        state_store(&st, tb);                                                                      \
        expr;                                                                                      \
        state_load(&st, tb);                                                                       \
        if (st.truncated && st.n >= CLASSIFY_MAX_TOKENS)                                           \
            goto out;                                                                              \
    } while (0)
    while (p < len) {
        unsigned cls = byte_class[(unsigned char)text[p]];
        if (UNLIKELY(cls != BYTE_WORD)) {
            if (cls == BYTE_SPACE) {
                p++;
                continue;
            }
            if (cls == BYTE_PUNCT && st.room_max) {
                p = fast_punct(text, len, p, tb, &st);
                if (st.truncated && st.n >= CLASSIFY_MAX_TOKENS)
                    break;
                continue;
            }
            if (cls != BYTE_WORD_EMO) {
                RUN_SLOW(p = other_step(text, len, p, tb, cls));
                continue;
            }
            size_t el = 0;
            if (p + 1 < len && (text[p + 1] == '_' || text[p + 1] == 'D' || text[p + 1] == ':'))
                RUN_SLOW(el = emit_emoticon(text, len, p, tb));
            if (el) {
                p += el;
                continue;
            }
        }
        /* the usual case: a word of ASCII letters and digits */
        if (!fast_word(text, len, &p, tb, &st))
            RUN_SLOW(p = read_word(text, len, p, tb));
    }
#undef RUN_SLOW
out:
    state_store(&st, tb);
    /* capitals mean emphasis only against a background of lower case; a
     * one-letter word cannot say which it is ("I HATE MONDAYS" is all in
     * capitals), so those are not counted (looked for only when a word is
     * in capitals, which few texts have) */
    unsigned words = tb->n_words;
    if (tb->n_caps > 0)
        for (size_t i = 0; i < tb->n; i++)
            words -= tb->tok[i].kind == CTOK_WORD && tb->tok[i].norm_len == 1;
    tb->all_caps_text = words > 0 && tb->n_caps * 10 >= words * 8;
    tb->title_text = tb->n_words > 0 && tb->n_titles * 2 > tb->n_words;
    /* (after the count: "U" read as "you" is still a one-letter word there) */
    ctok_fold_texting(tb);
}
