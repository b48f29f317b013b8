/* attune-train: trains the intent model of attune-classify.
 *
 *   attune-train --data FILE --out MODEL [--solver lr|svm|cs] [--C N]
 *                [--min-count N] [--staff FILE [--head-C N]
 *                [--threat-at P] [--hostile-at P]]
 *   attune-train --data FILE --cv K [--solver ...] [--C N] [--min-count N]
 *       K-fold cross-validation accuracy on FILE alone (to choose C and the
 *       solver on training data, never on held-out data); writes no model.
 *
 * FILE holds JSON lines {"text": ..., "label": ...}. With --staff, a second
 * file of messages labelled with the threat reading a careful reader gives
 * them (none, profanity, abuse, threat) trains the model's two heads, which
 * are binary logistic models over the same features: "threat" (a threat of
 * harm) and "hostile" (abuse or a threat). The intent examples are their
 * negatives too: a request is neither. Features are the ones
 * the classifier computes at run time (classify_intent_features), so a model
 * always means the same thing in training and in service; the optimisation
 * itself is LIBLINEAR's. The model file format is described in
 * common/classify/intent.c and docs/classifier.md. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linear.h>

#include "classify/classify.h"
#include "json.h"

#define TRAIN_MAX_EXAMPLES 2000000
#define TRAIN_MAX_LINE 65536
#define TRAIN_MAX_OCCURRENCES 400000000UL

typedef struct {
    uint64_t key;          /* 0 empty */
    uint32_t index;        /* 1-based feature index */
    uint32_t count;        /* occurrences seen */
    uint32_t count_intent; /* of them, in the intent examples */
    uint32_t name_off;
    float weight; /* a feature's weight depends only on its family */
} vocab_slot;

typedef struct {
    vocab_slot *slots;
    size_t cap, used;
    char *names;
    size_t names_used, names_cap;
    /* features of the example being read */
    uint32_t *cur;
    size_t cur_n, cur_cap;
    int staff; /* reading the staff examples */
    int oom;
} vocab;

typedef struct {
    int label;       /* the intent label, or for a staff example its reading */
    int staff;       /* from the --staff file */
    double norm_sq;  /* sum of squared weights, including features dropped later */
    size_t feat_off; /* into the flat list of feature indices */
    uint32_t n_feat;
} example;

static int vocab_grow(vocab *v)
{
    size_t ncap = v->cap ? v->cap * 2 : 1 << 16;
    vocab_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < v->cap; i++) {
        if (!v->slots[i].key)
            continue;
        size_t j = (size_t)v->slots[i].key & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = v->slots[i];
    }
    free(v->slots);
    v->slots = ns;
    v->cap = ncap;
    return 0;
}

static void on_feature(uint64_t hash, const char *name, size_t name_len, float wt, void *arg)
{
    vocab *v = arg;
    if (v->oom)
        return;
    if ((v->used + 1) * 2 > v->cap && vocab_grow(v) != 0) {
        v->oom = 1;
        return;
    }
    size_t j = (size_t)hash & (v->cap - 1);
    while (v->slots[j].key && v->slots[j].key != hash)
        j = (j + 1) & (v->cap - 1);
    vocab_slot *s = &v->slots[j];
    if (!s->key) {
        if (v->names_used + name_len + 1 > v->names_cap) {
            size_t nc = v->names_cap ? v->names_cap * 2 : 1 << 20;
            while (nc < v->names_used + name_len + 1)
                nc *= 2;
            char *nn = realloc(v->names, nc);
            if (!nn) {
                v->oom = 1;
                return;
            }
            v->names = nn;
            v->names_cap = nc;
        }
        memcpy(v->names + v->names_used, name, name_len);
        v->names[v->names_used + name_len] = '\0';
        s->key = hash;
        s->weight = wt;
        s->index = (uint32_t)(++v->used);
        s->name_off = (uint32_t)v->names_used;
        v->names_used += name_len + 1;
    }
    s->count++;
    s->count_intent += !v->staff;
    if (v->cur_n == v->cur_cap) {
        size_t nc = v->cur_cap ? v->cur_cap * 2 : 1 << 20;
        uint32_t *nn = realloc(v->cur, nc * sizeof *nn);
        if (!nn) {
            v->oom = 1;
            return;
        }
        v->cur = nn;
        v->cur_cap = nc;
    }
    v->cur[v->cur_n++] = s->index;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void quiet(const char *s)
{
    (void)s;
}

static int label_index(char labels[][CLASSIFY_LABEL_MAX], int *n, const char *name)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(labels[i], name) == 0)
            return i;
    if (*n >= CLASSIFY_MAX_INTENTS || strlen(name) >= CLASSIFY_LABEL_MAX || !name[0])
        return -1;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p <= ' ')
            return -1; /* labels are single tokens in the model file */
    memcpy(labels[*n], name, strlen(name) + 1);
    return (*n)++;
}

