/* attune-sim: runs the classifier and a treatment policy offline over
 * recorded interaction events and reports what the policy would do.
 *
 *   attune-sim --policy FILE --events FILE [--compare FILE2]
 *              [--decisions-out FILE] [--data-dir DIR] [--intent-model FILE]
 *              [--learn RATES [--rounds N] [--seed N]]
 *
 * Events are JSON lines: the interaction fields ("interaction_id",
 * "customer_id", "channel", "kind", "text", "wait_seconds", ...) with an
 * optional inline "context" (the enriched form; missing profile fields get
 * the enrich defaults). The report (one JSON object on stdout) counts every
 * treatment value, the floor, priority and wait bound per tier and segment,
 * the Spearman correlation between anger and compensation, sales offers to
 * distressed, vulnerable or non-consenting customers and the protection of
 * threats; with --compare, the same for FILE2 and the differences.
 *
 * --learn replays outcomes to show how learning converges: variants are
 * picked by Thompson sampling (as attune-decide does) on counts kept in
 * memory, each decision succeeds with the rate RATES gives its variant
 * ("warm=0.4,direct=0.7"; rule:variant=rate also works), and the outcome is
 * counted at once. The events are replayed --rounds times; the report's
 * "learning" object gives the picks per tenth of the decisions. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "classify/classify.h"
#include "learn.h"
#include "policy/cond.h"
#include "policy/policy.h"
#include "ts.h"

#define SIM_MAX_EVENTS 1000000
#define SIM_MAX_GROUPS 256

static const char *const COUNTED[] = {"routing.queue",
                                      "routing.channel",
                                      "routing.agent_tier",
                                      "routing.priority",
                                      "routing.max_wait_seconds",
                                      "guidance.pace",
                                      "guidance.apology",
                                      "guidance.tone",
                                      "guidance.offer.type",
                                      "guidance.offer.id",
                                      "guidance.compensation.eligible",
                                      "guidance.compensation.basis",
                                      "guidance.protection",
                                      "guidance.ownership",
                                      "policy.variant",
                                      NULL};

typedef struct {
    double *v;
    size_t n, cap;
} dvec;

static int dvec_push(dvec *d, double x)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 64;
        double *nv = realloc(d->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        d->v = nv;
        d->cap = nc;
    }
    d->v[d->n++] = x;
    return 0;
}

typedef struct {
    char name[96];
    size_t n, floor_met;
    dvec prio, wait;
} group;

typedef struct {
    policy *p;
    const char *path;
    int floor_wait, floor_prio, floor_rank;
    const char *floor_tier;
    cJSON *counts;
    group groups[SIM_MAX_GROUPS];
    size_t ngroups;
    size_t n, floor_met;
    dvec anger, comp;
    size_t sales_distressed, sales_vulnerable, sales_no_consent;
    size_t any_distressed, any_vulnerable, any_no_consent;
    size_t threats, threats_protected, abuse, abuse_protected;
} stats;

static int failed;

static void count(cJSON *counts, const char *field, const char *value)
{
    cJSON *f = cJSON_GetObjectItemCaseSensitive(counts, field);
    if (!f && !(f = cJSON_AddObjectToObject(counts, field))) {
        failed = 1;
        return;
    }
    cJSON *c = cJSON_GetObjectItemCaseSensitive(f, value);
    if (!c && !(c = cJSON_AddNumberToObject(f, value, 0))) {
        failed = 1;
        return;
    }
    cJSON_SetNumberValue(c, c->valuedouble + 1);
}

/* The value of a decision field as a string for counting. */
static void value_str(const cJSON *v, char *out, size_t size)
{
    if (cJSON_IsString(v))
        snprintf(out, size, "%s", v->valuestring);
    else if (cJSON_IsBool(v))
        snprintf(out, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v))
        snprintf(out, size, "%g", v->valuedouble);
    else
        snprintf(out, size, "null");
}

