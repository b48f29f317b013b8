#include "batch.h"

#include "files.h"
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Room for an id written in place; a longer one goes through json_print. */
#define ID_ROOM 256

/* Writes the id as the line gave it into buf (ID_ROOM bytes): a string, an
 * integer or another finite number (the digits that read back as the same
 * double); 0 when it must go through json_print. */
static size_t write_id(char *buf, const cJSON *id)
{
    if (!id) {
        memcpy(buf, "null", 4);
        return 4;
    }
    size_t n = json_write_scalar(buf, ID_ROOM, id);
    if (!n && cJSON_IsNumber(id))
        n = json_write_number(buf, ID_ROOM, id->valuedouble);
    return n;
}

/* Writes line (n bytes, its id written in place after its first 6), or,
 * with ids (an id write_id could not write), line's first 6 bytes, ids and
 * the rest. 0, or -1 when out cannot take it. */
static int put_line(FILE *out, const char *line, size_t n, const char *ids)
{
    if (!ids)
        return fwrite(line, 1, n, out) == n ? 0 : -1;
    return fwrite(line, 1, 6, out) != 6 || fputs(ids, out) < 0 ||
                   fwrite(line + 6, 1, n - 6, out) != n - 6
               ? -1
               : 0;
}

/* {"id":...,"error":"..."}: the id as write_id writes it, so that an error
 * line names its input as a result line would. */
static int emit_error(FILE *out, const cJSON *id, const char *msg)
{
    char line[6 + ID_ROOM + 10 + 6 * 256 + 4];
    char *ids = NULL;
    memcpy(line, "{\"id\":", 6);
    size_t n = 6, idn = write_id(line + n, id);
    if (!idn && !(ids = json_print(id)))
        return fputs("{\"id\":null,\"error\":\"out of memory\"}\n", out) < 0 ? -1 : 0;
    n += idn;
    memcpy(line + n, ",\"error\":", 9);
    n += 9;
    size_t m = json_write_string(line + n, sizeof line - n - 2, msg);
    if (!m) {
        free(ids);
        return -1;
    }
    n += m;
    line[n++] = '}';
    line[n++] = '\n';
    int rc = put_line(out, line, n, ids);
    free(ids);
    return rc;
}

/* The whole line in one buffer: the id (write_id, through json_print only
 * for an id it cannot write in place), then the result, whose own '{'
 * gives way to the comma after the id. */
static int emit_result(FILE *out, const cJSON *id, const classify_result *r)
{
    char line[6 + ID_ROOM + CLASSIFY_JSON_MAX + 1];
    char *ids = NULL;
    memcpy(line, "{\"id\":", 6);
    size_t n = 6, idn = write_id(line + n, id);
    if (!idn && !(ids = json_print(id)))
        return emit_error(out, id, "out of memory");
    n += idn;
    size_t rn = classify_result_write_json(r, line + n, CLASSIFY_JSON_MAX);
    if (rn < 2) {
        free(ids);
        return emit_error(out, id, "out of memory");
    }
    line[n] = ',';
    n += rn;
    line[n++] = '\n';
    int rc = put_line(out, line, n, ids);
    free(ids);
    return rc;
}

static int handle_line(const classify *c, const char *line, size_t len, FILE *out)
{
    classify_batch_item item;
    cJSON *id = NULL;
    char err[256];
    if (classify_batch_parse_line(line, len, &item, &id, err, sizeof err) != ATTUNE_OK) {
        int rc = emit_error(out, id, err);
        cJSON_Delete(id);
        return rc;
    }
    cJSON_Delete(id);
    classify_result r;
    int rc;
    if (classify_text(c, item.text, item.text_len, &item.ctx, &r) != ATTUNE_OK)
        rc = emit_error(out, item.id, "classification failed");
    else
        rc = emit_result(out, item.id, &r);
    classify_batch_item_fini(&item);
    return rc;
}

enum { LINE_OK, LINE_TOO_LONG, LINE_EOF, LINE_WAIT };

/* The input, read from its descriptor in large reads: a line may hold any
 * byte (a NUL is the parser's to refuse, not the end of the line), and the
 * reader knows when the next line is not there yet, so that the answers so
 * far can be written out before it waits (a pipe that waits on each
 * answer). */
#define READER_BYTES (64u << 10)

typedef struct {
    int fd;
    int eof, err;
    size_t pos, end;
    char buf[READER_BYTES];
} line_reader;

/* A reader of in's descriptor, or NULL (no memory, or in has none). */
static line_reader *reader_new(FILE *in)
{
    const int fd = fileno(in);
    line_reader *r = fd >= 0 ? malloc(sizeof *r) : NULL;
    if (r)
        *r = (line_reader){.fd = fd};
    return r;
}

