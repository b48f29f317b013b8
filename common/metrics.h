/* metrics: a process-wide registry of Prometheus counters, gauges and
 * histograms, rendered in the text exposition format. Metrics are created at
 * start-up and live until metrics_reset(); updates are lock-free atomics and
 * safe from any thread. The registry owns every metric. */
#ifndef ATTUNE_METRICS_H
#define ATTUNE_METRICS_H

#include <stdint.h>

#include "buf.h"

typedef struct metric metric;

/* name: metric family name; labels: a fixed label set such as
 * `result="accepted"` or NULL. Both strings are copied. The same name and
 * labels return the same metric. NULL on allocation failure; the update
 * functions accept NULL and do nothing, so a failed registration never
 * crashes a service. */
metric *metrics_counter(const char *name, const char *help, const char *labels);
metric *metrics_gauge(const char *name, const char *help, const char *labels);
/* Latency histogram in seconds with fixed buckets from 0.5 ms to 10 s. */
metric *metrics_histogram(const char *name, const char *help, const char *labels);

void metric_inc(metric *m);
void metric_add(metric *m, uint64_t n);
void metric_set(metric *m, double v);
void metric_observe(metric *m, double seconds);

/* Appends the exposition text of every metric to out. */
attune_err metrics_render(buf *out) ATTUNE_MUST_CHECK;
/* Frees every metric (tests and shutdown). */
void metrics_reset(void);

#endif