static group *group_for(stats *s, const char *kind, const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "%s\x1f%s", kind, name ? name : "unknown");
    for (size_t i = 0; i < s->ngroups; i++)
        if (strcmp(s->groups[i].name, key) == 0)
            return &s->groups[i];
    if (s->ngroups == SIM_MAX_GROUPS)
        return NULL;
    group *g = &s->groups[s->ngroups++];
    snprintf(g->name, sizeof g->name, "%s", key);
    return g;
}

static const char *str_of(const cJSON *d, const char *path)
{
    const cJSON *v = policy_path_get(d, path, 0);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *d, const char *path)
{
    const cJSON *v = policy_path_get(d, path, 0);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void record(stats *s, const cJSON *rt)
{
    s->n++;
    char buf[160];
    for (size_t i = 0; COUNTED[i]; i++) {
        value_str(policy_path_get(rt, COUNTED[i], 0), buf, sizeof buf);
        count(s->counts, COUNTED[i], buf);
    }
    double wait = num_of(rt, "routing.max_wait_seconds");
    double prio = num_of(rt, "routing.priority");
    int met = wait <= s->floor_wait && wait > 0 && prio >= s->floor_prio &&
              policy_tier_rank(s->p, str_of(rt, "routing.agent_tier")) >= s->floor_rank;
    s->floor_met += (size_t)met;
    const char *kinds[] = {"tier", "segment"};
    const char *names[] = {str_of(rt, "context.tier"), str_of(rt, "context.segment")};
    for (int k = 0; k < 2; k++) {
        group *g = group_for(s, kinds[k], names[k]);
        if (!g)
            continue;
        g->n++;
        g->floor_met += (size_t)met;
        if (dvec_push(&g->prio, prio) || dvec_push(&g->wait, wait))
            failed = 1;
    }
    double cap = cJSON_IsTrue(policy_path_get(rt, "guidance.compensation.eligible", 0))
                     ? num_of(rt, "guidance.compensation.cap")
                     : 0;
    if (dvec_push(&s->anger, num_of(rt, "situation.emotion.anger")) || dvec_push(&s->comp, cap))
        failed = 1;
    const char *type = str_of(rt, "guidance.offer.type");
    int any = type && strcmp(type, "none") != 0;
    int sales = any && (strcmp(type, "cross_sell") == 0 || strcmp(type, "upsell") == 0);
    int distressed = cJSON_IsTrue(policy_path_get(rt, "situation.distressed", 0));
    int vulnerable = cJSON_IsTrue(policy_path_get(rt, "context.vulnerable", 0));
    int consent = cJSON_IsTrue(policy_path_get(rt, "context.marketing_consent", 0));
    s->sales_distressed += (size_t)(sales && distressed);
    s->sales_vulnerable += (size_t)(sales && vulnerable);
    s->sales_no_consent += (size_t)(sales && !consent);
    s->any_distressed += (size_t)(any && distressed);
    s->any_vulnerable += (size_t)(any && vulnerable);
    s->any_no_consent += (size_t)(any && !consent);
    const char *threat = str_of(rt, "situation.threat");
    const char *prot = str_of(rt, "guidance.protection");
    int protected_ = prot && strcmp(prot, "none") != 0;
    if (threat && strcmp(threat, "threat") == 0) {
        s->threats++;
        s->threats_protected += (size_t)(protected_ && strcmp(prot, "protection_flow") == 0);
    } else if (threat && strcmp(threat, "abuse") == 0) {
        s->abuse++;
        s->abuse_protected += (size_t)protected_;
    }
}

/* --- statistics -------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static cJSON *distribution(dvec *d)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !d->n)
        return o;
    qsort(d->v, d->n, sizeof *d->v, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < d->n; i++)
        sum += d->v[i];
    cJSON_AddNumberToObject(o, "min", d->v[0]);
    cJSON_AddNumberToObject(o, "p50", d->v[(d->n - 1) / 2]);
    cJSON_AddNumberToObject(o, "p90", d->v[(size_t)((double)(d->n - 1) * 0.9)]);
    cJSON_AddNumberToObject(o, "max", d->v[d->n - 1]);
    cJSON_AddNumberToObject(o, "mean", round(sum / (double)d->n * 100) / 100);
    return o;
}

typedef struct {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    return cmp_double(&((const ranked *)a)->v, &((const ranked *)b)->v);
}

/* Ranks with ties averaged, into r (n entries). */
static int ranks(const double *x, size_t n, double *r)
{
    ranked *t = malloc(n * sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < n; i++)
        t[i] = (ranked){x[i], i};
    qsort(t, n, sizeof *t, cmp_ranked);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && t[j + 1].v == t[i].v)
            j++;
        double avg = ((double)i + (double)j) / 2 + 1;
        for (size_t k = i; k <= j; k++)
            r[t[k].i] = avg;
        i = j + 1;
    }
    free(t);
    return 0;
}