static int reader_fill(line_reader *r)
{
    for (;;) {
        ssize_t got = read(r->fd, r->buf, sizeof r->buf);
        if (got > 0) {
            r->pos = 0;
            r->end = (size_t)got;
            return 1;
        }
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* a descriptor left non-blocking by whoever started us */
            struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
            if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
                continue;
        }
        if (got < 0)
            r->err = 1;
        r->eof = 1;
        return 0;
    }
}

/* Whether the next line would make the reader wait: no whole line is
 * buffered (a line half written counts as none) and nothing can be read at
 * once. */
static int reader_idle(const line_reader *r)
{
    if (r->eof || memchr(r->buf + r->pos, '\n', r->end - r->pos))
        return 0;
    struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
    return poll(&pfd, 1, 0) == 0;
}

/* Reads one line into dst (cap bytes), without its end of line (a "\r"
 * before "\n" included); a line longer than CLASSIFY_BATCH_MAX_LINE is read
 * to its end and reported as such, never grown into. */
static int read_line(line_reader *r, char *dst, size_t cap, size_t *len)
{
    size_t n = 0;
    int any = 0;
    for (;;) {
        if (r->pos == r->end && (r->eof || !reader_fill(r)))
            break;
        any = 1;
        const char *from = r->buf + r->pos;
        const char *nl = memchr(from, '\n', r->end - r->pos);
        const size_t take = nl ? (size_t)(nl - from) : r->end - r->pos;
        if (n < cap)
            memcpy(dst + n, from, take < cap - n ? take : cap - n);
        n += take;
        r->pos += take + (nl != NULL);
        if (nl)
            break;
    }
    if (!any)
        return LINE_EOF;
    if (n > 0 && n <= cap && dst[n - 1] == '\r')
        n--;
    if (n > CLASSIFY_BATCH_MAX_LINE)
        return LINE_TOO_LONG;
    dst[n] = '\0';
    *len = n;
    return LINE_OK;
}

/* JSON's white space only: a line of it is skipped. */
static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

#define LINE_TOO_LONG_MSG "line longer than 65536 bytes"

static int batch_run_one(const classify *c, line_reader *rd, FILE *out)
{
    size_t cap = CLASSIFY_BATCH_MAX_LINE + 2;
    char *buf = malloc(cap);
    if (!buf)
        return 1;
    int rc = 0, st;
    size_t n = 0;
    for (;;) {
        /* each answer is out before the reader waits for the next line */
        if (reader_idle(rd) && fflush(out) != 0) {
            rc = 1;
            break;
        }
        if ((st = read_line(rd, buf, cap, &n)) == LINE_EOF)
            break;
        if (st == LINE_TOO_LONG)
            rc = emit_error(out, NULL, LINE_TOO_LONG_MSG) < 0;
        else if (!is_blank(buf, n))
            rc = handle_line(c, buf, n, out) < 0;
        if (rc)
            break;
    }
    if (rd->err)
        rc = 1;
    if (fflush(out) != 0)
        rc = 1;
    free(buf);
    return rc;
}

/* With several threads: the main thread reads blocks of lines and writes
 * the finished blocks in input order; the workers classify whole blocks,
 * each into its own memory stream (so the line code is the same as above). */
#define BLOCK_LINES 512
/* a block stops taking lines past this many bytes, so that long lines do
 * not make every block 512 x 64 KiB */
#define BLOCK_BYTES (1u << 20)
#define MAX_BATCH_THREADS 256

typedef struct {
    char *text; /* the block's lines back to back, each NUL-terminated */
    size_t text_len, text_cap;
    size_t off[BLOCK_LINES];
    size_t len[BLOCK_LINES]; /* SIZE_MAX: the line was too long */
    size_t n;
    char *out; /* what the block's lines produced, from open_memstream */
    size_t out_len;
    int failed;
    int done;
} batch_block;

typedef struct {
    const classify *c;
    batch_block *blocks;
    size_t n_blocks; /* a power of two */
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    size_t published, taken; /* blocks handed out, blocks a worker took */
    int stop;
} batch_pool;

static void block_run(const classify *c, batch_block *b)
{
    free(b->out);
    b->out = NULL;
    b->out_len = 0;
    FILE *mem = open_memstream(&b->out, &b->out_len);
    if (!mem) {
        b->failed = 1;
        return;
    }
    int rc = 0;
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        if (b->len[i] == SIZE_MAX)
            rc = emit_error(mem, NULL, LINE_TOO_LONG_MSG);
        else
            rc = handle_line(c, b->text + b->off[i], b->len[i], mem);
    }
    if (fclose(mem) != 0 || rc < 0)
        b->failed = 1;
}

