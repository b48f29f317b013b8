/* batch: `attune-classify --batch`, JSON lines in, JSON lines out, in input
 * order. Kept apart from main.c so that the service mode and the tools can
 * share main's start-up. */
#ifndef ATTUNE_CLASSIFY_BATCH_H
#define ATTUNE_CLASSIFY_BATCH_H

#include <stdio.h>

#include "classify/classify.h"

/* Classifies every line of in and writes one line per input line to out, in
 * input order. A bad line produces {"id":...,"error":"..."} and the next
 * lines still flow; blank lines are skipped. With threads > 1, that many
 * workers classify blocks of 512 lines at once on the one classifier and
 * each block is written whole when it and all before it are done (one
 * thread answers line by line, for pipes that wait on each answer).
 * Returns 0, or 1 when out could not be written or in could not be read. */
int classify_batch_run(const classify *c, FILE *in, FILE *out, int threads);

/* Reads batch lines from in, keeps their texts (at most 1,000,000), then
 * times `passes` rounds of classify_text over them alone (no JSON, no I/O)
 * and writes {"messages","seconds","per_second","threads"} to out. With
 * threads > 1, that many threads each make the same rounds over all the
 * texts at once, on the one classifier, and the rate counts them all
 * (messages over the wall time from the first start to the last end).
 * Returns 0 or 1. */
int classify_bench_run(const classify *c, FILE *in, FILE *out, int passes, int threads);

#endif