/* Spearman's rho (Pearson over the ranks); NAN when either side is constant. */
static double spearman(const dvec *a, const dvec *b)
{
    size_t n = a->n;
    if (n < 2)
        return NAN;
    double *ra = malloc(n * sizeof *ra), *rb = malloc(n * sizeof *rb);
    double rho = NAN;
    if (ra && rb && ranks(a->v, n, ra) == 0 && ranks(b->v, n, rb) == 0) {
        double ma = 0, mb = 0;
        for (size_t i = 0; i < n; i++)
            ma += ra[i], mb += rb[i];
        ma /= (double)n;
        mb /= (double)n;
        double sab = 0, saa = 0, sbb = 0;
        for (size_t i = 0; i < n; i++) {
            sab += (ra[i] - ma) * (rb[i] - mb);
            saa += (ra[i] - ma) * (ra[i] - ma);
            sbb += (rb[i] - mb) * (rb[i] - mb);
        }
        if (saa > 0 && sbb > 0)
            rho = sab / sqrt(saa * sbb);
    }
    free(ra);
    free(rb);
    return rho;
}

static double share(size_t k, size_t n)
{
    return n ? round((double)k / (double)n * 10000) / 10000 : 1;
}

static cJSON *report(stats *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "file", s->path);
    cJSON_AddStringToObject(o, "version", policy_version(s->p));
    cJSON_AddNumberToObject(o, "decisions", (double)s->n);
    cJSON_AddItemToObject(o, "counts", cJSON_Duplicate(s->counts, 1));
    cJSON *fl = cJSON_AddObjectToObject(o, "floor");
    cJSON_AddNumberToObject(fl, "max_wait_seconds", s->floor_wait);
    cJSON_AddStringToObject(fl, "min_agent_tier", s->floor_tier);
    cJSON_AddNumberToObject(fl, "min_priority", s->floor_prio);
    cJSON_AddNumberToObject(fl, "met_share", share(s->floor_met, s->n));
    cJSON *bt = cJSON_AddObjectToObject(o, "by_tier");
    cJSON *bs = cJSON_AddObjectToObject(o, "by_segment");
    for (size_t i = 0; i < s->ngroups; i++) {
        group *g = &s->groups[i];
        char *sep = strchr(g->name, '\x1f');
        if (!sep)
            continue;
        cJSON *gj = cJSON_AddObjectToObject(strncmp(g->name, "tier", 4) == 0 ? bt : bs, sep + 1);
        cJSON_AddNumberToObject(gj, "decisions", (double)g->n);
        cJSON_AddNumberToObject(gj, "floor_met_share", share(g->floor_met, g->n));
        cJSON_AddItemToObject(gj, "priority", distribution(&g->prio));
        cJSON_AddItemToObject(gj, "max_wait_seconds", distribution(&g->wait));
    }
    double rho = spearman(&s->anger, &s->comp);
    if (isnan(rho))
        cJSON_AddNullToObject(o, "anger_compensation_spearman");
    else
        cJSON_AddNumberToObject(o, "anger_compensation_spearman", round(rho * 10000) / 10000);
    cJSON *of = cJSON_AddObjectToObject(o, "offers");
    cJSON_AddNumberToObject(of, "sales_to_distressed", (double)s->sales_distressed);
    cJSON_AddNumberToObject(of, "sales_to_vulnerable", (double)s->sales_vulnerable);
    cJSON_AddNumberToObject(of, "sales_to_non_consenting", (double)s->sales_no_consent);
    cJSON_AddNumberToObject(of, "any_to_distressed", (double)s->any_distressed);
    cJSON_AddNumberToObject(of, "any_to_vulnerable", (double)s->any_vulnerable);
    cJSON_AddNumberToObject(of, "any_to_non_consenting", (double)s->any_no_consent);
    cJSON *pr = cJSON_AddObjectToObject(o, "protection");
    cJSON_AddNumberToObject(pr, "threats", (double)s->threats);
    cJSON_AddNumberToObject(pr, "threats_protected_share", share(s->threats_protected, s->threats));
    cJSON_AddNumberToObject(pr, "abuse", (double)s->abuse);
    cJSON_AddNumberToObject(pr, "abuse_protected_share", share(s->abuse_protected, s->abuse));
    return o;
}