/* The readings of a staff example, in order of gravity; the heads are
 * trained on them (see heads). */
static const char *const staff_labels[] = {"none", "profanity", "abuse", "threat"};
#define STAFF_ABUSE 2
#define STAFF_THREAT 3

/* The index of a staff reading in staff_labels, or -1. */
static int staff_label_index(const char *name)
{
    for (int k = 0; k < (int)(sizeof staff_labels / sizeof staff_labels[0]); k++)
        if (strcmp(name, staff_labels[k]) == 0)
            return k;
    return -1;
}
/* A feature only the staff examples have is kept from this many
 * occurrences on: one seen once is mostly a name or a typo, and there are
 * many (the heads' general-text negatives bring a large vocabulary). */
#define STAFF_MIN_COUNT 2

/* The heads, in the order of their columns: a name the model loader knows
 * and the least reading of its positive examples. */
static const struct {
    const char *name;
    int from;
} heads[] = {{"threat", STAFF_THREAT}, {"hostile", STAFF_ABUSE}};
#define N_HEADS ((int)(sizeof heads / sizeof heads[0]))

static void usage(FILE *f)
{
    fputs("usage: attune-train --data FILE --out MODEL [--solver lr|svm|cs] [--C N]\n"
          "                    [--min-count N] [--staff FILE [--head-C N]\n"
          "                    [--threat-at P] [--hostile-at P]]\n"
          "  FILE: JSON lines {\"text\": ..., \"label\": ...}\n"
          "  --solver  lr: logistic regression (default, calibrated confidences)\n"
          "            svm: L2-loss linear SVM; cs: Crammer-Singer multi-class SVM\n"
          "  --C       regularisation cost (default 10 for lr, 1 for svm/cs)\n"
          "  --min-count  drop features seen fewer times (default 1)\n"
          "  --cv K    print K-fold cross-validation accuracy instead of writing a model\n"
          "  --staff FILE  JSON lines {\"text\": ..., \"label\": none|profanity|abuse|threat}:\n"
          "            trains the heads \"threat\" and \"hostile\" (abuse or threat)\n"
          "  --head-C  the heads' regularisation cost (default 10)\n"
          "  --threat-at, --hostile-at  the probability from which a head raises the\n"
          "            threat reading (defaults 0.5 and 0.5)\n",
          f);
}

/* Whether a probability argument is in (0, 1). */
static int parse_prob_arg(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0 && v < 1))
        return -1;
    *out = v;
    return 0;
}

static int parse_double_arg(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 1e6)
        return -1;
    *out = v;
    return 0;
}

/* Trains each head on every example, an intent example a negative (a
 * request is neither a threat nor abuse): the weight of feature f in
 * w[f] (n_feat + 1 per head), the bias in b. The same features and scaling
 * as the intent problem, and the logistic loss: the heads' outputs are
 * probabilities. The intent examples' bias feature moves from after the
 * intent problem's features (so that the intent columns are those of a
 * model trained without --staff) to after all n_feat. */