static void *batch_worker(void *arg)
{
    batch_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->taken == p->published)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->taken == p->published)
            break; /* stopped, and nothing is left */
        batch_block *b = &p->blocks[p->taken++ & (p->n_blocks - 1)];
        pthread_mutex_unlock(&p->mu);
        block_run(p->c, b);
        pthread_mutex_lock(&p->mu);
        b->done = 1;
        pthread_cond_broadcast(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Fills b with up to BLOCK_LINES lines; returns LINE_EOF when the input
 * ended (the block may still hold lines), LINE_WAIT when the next line is
 * not there yet and the block holds lines or blocks handed out before it
 * are not written yet (pending), else LINE_OK; -1 out of memory. */
static int block_fill(batch_block *b, line_reader *rd, char *buf, size_t cap, int pending)
{
    b->n = 0;
    b->text_len = 0;
    b->failed = 0;
    b->done = 0;
    while (b->n < BLOCK_LINES && b->text_len < BLOCK_BYTES) {
        if ((b->n > 0 || pending) && reader_idle(rd))
            return LINE_WAIT;
        size_t n = 0;
        int st = read_line(rd, buf, cap, &n);
        if (st == LINE_EOF)
            return LINE_EOF;
        if (st == LINE_OK && is_blank(buf, n))
            continue;
        size_t need = st == LINE_OK ? n + 1 : 1;
        if (b->text_len + need > b->text_cap) {
            size_t ncap = (b->text_len + need) * 2;
            char *nt = realloc(b->text, ncap);
            if (!nt)
                return -1;
            b->text = nt;
            b->text_cap = ncap;
        }
        b->off[b->n] = b->text_len;
        b->len[b->n] = st == LINE_OK ? n : SIZE_MAX;
        if (st == LINE_OK)
            memcpy(b->text + b->text_len, buf, n);
        b->text[b->text_len + need - 1] = '\0';
        b->text_len += need;
        b->n++;
    }
    return LINE_OK;
}

/* Waits for block seq to be done, writes it unless write is 0, and returns
 * 0, or 1 when it failed or could not be written. */
static int block_write(batch_pool *p, size_t seq, FILE *out, int write)
{
    batch_block *b = &p->blocks[seq & (p->n_blocks - 1)];
    pthread_mutex_lock(&p->mu);
    while (!b->done)
        pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    if (b->failed)
        return 1;
    if (!write)
        return 0;
    return b->out_len && fwrite(b->out, 1, b->out_len, out) != b->out_len;
}

static int batch_run_pool(const classify *c, line_reader *rd, FILE *out, int threads)
{
    /* two blocks per worker, rounded up to a power of two (slots by mask) */
    batch_pool p = {.c = c, .n_blocks = 2};
    while (p.n_blocks < (size_t)threads * 2)
        p.n_blocks *= 2;
    size_t cap = CLASSIFY_BATCH_MAX_LINE + 2;
    char *buf = malloc(cap);
    p.blocks = calloc(p.n_blocks, sizeof *p.blocks);
    pthread_t tids[MAX_BATCH_THREADS];
    int started = 0, rc = 0;
    if (!buf || !p.blocks) {
        free(buf);
        free(p.blocks);
        return 1;
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.work_cv, NULL);
    pthread_cond_init(&p.done_cv, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    /* classify_text keeps its scratch on the stack */
    pthread_attr_setstacksize(&attr, 2u << 20);
    for (; started < threads; started++)
        if (pthread_create(&tids[started], &attr, batch_worker, &p) != 0)
            break;
    pthread_attr_destroy(&attr);
    if (started == 0)
        rc = 1;
    size_t seq = 0, written = 0;
    int st = LINE_OK;
    while (rc == 0 && (st == LINE_OK || st == LINE_WAIT)) {
        /* the slot is free once the block that used it was written */
        if (seq >= p.n_blocks && written <= seq - p.n_blocks) {
            rc = block_write(&p, written++, out, 1);
            continue;
        }
        batch_block *b = &p.blocks[seq & (p.n_blocks - 1)];
        st = block_fill(b, rd, buf, cap, written < seq);
        if (st < 0) {
            rc = 1;
            break;
        }
        if (b->n == 0 && st != LINE_WAIT)
            break; /* the input ended */
        if (b->n > 0) {
            pthread_mutex_lock(&p.mu);
            p.published = ++seq;
            pthread_cond_signal(&p.work_cv);
            pthread_mutex_unlock(&p.mu);
        }
        /* the input has nothing more for now: every block handed out is
         * written before the reader waits, as one thread answers */
        while (st == LINE_WAIT && rc == 0 && written < seq)
            rc = block_write(&p, written++, out, 1);
        if (st == LINE_WAIT && rc == 0 && fflush(out) != 0)
            rc = 1;
    }
    pthread_mutex_lock(&p.mu);
    p.stop = 1;
    pthread_cond_broadcast(&p.work_cv);
    pthread_mutex_unlock(&p.mu);
    /* every published block is still waited for; after a failure nothing
     * more is written, so the output stops where one thread would stop */
    while (written < seq) {
        int wr = block_write(&p, written++, out, rc == 0);
        if (rc == 0)
            rc = wr;
    }
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    for (size_t i = 0; i < p.n_blocks; i++) {
        free(p.blocks[i].text);
        free(p.blocks[i].out);
    }
    pthread_cond_destroy(&p.done_cv);
    pthread_cond_destroy(&p.work_cv);
    pthread_mutex_destroy(&p.mu);
    free(p.blocks);
    free(buf);
    if (rd->err)
        rc = 1;
    if (fflush(out) != 0)
        rc = 1;
    return rc;
}

int classify_batch_run(const classify *c, FILE *in, FILE *out, int threads)
{
    if (threads > MAX_BATCH_THREADS)
        threads = MAX_BATCH_THREADS;
    line_reader *rd = reader_new(in);
    if (!rd)
        return 1;
    int rc = threads > 1 ? batch_run_pool(c, rd, out, threads) : batch_run_one(c, rd, out);
    free(rd);
    return rc;
}

#define BENCH_MAX_TEXTS 1000000
#define BENCH_MAX_THREADS 256

typedef struct {
    const classify *c;
    char *const *texts;
    const size_t *lens;
    size_t n;
    int passes;
    int failed;
    double checksum;
} bench_job;

static void *bench_thread(void *arg)
{
    bench_job *j = arg;
    for (int p = 0; p < j->passes; p++) {
        for (size_t i = 0; i < j->n; i++) {
            classify_result r;
            if (classify_text(j->c, j->texts[i], j->lens[i], NULL, &r) != ATTUNE_OK) {
                j->failed = 1;
                return NULL;
            }
            j->checksum += r.sentiment.score; /* keeps the work observable */
        }
    }
    return NULL;
}

int classify_bench_run(const classify *c, FILE *in, FILE *out, int passes, int threads)
{
    size_t cap = CLASSIFY_BATCH_MAX_LINE + 2, n = 0, ncap = 0;
    char *buf = malloc(cap);
    line_reader *rd = reader_new(in);
    char **texts = NULL;
    size_t *lens = NULL;
    int rc = 1;
    if (!buf || !rd) {
        free(buf);
        free(rd);
        return 1;
    }
    size_t len = 0;
    int st;
    while (n < BENCH_MAX_TEXTS && (st = read_line(rd, buf, cap, &len)) != LINE_EOF) {
        if (st == LINE_TOO_LONG)
            continue;
        classify_batch_item item;
        char err[128];
        if (classify_batch_parse_line(buf, len, &item, NULL, err, sizeof err) != ATTUNE_OK)
            continue;
        if (n == ncap) {
            ncap = ncap ? ncap * 2 : 1024;
            char **nt = realloc(texts, ncap * sizeof *nt);
            if (nt)
                texts = nt;
            size_t *nl = realloc(lens, ncap * sizeof *nl);
            if (nl)
                lens = nl;
            if (!nt || !nl) {
                classify_batch_item_fini(&item);
                goto out;
            }
        }
        texts[n] = malloc(item.text_len + 1);
        if (!texts[n]) {
            classify_batch_item_fini(&item);
            goto out;
        }
        memcpy(texts[n], item.text, item.text_len + 1);
        lens[n++] = item.text_len;
        classify_batch_item_fini(&item);
    }
    struct timespec t0, t1;
    double checksum = 0;
    bench_job jobs[BENCH_MAX_THREADS];
    pthread_t tids[BENCH_MAX_THREADS];
    if (threads < 1 || threads > BENCH_MAX_THREADS)
        goto out;
    for (int t = 0; t < threads; t++)
        jobs[t] = (bench_job){c, texts, lens, n, passes, 0, 0};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (threads == 1) {
        bench_thread(&jobs[0]);
    } else {
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) != 0)
            goto out;
        /* classify_text keeps its scratch on the stack: 512 KiB or more */
        pthread_attr_setstacksize(&attr, 2u << 20);
        int started = 0;
        for (; started < threads; started++)
            if (pthread_create(&tids[started], &attr, bench_thread, &jobs[started]) != 0)
                break;
        pthread_attr_destroy(&attr);
        for (int t = 0; t < started; t++)
            pthread_join(tids[t], NULL);
        if (started < threads)
            goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (int t = 0; t < threads; t++) {
        if (jobs[t].failed)
            goto out;
        checksum += jobs[t].checksum;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double total = (double)n * passes * threads;
    fprintf(out,
            "{\"messages\":%.0f,\"seconds\":%.6f,\"per_second\":%.1f,\"threads\":%d,"
            "\"checksum\":%.4f}\n",
            total, secs, secs > 0 ? total / secs : 0.0, threads, checksum);
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    free(lens);
    free(buf);
    free(rd);
    return rc;
}