static void stats_fini(stats *s)
{
    for (size_t i = 0; i < s->ngroups; i++) {
        free(s->groups[i].prio.v);
        free(s->groups[i].wait.v);
    }
    free(s->anger.v);
    free(s->comp.v);
    cJSON_Delete(s->counts);
    policy_free(s->p);
}

/* --- input ------------------------------------------------------------------------------- */

static char *slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *d = malloc(max + 1);
    size_t n = d ? fread(d, 1, max + 1, f) : 0;
    fclose(f);
    if (!d || n > max) {
        free(d);
        errno = d ? EFBIG : ENOMEM;
        return NULL;
    }
    d[n] = '\0';
    *len = n;
    return d;
}

static int load_policy(const char *path, stats *s)
{
    size_t len = 0;
    char *text = slurp(path, POLICY_MAX_BYTES, &len);
    if (!text) {
        fprintf(stderr, "attune-sim: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    problem_field errs[20];
    size_t n = 0;
    attune_err rc = policy_load(text, len, &s->p, errs, 20, &n);
    free(text);
    if (rc != ATTUNE_OK) {
        for (size_t i = 0; i < n && i < 20; i++)
            fprintf(stderr, "%s: %s: %s\n", path, errs[i].pointer, errs[i].detail);
        fprintf(stderr, "attune-sim: %s is not a valid policy (%zu errors)\n", path, n);
        return -1;
    }
    s->path = path;
    policy_floor(s->p, &s->floor_wait, &s->floor_tier, &s->floor_prio);
    s->floor_rank = policy_tier_rank(s->p, s->floor_tier);
    s->counts = cJSON_CreateObject();
    return s->counts ? 0 : -1;
}

/* The enrich defaults for what the inline context leaves out. */
static int complete_context(cJSON *ev)
{
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(ev, "context");
    if (!cJSON_IsObject(ctx)) {
        cJSON_DeleteItemFromObjectCaseSensitive(ev, "context");
        if (!(ctx = cJSON_AddObjectToObject(ev, "context")))
            return -1;
        cJSON_AddStringToObject(ctx, "status", "unknown_customer");
    }
    if (!cJSON_GetObjectItemCaseSensitive(ctx, "status"))
        cJSON_AddStringToObject(ctx, "status", "ok");
    cJSON *prof = cJSON_GetObjectItemCaseSensitive(ctx, "profile");
    if (!cJSON_IsObject(prof)) {
        cJSON_DeleteItemFromObjectCaseSensitive(ctx, "profile");
        if (!(prof = cJSON_AddObjectToObject(ctx, "profile")))
            return -1;
    }
    static const char *const sdef[][2] = {
        {"tier", "standard"}, {"segment", "unknown"}, {"payer", "unknown"}};
    for (size_t i = 0; i < 3; i++)
        if (!cJSON_GetObjectItemCaseSensitive(prof, sdef[i][0]))
            cJSON_AddStringToObject(prof, sdef[i][0], sdef[i][1]);
    if (!cJSON_GetObjectItemCaseSensitive(prof, "value"))
        cJSON_AddNumberToObject(prof, "value", 0);
    if (!cJSON_GetObjectItemCaseSensitive(prof, "marketing_consent"))
        cJSON_AddFalseToObject(prof, "marketing_consent");
    if (!cJSON_GetObjectItemCaseSensitive(prof, "vulnerable"))
        cJSON_AddFalseToObject(prof, "vulnerable");
    if (!cJSON_GetObjectItemCaseSensitive(ctx, "preferences"))
        cJSON_AddObjectToObject(ctx, "preferences");
    if (!cJSON_GetObjectItemCaseSensitive(ctx, "recent"))
        cJSON_AddArrayToObject(ctx, "recent");
    if (!cJSON_GetObjectItemCaseSensitive(ctx, "contacts_24h"))
        cJSON_AddNumberToObject(ctx, "contacts_24h", 1);
    if (!cJSON_GetObjectItemCaseSensitive(ctx, "contacts_7d"))
        cJSON_AddNumberToObject(ctx, "contacts_7d", 1);
    return 0;
}

static int field_differs(const cJSON *a, const cJSON *b, const char *path)
{
    return !cJSON_Compare(policy_path_get(a, path, 0), policy_path_get(b, path, 0), 1);
}

/* --- --learn: replayed outcomes --------------------------------------------- */

#define SIM_MAX_RATES 32
#define SIM_WINDOWS 10

typedef struct {
    char name[POLICY_MAX_STRING * 2 + 2]; /* "variant" or "rule:variant" */
    double rate;
} sim_rate;

typedef struct {
    sim_rate rates[SIM_MAX_RATES];
    size_t nrates;
    learn_counts *counts;
    learn_chooser chooser;
    uint64_t rng; /* the simulated outcomes */
    cJSON *picks; /* [{"variant": n, ...}] per window, filled at the end */
    size_t n, successes;
    char (*variant)[POLICY_MAX_STRING]; /* first choice of each decision */
    size_t cap;
} sim_learn;

static int parse_rates(const char *spec, sim_learn *L)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strrchr(t, '=');
        char *end = NULL;
        if (!eq || eq == t || L->nrates >= SIM_MAX_RATES)
            return -1;
        *eq = '\0';
        double r = strtod(eq + 1, &end);
        if (!end || *end || !(r >= 0 && r <= 1) || strlen(t) >= sizeof L->rates[0].name)
            return -1;
        snprintf(L->rates[L->nrates].name, sizeof L->rates[0].name, "%s", t);
        L->rates[L->nrates++].rate = r;
    }
    return L->nrates ? 0 : -1;
}

