#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } metric_type;

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

struct metric {
    metric_type type;
    char *name;
    char *help;
    char *labels;
    _Atomic uint64_t count; /* counter value, or histogram count */
    _Atomic uint64_t value; /* gauge: bits of a double; histogram: sum in ns */
    _Atomic uint64_t bucket[NBUCKETS];
    metric *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static metric *registry_head;

static metric *metrics_get(metric_type type, const char *name, const char *help, const char *labels)
{
    if (!labels)
        labels = "";
    pthread_mutex_lock(&registry_lock);
    metric *m, **tail = &registry_head;
    for (m = registry_head; m; m = m->next) {
        tail = &m->next;
        if (strcmp(m->name, name) == 0 && strcmp(m->labels, labels) == 0)
            break;
    }
    if (!m) {
        m = calloc(1, sizeof *m);
        if (m) {
            m->type = type;
            m->name = strdup(name);
            m->help = strdup(help);
            m->labels = strdup(labels);
            if (!m->name || !m->help || !m->labels) {
                free(m->name);
                free(m->help);
                free(m->labels);
                free(m);
                m = NULL;
            } else {
                *tail = m;
            }
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return m;
}

metric *metrics_counter(const char *name, const char *help, const char *labels)
{
    return metrics_get(METRIC_COUNTER, name, help, labels);
}

metric *metrics_gauge(const char *name, const char *help, const char *labels)
{
    return metrics_get(METRIC_GAUGE, name, help, labels);
}

metric *metrics_histogram(const char *name, const char *help, const char *labels)
{
    return metrics_get(METRIC_HISTOGRAM, name, help, labels);
}

void metric_inc(metric *m)
{
    metric_add(m, 1);
}

void metric_add(metric *m, uint64_t n)
{
    if (m)
        atomic_fetch_add_explicit(&m->count, n, memory_order_relaxed);
}

void metric_set(metric *m, double v)
{
    uint64_t bits;
    if (!m)
        return;
    memcpy(&bits, &v, sizeof bits);
    atomic_store_explicit(&m->value, bits, memory_order_relaxed);
}

void metric_observe(metric *m, double seconds)
{
    if (!m)
        return;
    if (seconds < 0)
        seconds = 0;
    for (size_t i = 0; i < NBUCKETS; i++)
        if (seconds <= buckets[i])
            atomic_fetch_add_explicit(&m->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->value, (uint64_t)(seconds * 1e9), memory_order_relaxed);
}

static const char *type_name(metric_type t)
{
    return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

/* Writes `name{labels,extra}` with the comma only where both are present. */
static attune_err put_series(buf *out, const char *name, const char *suffix, const char *labels,
                             const char *extra)
{
    attune_err err = buf_printf(out, "%s%s", name, suffix);
    if (!err && (*labels || *extra))
        err = buf_printf(out, "{%s%s%s}", labels, *labels && *extra ? "," : "", extra);
    return err;
}

static attune_err render_one(buf *out, const metric *m)
{
    attune_err err;
    if (m->type == METRIC_COUNTER) {
        err = put_series(out, m->name, "", m->labels, "");
        return err ? err : buf_printf(out, " %llu\n", (unsigned long long)m->count);
    }
    if (m->type == METRIC_GAUGE) {
        uint64_t bits = atomic_load(&m->value);
        double v;
        memcpy(&v, &bits, sizeof v);
        err = put_series(out, m->name, "", m->labels, "");
        return err ? err : buf_printf(out, " %.17g\n", v);
    }
    err = ATTUNE_OK;
    for (size_t i = 0; i < NBUCKETS && !err; i++) {
        char le[48];
        snprintf(le, sizeof le, "le=\"%g\"", buckets[i]);
        err = put_series(out, m->name, "_bucket", m->labels, le);
        if (!err)
            err = buf_printf(out, " %llu\n", (unsigned long long)atomic_load(&m->bucket[i]));
    }
    uint64_t count = atomic_load(&m->count);
    if (!err)
        err = put_series(out, m->name, "_bucket", m->labels, "le=\"+Inf\"");
    if (!err)
        err = buf_printf(out, " %llu\n", (unsigned long long)count);
    if (!err)
        err = put_series(out, m->name, "_sum", m->labels, "");
    if (!err)
        err = buf_printf(out, " %.9f\n", (double)atomic_load(&m->value) / 1e9);
    if (!err)
        err = put_series(out, m->name, "_count", m->labels, "");
    if (!err)
        err = buf_printf(out, " %llu\n", (unsigned long long)count);
    return err;
}

attune_err metrics_render(buf *out)
{
    attune_err err = ATTUNE_OK;
    pthread_mutex_lock(&registry_lock);
    /* Families must be contiguous: for each first-seen name, print HELP/TYPE
     * and then every metric of that name. */
    for (const metric *m = registry_head; m && !err; m = m->next) {
        const metric *prev;
        for (prev = registry_head; prev != m; prev = prev->next)
            if (strcmp(prev->name, m->name) == 0)
                break;
        if (prev != m)
            continue;
        err = buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                         type_name(m->type));
        for (const metric *s = m; s && !err; s = s->next)
            if (strcmp(s->name, m->name) == 0)
                err = render_one(out, s);
    }
    pthread_mutex_unlock(&registry_lock);
    return err;
}

void metrics_reset(void)
{
    pthread_mutex_lock(&registry_lock);
    metric *m = registry_head;
    registry_head = NULL;
    pthread_mutex_unlock(&registry_lock);
    while (m) {
        metric *next = m->next;
        free(m->name);
        free(m->help);
        free(m->labels);
        free(m);
        m = next;
    }
}
