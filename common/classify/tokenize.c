/* tokenize: UTF-8 text to normalised tokens.
 *
 * Words are NFKC-style decomposed, case folded and stripped of accents with
 * utf8proc, one code point at a time, so the output never needs more than a
 * fixed buffer. ASCII emoticons and emoji become tokens of their own, runs of
 * "!" and "?" become one token that counts them, letters repeated three
 * times or more are squeezed ("sooo" keeps a flag and two spellings for the
 * lexicon). Invalid UTF-8 bytes are treated as separators. */
#include <string.h>

#include <utf8proc.h>

#include "classify/classify_int.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

uint64_t ctok_hash_bytes(const char *s, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= FNV_PRIME;
    }
    /* 0 marks empty slots in the tables */
    return h ? h : 1;
}

/* Hash of s with every run of a repeated byte squeezed to one. */
static uint64_t hash_squeezed(const char *s, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && s[i] == s[i - 1])
            continue;
        h ^= (unsigned char)s[i];
        h *= FNV_PRIME;
    }
    return h ? h : 1;
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

static size_t match_emoticon(const char *s, size_t n, size_t pos)
{
    if (pos > 0 && !at_boundary(s, n, pos - 1) && s[pos - 1] != '(')
        return 0;
    for (size_t i = 0; i < sizeof emoticons / sizeof emoticons[0]; i++) {
        if (emoticons[i][0] != s[pos])
            continue;
        size_t el = strlen(emoticons[i]);
        if (pos + el <= n && memcmp(s + pos, emoticons[i], el) == 0 && at_boundary(s, n, pos + el))
            return el;
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

/* ASCII letters and digits: the byte folded to lower case, bit 8 set for a
 * capital, bit 16 for a letter, bit 24 for a letter that may begin an
 * emoticon (T_T xD XD D:); 0 for every other byte (all bytes >= 0x80
 * included). One load tells a word byte, its folded form and its counts. */
#define ASCII_EMO_LETTER (1u << 24)
static const uint32_t ascii_word[256] = {
    0x0,       0x0,     0x0,     0x0,     0x0,       0x0,     0x0,     0x0,     0x0,       0x0,
    0x0,       0x0,     0x0,     0x0,     0x0,       0x0,     0x0,     0x0,     0x0,       0x0,
    0x0,       0x0,     0x0,     0x0,     0x0,       0x0,     0x0,     0x0,     0x0,       0x0,
    0x0,       0x0,     0x0,     0x0,     0x0,       0x0,     0x0,     0x0,     0x0,       0x0,
    0x0,       0x0,     0x0,     0x0,     0x0,       0x0,     0x0,     0x0,     0x30,      0x31,
    0x32,      0x33,    0x34,    0x35,    0x36,      0x37,    0x38,    0x39,    0x0,       0x0,
    0x0,       0x0,     0x0,     0x0,     0x0,       0x10161, 0x10162, 0x10163, 0x1010164, 0x10165,
    0x10166,   0x10167, 0x10168, 0x10169, 0x1016a,   0x1016b, 0x1016c, 0x1016d, 0x1016e,   0x1016f,
    0x10170,   0x10171, 0x10172, 0x10173, 0x1010174, 0x10175, 0x10176, 0x10177, 0x1010178, 0x10179,
    0x1017a,   0x0,     0x0,     0x0,     0x0,       0x0,     0x0,     0x10061, 0x10062,   0x10063,
    0x10064,   0x10065, 0x10066, 0x10067, 0x10068,   0x10069, 0x1006a, 0x1006b, 0x1006c,   0x1006d,
    0x1006e,   0x1006f, 0x10070, 0x10071, 0x10072,   0x10073, 0x10074, 0x10075, 0x10076,   0x10077,
    0x1010078, 0x10079, 0x1007a, 0x0,     0x0,       0x0,     0x0,     0x0,
};

/* The common word: ASCII letters and digits only, ended by a byte that
 * cannot continue it, no letter three times running, at most CTOK_MAX_LEN
 * bytes. It is copied, folded, hashed and flagged in one pass. Returns the
 * end position, or 0 (nothing kept) when read_word must handle the word. */
static size_t fast_word(const char *s, size_t n, size_t pos, ctok_buf *tb)
{
    if (tb->n >= CLASSIFY_MAX_TOKENS)
        return 0;
    size_t room = sizeof tb->norm - 1 - tb->norm_used;
    if (room > CTOK_MAX_LEN)
        room = CTOK_MAX_LEN;
    char *dst = tb->norm + tb->norm_used;
    const unsigned char *u = (const unsigned char *)s;
    uint64_t h = FNV_OFFSET;
    uint32_t e, counts = 0; /* capitals in bits 0-7, letters in bits 8-15 */
    size_t p = pos, o = 0;
    while (p < n && (e = ascii_word[u[p]]) != 0) {
        if (o == room)
            return 0;
        unsigned c = e & 0xFF;
        counts += (e >> 8) & 0x101;
        dst[o++] = (char)c;
        h = (h ^ c) * FNV_PRIME;
        p++;
    }
    /* a letter three times running: read_word squeezes it */
    for (size_t k = 2; k < o; k++)
        if (dst[k] == dst[k - 1] && dst[k] == dst[k - 2] && dst[k] >= 'a')
            return 0;
    unsigned up = counts & 0xFF, alpha = counts >> 8, p1 = (unsigned char)dst[o - 1];
    if (p < n) {
        unsigned b = u[p];
        /* what read_word may keep inside a word: non-ASCII letters and
         * marks, apostrophes, '*' and '_', and : . , between digits */
        if (b >= 0x80 || b == '\'' || b == '*' || b == '_')
            return 0;
        if ((b == '.' || b == ',' || b == ':') && p1 < 'a')
            return 0;
    }
    ctok *t = &tb->tok[tb->n++];
    memset(t, 0, sizeof *t);
    t->hash = h ? h : 1;
    t->hash1 = t->hash;
    t->norm_off = (uint32_t)tb->norm_used;
    t->norm_len = (uint16_t)o;
    t->src_off = (uint16_t)pos;
    t->src_len = (uint16_t)(p - pos);
    t->kind = alpha ? CTOK_WORD : CTOK_NUM;
    if (up >= 2 && up == alpha) {
        t->flags = CTOK_F_ALLCAPS;
        tb->n_caps++;
    } else if (up == 1 && alpha >= 2 && (unsigned)u[pos] - (unsigned)'A' < 26u) {
        t->flags = CTOK_F_TITLE;
        tb->n_titles++;
    }
    tb->norm_used += o;
    tb->n_words++;
    return p;
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
    tb->n_caps = tb->n_titles = 0;
    tb->all_caps_text = 0;
    tb->title_text = 0;
    if (!text)
        len = 0;
    if (len > CLASSIFY_MAX_TEXT) {
        /* cut at a code point boundary */
        len = CLASSIFY_MAX_TEXT;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
        tb->truncated = 1;
    }
    size_t p = 0;
    while (p < len && !(tb->truncated && tb->n >= CLASSIFY_MAX_TOKENS)) {
        unsigned char ch = (unsigned char)text[p];
        /* the letters that begin an emoticon (T_T xD XD D:) begin words far
         * more often: look at the next byte before trying the list */
        uint32_t cls = ascii_word[ch];
        int letter_emo = (cls & ASCII_EMO_LETTER) && p + 1 < len &&
                         (text[p + 1] == '_' || text[p + 1] == 'D' || text[p + 1] == ':');
        /* the usual cases first: a word of ASCII letters and digits, a space */
        if (cls && !letter_emo) {
            size_t end = fast ? fast_word(text, len, p, tb) : 0;
            p = end ? end : read_word(text, len, p, tb);
            continue;
        }
        if (ch == ' ') {
            p++;
            continue;
        }
        size_t el = (ch == ':' || ch == ';' || ch == '=' || ch == '<' || ch == '>' || ch == '^' ||
                     ch == '-' || letter_emo)
                        ? match_emoticon(text, len, p)
                        : 0;
        if (el > 0) {
            ctok *t = new_token(tb, CTOK_EMOTICON, p);
            if (t) {
                (void)norm_put(tb, t, text + p, el);
                finish_token(tb, t, p + el);
            }
            p += el;
            continue;
        }
        if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
            p++;
            continue;
        }
        if (ascii_word[ch]) {
            size_t end = fast_word(text, len, p, tb);
            p = end ? end : read_word(text, len, p, tb);
            continue;
        }
        utf8proc_int32_t cp;
        size_t k = decode(text + p, len - p, &cp);
        if (cp == 0xFFFD || is_space_cp(cp) || is_emoji_tail_cp(cp)) {
            p += k;
            continue;
        }
        if (is_word_cp(cp)) {
            p = read_word(text, len, p, tb);
            continue;
        }
        if (is_emoji_cp(cp)) {
            ctok *t = new_token(tb, CTOK_EMOJI, p);
            if (t) {
                (void)norm_put(tb, t, text + p, k);
                finish_token(tb, t, p + k);
            }
            p += k;
            continue;
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
            t->punct = cp < 0x80 ? (uint8_t)cp : 0;
            if (cp == '.' || cp == '!' || cp == '?' || cp == ';' || cp == 0x3002)
                t->flags |= CTOK_F_SENT_END | CTOK_F_CLAUSE_END;
            else if (cp == ',' || cp == ':' || cp == '(' || cp == ')' || cp == '-' ||
                     cp == 0x2014 || cp == 0x2013 || cp == '"')
                t->flags |= CTOK_F_CLAUSE_END;
            (void)norm_put(tb, t, text + p, cp < 0x80 ? 1 : k);
            finish_token(tb, t, q);
        }
        p = q > p ? q : p + 1;
    }
    /* capitals mean emphasis only against a background of lower case */
    tb->all_caps_text = tb->n_words > 0 && tb->n_caps * 10 >= tb->n_words * 8;
    tb->title_text = tb->n_words > 0 && tb->n_titles * 2 > tb->n_words;
}