static double rate_of(const sim_learn *L, const char *rule, const char *variant)
{
    char full[sizeof L->rates[0].name];
    snprintf(full, sizeof full, "%s:%s", rule, variant);
    for (size_t i = 0; i < L->nrates; i++)
        if (strcmp(L->rates[i].name, full) == 0)
            return L->rates[i].rate;
    for (size_t i = 0; i < L->nrates; i++)
        if (strcmp(L->rates[i].name, variant) == 0)
            return L->rates[i].rate;
    return 0.5; /* a variant without a rate: a coin */
}

/* Draws the outcome of one decision and counts it for each of its choices. */
static int learn_outcome(sim_learn *L, const cJSON *rt)
{
    const cJSON *pol = cJSON_GetObjectItemCaseSensitive(rt, "policy");
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(pol, "choices");
    const cJSON *first = cJSON_GetArrayItem(choices, 0);
    if (!first)
        return 0;
    const char *bucket = str_of(pol, "bucket");
    int ok = learn_uniform(&L->rng) < rate_of(L, str_of(first, "rule"), str_of(first, "variant"));
    for (const cJSON *c = choices->child; c; c = c->next)
        if (learn_counts_add(L->counts, str_of(c, "rule"), bucket, str_of(c, "variant"), ok, !ok) !=
            0)
            return -1;
    if (L->n == L->cap) {
        size_t nc = L->cap ? L->cap * 2 : 1024;
        void *nv = realloc(L->variant, nc * sizeof *L->variant);
        if (!nv)
            return -1;
        L->variant = nv;
        L->cap = nc;
    }
    snprintf(L->variant[L->n++], sizeof L->variant[0], "%s", str_of(first, "variant"));
    L->successes += (size_t)ok;
    return 0;
}