static int train_heads(struct feature_node **xs, const example *ex, size_t n_ex, int n_feat,
                       double C, double *w, double *b)
{
    if (n_ex == 0)
        return -1; /* (heads_trainable saw examples) */
    for (size_t e = 0; e < n_ex; e++) {
        struct feature_node *p = xs[e];
        while (p->index != -1)
            p++;
        p[-1].index = n_feat + 1;
    }
    double *y = malloc(n_ex * sizeof *y);
    if (!y)
        return -1;
    for (int h = 0; h < N_HEADS; h++) {
        for (size_t e = 0; e < n_ex; e++)
            y[e] = ex[e].staff && ex[e].label >= heads[h].from;
        struct problem p = {.l = (int)n_ex, .n = n_feat + 1, .y = y, .x = xs, .bias = 1.0};
        struct parameter param = {.solver_type = L2R_LR, .eps = 0.01, .C = C, .p = 0.1};
        struct model *hm = train(&p, &param);
        if (!hm) {
            free(y);
            return -1;
        }
        int lab[2];
        get_labels(hm, lab);
        const int pos = lab[0] == 1 ? 0 : 1;
        for (int f = 1; f <= n_feat; f++)
            w[(size_t)h * (size_t)(n_feat + 1) + (size_t)f] = get_decfun_coef(hm, f, pos);
        b[h] = get_decfun_bias(hm, pos);
        free_and_destroy_model(&hm);
    }
    free(y);
    return 0;
}