static cJSON *learn_report(const sim_learn *L)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "decisions_with_variants", (double)L->n);
    cJSON_AddNumberToObject(o, "success_rate", share(L->successes, L->n));
    cJSON *w = cJSON_AddArrayToObject(o, "picks_per_tenth");
    size_t per = (L->n + SIM_WINDOWS - 1) / SIM_WINDOWS;
    for (size_t start = 0; per && start < L->n && w; start += per) {
        cJSON *counts = cJSON_CreateObject();
        for (size_t i = start; i < L->n && i < start + per; i++)
            count(counts, "picks", L->variant[i]);
        cJSON *picks = cJSON_DetachItemFromObjectCaseSensitive(counts, "picks");
        cJSON_Delete(counts);
        if (picks)
            cJSON_AddItemToArray(w, picks);
    }
    return o;
}

static void usage(FILE *f)
{
    fputs("usage: attune-sim --policy FILE --events FILE [--compare FILE2]\n"
          "                  [--decisions-out FILE] [--data-dir DIR] [--intent-model FILE]\n"
          "                  [--learn RATES [--rounds N] [--seed N]]\n"
          "  --data-dir DIR  the classifier's data (default: $ATTUNE_DATA_DIR, else the\n"
          "                  shipped deploy/data)\n"
          "  --learn RATES   replay outcomes: variant=success_rate,... (Thompson sampling\n"
          "                  on the counts, as attune-decide does); --rounds passes over\n"
          "                  the events (default 1), --seed makes a run repeatable\n",
          f);
}

int main(int argc, char **argv)
{
    const char *policy_path = NULL, *events = NULL, *compare = NULL, *out_path = NULL;
    const char *data_dir = NULL, *model = NULL;
    const char *learn_spec = NULL, *rounds_s = "1", *seed_s = "0";
    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;
        if (strcmp(argv[i], "--policy") == 0)
            dst = &policy_path;
        else if (strcmp(argv[i], "--events") == 0)
            dst = &events;
        else if (strcmp(argv[i], "--compare") == 0)
            dst = &compare;
        else if (strcmp(argv[i], "--decisions-out") == 0)
            dst = &out_path;
        else if (strcmp(argv[i], "--data-dir") == 0)
            dst = &data_dir;
        else if (strcmp(argv[i], "--intent-model") == 0)
            dst = &model;
        else if (strcmp(argv[i], "--learn") == 0)
            dst = &learn_spec;
        else if (strcmp(argv[i], "--rounds") == 0)
            dst = &rounds_s;
        else if (strcmp(argv[i], "--seed") == 0)
            dst = &seed_s;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("attune-sim %s\n", ATTUNE_VERSION);
            return 0;
        }
        if (!dst || i + 1 >= argc) {
            fprintf(stderr, "attune-sim: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        *dst = argv[++i];
    }
    if (!policy_path || !events) {
        usage(stderr);
        return 2;
    }
    sim_learn learning = {0};
    char *end = NULL;
    long rounds = strtol(rounds_s, &end, 10);
    if (*end || rounds < 1 || rounds > 1000) {
        fputs("attune-sim: --rounds takes 1 to 1000\n", stderr);
        return 2;
    }
    unsigned long long seed = strtoull(seed_s, &end, 10);
    if (*end) {
        fputs("attune-sim: --seed takes a non-negative integer\n", stderr);
        return 2;
    }
    if (learn_spec && parse_rates(learn_spec, &learning) != 0) {
        fprintf(stderr, "attune-sim: --learn '%s': want variant=rate,... with rates from 0 to 1\n",
                learn_spec);
        return 2;
    }
    char found[4096];
    if (classify_data_dir(data_dir, found, sizeof found) != 0) {
        fputs("attune-sim: data directory path too long\n", stderr);
        return 2;
    }
    data_dir = found;
    stats *st = calloc(2, sizeof *st);
    if (!st)
        return 2;
    int nst = compare ? 2 : 1, status = 2;
    classify *c = NULL;
    FILE *in = NULL, *out = NULL;
    char *line = NULL;
    if (load_policy(policy_path, &st[0]) != 0 || (compare && load_policy(compare, &st[1]) != 0))
        goto done;
    if (learn_spec) {
        /* a misspelt variant would silently be a coin (0.5) */
        for (size_t i = 0; i < learning.nrates; i++) {
            char rule[sizeof learning.rates[0].name];
            snprintf(rule, sizeof rule, "%s", learning.rates[i].name);
            char *colon = strchr(rule, ':');
            if (colon)
                *colon = '\0';
            if (!policy_has_variant(st[0].p, colon ? rule : NULL,
                                    colon ? colon + 1 : learning.rates[i].name)) {
                if (colon)
                    fprintf(stderr, "attune-sim: --learn: rule '%s' of %s has no variant '%s'\n",
                            rule, policy_path, colon + 1);
                else
                    fprintf(stderr, "attune-sim: --learn: no rule of %s has a variant '%s'\n",
                            policy_path, learning.rates[i].name);
                goto done;
            }
        }
        if (!(learning.counts = learn_counts_new()))
            goto done;
        learn_chooser_init(&learning.chooser, learning.counts, policy_control_share(st[0].p), seed);
        learning.rng = seed ^ 0x5bd1e995u;
    }
    classify_options opts = {.data_dir = data_dir, .intent_model = model};
    char err[512];
    if (classify_new(&opts, &c, err, sizeof err) != ATTUNE_OK) {
        fprintf(stderr, "attune-sim: classifier: %s\n", err);
        goto done;
    }
    if (!(in = fopen(events, "r"))) {
        fprintf(stderr, "attune-sim: cannot read %s: %s\n", events, strerror(errno));
        goto done;
    }
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "attune-sim: cannot write %s: %s\n", out_path, strerror(errno));
        goto done;
    }
    cJSON *changed = cJSON_CreateObject();
    size_t cap = CLASSIFY_BATCH_MAX_LINE + 2, lineno = 0, nerr = 0, nchanged = 0;
    line = malloc(cap);
    if (!line || !changed) {
        cJSON_Delete(changed);
        goto done;
    }
    long round = 0;
    while (lineno < SIM_MAX_EVENTS) {
        if (!fgets(line, (int)cap, in)) {
            if (++round >= rounds || fseek(in, 0, SEEK_SET) != 0)
                break;
            continue;
        }
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (!n)
            continue;
        classify_batch_item item;
        if (classify_batch_parse_line(line, n, &item, NULL, err, sizeof err) != ATTUNE_OK) {
            fprintf(stderr, "attune-sim: %s:%zu: %s\n", events, lineno, err);
            nerr++;
            continue;
        }
        classify_result r;
        cJSON *sit = NULL;
        if (classify_text(c, item.text, item.text_len, &item.ctx, &r) != ATTUNE_OK ||
            classify_result_to_json(&r, &sit) != ATTUNE_OK || complete_context(item.root) != 0) {
            classify_batch_item_fini(&item);
            failed = 1;
            break;
        }
        cJSON_AddItemToObject(item.root, "situation", sit);
        char fallback[32];
        snprintf(fallback, sizeof fallback, "line-%zu", lineno);
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(item.root, "interaction_id")))
            cJSON_AddStringToObject(item.root, "interaction_id", fallback);
        const char *iid =
            cJSON_GetObjectItemCaseSensitive(item.root, "interaction_id")->valuestring;
        /* a replay decides at the event's own time (decided_at, follow-up
         * due times), so that the same events give the same decisions */
        int64_t at_ms = 0;
        const cJSON *occurred = cJSON_GetObjectItemCaseSensitive(item.root, "occurred_at");
        if (!cJSON_IsString(occurred) || ts_parse_rfc3339(occurred->valuestring, &at_ms) != 0)
            at_ms = 0;
        policy_env env = {.now_ms = at_ms, .event_id = iid};
        if (learn_spec) {
            env.choose_variant = learn_choose;
            env.choose_arg = &learning.chooser;
        }
        cJSON *rt[2] = {NULL, NULL};
        for (int k = 0; k < nst; k++) {
            cJSON *crm = NULL;
            if (policy_decide(st[k].p, item.root, &env, &rt[k], &crm, err, sizeof err) !=
                ATTUNE_OK) {
                fprintf(stderr, "attune-sim: %s:%zu: %s\n", events, lineno, err);
                nerr++;
                continue;
            }
            cJSON_Delete(crm);
            record(&st[k], rt[k]);
            if (k == 0 && learn_spec && learn_outcome(&learning, rt[k]) != 0)
                failed = 1;
        }
        if (out && rt[0]) {
            char *s = cJSON_PrintUnformatted(rt[0]);
            if (!s || fputs(s, out) < 0 || fputc('\n', out) == EOF)
                failed = 1;
            cJSON_free(s);
        }
        if (rt[0] && rt[1]) {
            int any = 0;
            for (size_t i = 0; COUNTED[i]; i++)
                if (strcmp(COUNTED[i], "policy.variant") != 0 &&
                    field_differs(rt[0], rt[1], COUNTED[i])) {
                    count(changed, "fields", COUNTED[i]);
                    any = 1;
                }
            nchanged += (size_t)any;
        }
        cJSON_Delete(rt[0]);
        cJSON_Delete(rt[1]);
        classify_batch_item_fini(&item);
    }
    cJSON *rep = cJSON_CreateObject();
    if (rep) {
        cJSON_AddNumberToObject(rep, "events", (double)lineno);
        cJSON_AddNumberToObject(rep, "errors", (double)nerr);
        cJSON_AddItemToObject(rep, "policy", report(&st[0]));
        if (learn_spec)
            cJSON_AddItemToObject(rep, "learning", learn_report(&learning));
        if (compare) {
            cJSON *cmp = cJSON_AddObjectToObject(rep, "compare");
            cJSON_AddItemToObject(cmp, "policy", report(&st[1]));
            cJSON_AddNumberToObject(cmp, "decisions_changed", (double)nchanged);
            cJSON *f = cJSON_GetObjectItemCaseSensitive(changed, "fields");
            cJSON_AddItemToObject(cmp, "fields_changed",
                                  f ? cJSON_Duplicate(f, 1) : cJSON_CreateObject());
            /* counts of FILE2 minus counts of FILE */
            cJSON *delta = cJSON_AddObjectToObject(cmp, "counts_delta");
            for (size_t i = 0; COUNTED[i] && delta; i++) {
                const cJSON *a = cJSON_GetObjectItemCaseSensitive(st[0].counts, COUNTED[i]);
                const cJSON *b = cJSON_GetObjectItemCaseSensitive(st[1].counts, COUNTED[i]);
                cJSON *d = cJSON_AddObjectToObject(delta, COUNTED[i]);
                for (const cJSON *v = b ? b->child : NULL; v && d; v = v->next) {
                    const cJSON *av = cJSON_GetObjectItemCaseSensitive(a, v->string);
                    double diff = v->valuedouble - (av ? av->valuedouble : 0);
                    if (diff != 0)
                        cJSON_AddNumberToObject(d, v->string, diff);
                }
                for (const cJSON *v = a ? a->child : NULL; v && d; v = v->next)
                    if (!cJSON_GetObjectItemCaseSensitive(b, v->string))
                        cJSON_AddNumberToObject(d, v->string, -v->valuedouble);
            }
        }
        char *s = cJSON_Print(rep);
        if (s) {
            puts(s);
            cJSON_free(s);
        } else {
            failed = 1;
        }
        cJSON_Delete(rep);
    }
    cJSON_Delete(changed);
    status = failed || !rep || ferror(stdout) ? 2 : 0;
done:
    free(line);
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        status = 2;
    classify_free(c);
    learn_counts_free(learning.counts);
    free(learning.variant);
    for (int k = 0; k < 2; k++)
        stats_fini(&st[k]);
    free(st);
    return status;
}