/* Whether each head has positive and negative staff examples. */
static int heads_trainable(const example *ex, size_t n_ex)
{
    for (int h = 0; h < N_HEADS; h++) {
        size_t pos = 0, neg = 0;
        for (size_t e = 0; e < n_ex; e++)
            if (ex[e].staff)
                ex[e].label >= heads[h].from ? pos++ : neg++;
        if (!pos || !neg) {
            fprintf(stderr,
                    "attune-train: the staff file wants examples in and out of head %s (%zu and "
                    "%zu)\n",
                    heads[h].name, pos, neg);
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *data = NULL, *out_path = NULL, *solver = "lr", *staff = NULL;
    double C = 0, head_C = 10, head_at[N_HEADS] = {0.5, 0.5};
    long min_count = 1;
    long cv_folds = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else if (strcmp(argv[i], "--staff") == 0 && i + 1 < argc) {
            staff = argv[++i];
        } else if (strcmp(argv[i], "--head-C") == 0 && i + 1 < argc) {
            if (parse_double_arg(argv[++i], &head_C) != 0) {
                fputs("attune-train: --head-C wants a positive number\n", stderr);
                return 2;
            }
        } else if ((strcmp(argv[i], "--threat-at") == 0 || strcmp(argv[i], "--hostile-at") == 0) &&
                   i + 1 < argc) {
            const int h = strcmp(argv[i], "--threat-at") == 0 ? 0 : 1;
            if (parse_prob_arg(argv[++i], &head_at[h]) != 0) {
                fprintf(stderr, "attune-train: %s wants a probability between 0 and 1\n",
                        argv[i - 1]);
                return 2;
            }
        } else if (strcmp(argv[i], "--solver") == 0 && i + 1 < argc) {
            solver = argv[++i];
        } else if (strcmp(argv[i], "--C") == 0 && i + 1 < argc) {
            if (parse_double_arg(argv[++i], &C) != 0) {
                fputs("attune-train: --C wants a positive number\n", stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "--min-count") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            min_count = strtol(argv[++i], &end, 10);
            if (errno || *end || min_count < 1 || min_count > 1000000) {
                fputs("attune-train: --min-count wants an integer in [1, 1000000]\n", stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "--cv") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            cv_folds = strtol(argv[++i], &end, 10);
            if (errno || *end || cv_folds < 2 || cv_folds > 100) {
                fputs("attune-train: --cv wants a number of folds in [2, 100]\n", stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("attune-train %s\n", ATTUNE_VERSION);
            return 0;
        } else {
            fprintf(stderr, "attune-train: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    int solver_type;
    if (strcmp(solver, "lr") == 0)
        solver_type = L2R_LR;
    else if (strcmp(solver, "svm") == 0)
        solver_type = L2R_L2LOSS_SVC_DUAL;
    else if (strcmp(solver, "cs") == 0)
        solver_type = MCSVM_CS;
    else {
        fputs("attune-train: --solver must be lr, svm or cs\n", stderr);
        return 2;
    }
    if (C == 0)
        C = solver_type == L2R_LR ? 10.0 : 1.0;
    if (!data || (!out_path && !cv_folds)) {
        usage(stderr);
        return 2;
    }

    int status = 1;
    FILE *in = NULL, *out = NULL;
    char *line = NULL;
    example *ex = NULL;
    size_t n_ex = 0, ex_cap = 0;
    uint32_t *flat = NULL;
    size_t flat_n = 0, flat_cap = 0;
    struct feature_node *nodes = NULL;
    struct feature_node **xs = NULL;
    double *ys = NULL;
    uint32_t *remap = NULL;
    float *weight_of = NULL;
    double *head_w = NULL, head_b[N_HEADS] = {0};
    struct model *model = NULL;
    char labels[CLASSIFY_MAX_INTENTS][CLASSIFY_LABEL_MAX];
    int n_labels = 0;
    vocab v;
    memset(&v, 0, sizeof v);
    char tmp_path[4096];

    line = malloc(TRAIN_MAX_LINE + 2);
    if (!line)
        goto oom;
    /* the intent examples first, so that their features are numbered as
     * without --staff (the intent columns come out the same) */
    size_t n_intent = 0, intent_vocab = 0;
    for (int file = 0; file < 2; file++) {
        const char *path = file ? staff : data;
        if (!path)
            continue;
        v.staff = file;
        in = fopen(path, "r");
        if (!in) {
            fprintf(stderr, "attune-train: %s: %s\n", path, strerror(errno));
            goto out;
        }
        unsigned lineno = 0;
        while (fgets(line, TRAIN_MAX_LINE + 2, in)) {
            lineno++;
            size_t n = strlen(line);
            if (n > 0 && line[n - 1] == '\n')
                line[--n] = '\0';
            else if (!feof(in)) {
                fprintf(stderr, "attune-train: %s:%u: line longer than %d bytes\n", path, lineno,
                        TRAIN_MAX_LINE);
                goto out;
            }
            if (n == 0)
                continue;
            cJSON *j = NULL;
            char why[160];
            if (json_parse(line, n, CLASSIFY_BATCH_MAX_DEPTH, &j, why, sizeof why) != ATTUNE_OK) {
                fprintf(stderr, "attune-train: %s:%u: %s\n", path, lineno, why);
                goto out;
            }
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "text");
            const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "label");
            if (!cJSON_IsString(t) || !cJSON_IsString(l)) {
                fprintf(stderr, "attune-train: %s:%u: want {\"text\": string, \"label\": string}\n",
                        path, lineno);
                cJSON_Delete(j);
                goto out;
            }
            const int li = file ? staff_label_index(l->valuestring)
                                : label_index(labels, &n_labels, l->valuestring);
            if (li < 0 && file) {
                fprintf(stderr,
                        "attune-train: %s:%u: want a label none, profanity, abuse or threat\n",
                        path, lineno);
                cJSON_Delete(j);
                goto out;
            }
            if (li < 0) {
                fprintf(
                    stderr,
                    "attune-train: %s:%u: bad label (empty, spaces, >= %d bytes or > %d labels)\n",
                    path, lineno, CLASSIFY_LABEL_MAX, CLASSIFY_MAX_INTENTS);
                cJSON_Delete(j);
                goto out;
            }
            if (n_ex >= TRAIN_MAX_EXAMPLES) {
                fprintf(stderr, "attune-train: more than %d examples\n", TRAIN_MAX_EXAMPLES);
                cJSON_Delete(j);
                goto out;
            }
            v.cur_n = 0;
            double norm_sq =
                classify_intent_features(t->valuestring, strlen(t->valuestring), 1, on_feature, &v);
            cJSON_Delete(j);
            if (v.oom)
                goto oom;
            if (n_ex == ex_cap) {
                ex_cap = ex_cap ? ex_cap * 2 : 1024;
                example *ne = realloc(ex, ex_cap * sizeof *ne);
                if (!ne)
                    goto oom;
                ex = ne;
            }
            if (flat_n + v.cur_n > TRAIN_MAX_OCCURRENCES) {
                fputs("attune-train: too many feature occurrences\n", stderr);
                goto out;
            }
            if (flat_n + v.cur_n > flat_cap) {
                size_t nc = flat_cap ? flat_cap : 1 << 20;
                while (nc < flat_n + v.cur_n)
                    nc *= 2;
                uint32_t *nf = realloc(flat, nc * sizeof *nf);
                if (!nf)
                    goto oom;
                flat = nf;
                flat_cap = nc;
            }
            if (v.cur_n > 0)
                memcpy(flat + flat_n, v.cur, v.cur_n * sizeof *flat);
            ex[n_ex].label = li;
            ex[n_ex].staff = file;
            ex[n_ex].norm_sq = norm_sq;
            ex[n_ex].feat_off = flat_n;
            ex[n_ex].n_feat = (uint32_t)v.cur_n;
            flat_n += v.cur_n;
            n_ex++;
        }
        if (ferror(in)) {
            fprintf(stderr, "attune-train: %s: read error\n", path);
            goto out;
        }
        fclose(in);
        in = NULL;
        if (!file) {
            n_intent = n_ex;
            intent_vocab = v.used;
        }
    }
    if (n_intent == 0 || n_labels < 2) {
        fputs("attune-train: need examples of at least two labels\n", stderr);
        goto out;
    }
    if (staff && !heads_trainable(ex, n_ex))
        goto out;

    /* features seen too rarely are dropped; the rest are renumbered densely */
    remap = calloc(v.used + 1, sizeof *remap);
    uint32_t *count_of = calloc(v.used + 1, sizeof *count_of);
    uint32_t *name_of = calloc(v.used + 1, sizeof *name_of);
    float *wt_of = calloc(v.used + 1, sizeof *wt_of);
    if (!remap || !count_of || !name_of || !wt_of) {
        free(wt_of);
        free(count_of);
        free(name_of);
        goto oom;
    }
    for (size_t i = 0; i < v.cap; i++)
        if (v.slots[i].key) {
            /* --min-count applies to what the intent examples hold, so
             * that the intent columns are those of a model trained without
             * --staff */
            count_of[v.slots[i].index] =
                v.slots[i].index <= intent_vocab ? v.slots[i].count_intent : v.slots[i].count;
            name_of[v.slots[i].index] = v.slots[i].name_off;
            wt_of[v.slots[i].index] = v.slots[i].weight;
        }
    /* the intent examples' features come first, numbered as without
     * --staff (1 to n_feat_intent) */
    uint32_t n_feat = 0, n_feat_intent = 0;
    for (size_t i = 1; i <= v.used; i++) {
        /* (a feature only the staff examples have needs STAFF_MIN_COUNT at
         * least) */
        const long need =
            i > intent_vocab && min_count < STAFF_MIN_COUNT ? STAFF_MIN_COUNT : min_count;
        remap[i] = count_of[i] >= (uint32_t)need ? ++n_feat : 0;
        if (i <= intent_vocab)
            n_feat_intent = n_feat;
    }
    /* name_of by new index */
    uint32_t *kept_name = calloc((size_t)n_feat + 1, sizeof *kept_name);
    weight_of = calloc((size_t)n_feat + 1, sizeof *weight_of);
    if (!kept_name || !weight_of) {
        free(kept_name);
        free(count_of);
        free(name_of);
        free(wt_of);
        goto oom;
    }
    for (size_t i = 1; i <= v.used; i++)
        if (remap[i]) {
            kept_name[remap[i]] = name_of[i];
            weight_of[remap[i]] = wt_of[i];
        }
    free(count_of);
    free(name_of);
    free(wt_of);

    nodes = malloc((flat_n + 2 * n_ex) * sizeof *nodes);
    xs = malloc(n_ex * sizeof *xs);
    ys = malloc(n_ex * sizeof *ys);
    if (!nodes || !xs || !ys) {
        free(kept_name);
        goto oom;
    }
    size_t pos = 0;
    for (size_t e = 0; e < n_ex; e++) {
        uint32_t *f = flat ? flat + ex[e].feat_off : NULL;
        for (uint32_t k = 0; f && k < ex[e].n_feat; k++)
            f[k] = remap[f[k]];
        if (ex[e].n_feat > 1)
            qsort(f, ex[e].n_feat, sizeof *f, cmp_u32);
        double scale = ex[e].norm_sq > 0 ? 1.0 / sqrt(ex[e].norm_sq) : 0.0;
        xs[e] = &nodes[pos];
        ys[e] = ex[e].label;
        for (uint32_t k = 0; k < ex[e].n_feat;) {
            uint32_t idx = f[k], cnt = 0;
            while (k < ex[e].n_feat && f[k] == idx)
                k++, cnt++;
            if (idx == 0)
                continue; /* dropped feature */
            nodes[pos].index = (int)idx;
            nodes[pos].value = cnt * weight_of[idx] * scale;
            pos++;
        }
        /* the bias feature, after the features of the problem the example
         * is in (see train_heads) */
        nodes[pos].index = (int)(ex[e].staff ? n_feat : n_feat_intent) + 1;
        nodes[pos].value = 1.0;
        pos++;
        nodes[pos].index = -1;
        nodes[pos].value = 0;
        pos++;
    }
    /* the intent problem is the intent examples (the first n_intent) */
    struct problem prob = {
        .l = (int)n_intent, .n = (int)n_feat_intent + 1, .y = ys, .x = xs, .bias = 1.0};
    struct parameter param = {.solver_type = solver_type,
                              .eps = solver_type == L2R_LR ? 0.01 : 0.1,
                              .C = C,
                              .nr_weight = 0,
                              .weight_label = NULL,
                              .weight = NULL,
                              .p = 0.1,
                              .init_sol = NULL};
    const char *perr = check_parameter(&prob, &param);
    if (perr) {
        fprintf(stderr, "attune-train: liblinear: %s\n", perr);
        free(kept_name);
        goto out;
    }
    set_print_string_function(quiet);
    fprintf(stderr, "attune-train: %zu examples, %d labels, %u features, solver %s, C=%g\n",
            n_intent, n_labels, n_feat, solver, C);
    if (staff)
        fprintf(stderr, "attune-train: %zu staff examples for the heads, C=%g\n", n_ex - n_intent,
                head_C);
    if (cv_folds) {
        double *target = malloc(n_intent * sizeof *target);
        if (!target) {
            free(kept_name);
            goto oom;
        }
        cross_validation(&prob, &param, (int)cv_folds, target);
        size_t right = 0;
        for (size_t e = 0; e < n_intent; e++)
            right += (int)target[e] == ex[e].label;
        free(target);
        free(kept_name);
        printf("cv %ld folds, solver %s, C=%g: accuracy %.4f\n", cv_folds, solver, C,
               (double)right / (double)n_intent);
        status = 0;
        goto out;
    }
    model = train(&prob, &param);
    if (!model) {
        free(kept_name);
        goto oom;
    }
    if (staff) {
        head_w = calloc((size_t)N_HEADS * ((size_t)n_feat + 1), sizeof *head_w);
        if (!head_w || train_heads(xs, ex, n_ex, (int)n_feat, head_C, head_w, head_b) != 0) {
            free(kept_name);
            goto oom;
        }
    }
    const int n_heads = staff ? N_HEADS : 0;
    /* liblinear numbers classes in the order it met them; map to ours */
    int lab[CLASSIFY_MAX_INTENTS];
    int nr_class = get_nr_class(model);
    get_labels(model, lab);
    int col_of[CLASSIFY_MAX_INTENTS];
    for (int k = 0; k < n_labels; k++)
        col_of[k] = -1;
    for (int j = 0; j < nr_class; j++)
        if (lab[j] >= 0 && lab[j] < n_labels)
            col_of[lab[j]] = j;

    int tn = snprintf(tmp_path, sizeof tmp_path, "%s.tmp", out_path);
    if (tn < 0 || (size_t)tn >= sizeof tmp_path) {
        fputs("attune-train: --out path too long\n", stderr);
        free(kept_name);
        goto out;
    }
    out = fopen(tmp_path, "w");
    if (!out) {
        fprintf(stderr, "attune-train: %s: %s\n", tmp_path, strerror(errno));
        free(kept_name);
        goto out;
    }
    /* features whose weights are all ~0 add nothing: leave them out */
    size_t kept = 0;
    uint8_t *keep = calloc((size_t)n_feat + 1, 1);
    if (!keep) {
        free(kept_name);
        goto oom;
    }
    for (uint32_t f = 1; f <= n_feat; f++) {
        for (int k = 0; k < n_labels + n_heads; k++) {
            double w = k >= n_labels    ? head_w[(size_t)(k - n_labels) * (n_feat + 1) + f]
                       : col_of[k] >= 0 ? get_decfun_coef(model, (int)f, col_of[k])
                                        : 0;
            if (fabs(w) >= 5e-4) {
                keep[f] = 1;
                kept++;
                break;
            }
        }
    }
    /* version 4 only when there are heads: a model without is version 3,
     * byte for byte as before */
    fprintf(out, "attune-intent-model %d\nsolver %s\nclasses %d\n", n_heads ? 4 : 3, solver,
            n_labels);
    for (int k = 0; k < n_labels; k++)
        fprintf(out, "label %s\n", labels[k]);
    if (n_heads) {
        fprintf(out, "heads %d\n", n_heads);
        for (int h = 0; h < n_heads; h++)
            fprintf(out, "head %s %.9g\n", heads[h].name, head_at[h]);
    }
    fputs("bias 1", out);
    for (int k = 0; k < n_labels; k++)
        fprintf(out, " %.5g", col_of[k] >= 0 ? get_decfun_bias(model, col_of[k]) : -10.0);
    for (int h = 0; h < n_heads; h++)
        fprintf(out, " %.5g", head_b[h]);
    fprintf(out, "\nfeatures %zu\n", kept);
    for (uint32_t f = 1; f <= n_feat; f++) {
        if (!keep[f])
            continue;
        fputs(v.names + kept_name[f], out);
        fputc('\t', out);
        for (int k = 0; k < n_labels; k++)
            fprintf(out, "%s%.4g", k ? " " : "",
                    col_of[k] >= 0 ? get_decfun_coef(model, (int)f, col_of[k]) : 0.0);
        for (int h = 0; h < n_heads; h++)
            fprintf(out, " %.4g", head_w[(size_t)h * (n_feat + 1) + f]);
        fputc('\n', out);
    }
    free(keep);
    free(kept_name);
    if (ferror(out) || fclose(out) != 0) {
        out = NULL;
        fprintf(stderr, "attune-train: %s: write error\n", tmp_path);
        remove(tmp_path);
        goto out;
    }
    out = NULL;
    if (rename(tmp_path, out_path) != 0) {
        fprintf(stderr, "attune-train: rename to %s: %s\n", out_path, strerror(errno));
        remove(tmp_path);
        goto out;
    }
    fprintf(stderr, "attune-train: wrote %s (%zu features kept)\n", out_path, kept);
    status = 0;
    goto out;
oom:
    fputs("attune-train: out of memory\n", stderr);
out:
    if (model)
        free_and_destroy_model(&model);
    if (out)
        fclose(out);
    if (in)
        fclose(in);
    free(line);
    free(ex);
    free(flat);
    free(nodes);
    free(xs);
    free(ys);
    free(remap);
    free(weight_of);
    free(head_w);
    free(v.slots);
    free(v.names);
    free(v.cur);
    return status;
}
