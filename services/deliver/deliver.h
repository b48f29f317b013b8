/* deliver: attune-deliver as a Kafka stage (docs/deliver.md). It consumes a
 * decision topic at least once and POSTs each record's value unchanged to
 * one HTTP endpoint: ATTUNE_DELIVER_CONCURRENCY workers, each with its own
 * kept-alive connection; the records of one key always go to the same
 * worker in offset order, so a customer's decisions arrive in order. Retries
 * with backoff and jitter (or Retry-After), a circuit breaker shared by the
 * workers, and the dead-letter topic for what cannot be delivered. The
 * batch's offsets are stored only once every record in it is delivered or
 * dead-lettered. */
#ifndef ATTUNE_DELIVER_DELIVER_H
#define ATTUNE_DELIVER_DELIVER_H

#include <stddef.h>

#include "config.h"
#include "err.h"

/* Completes and checks cfg for attune-deliver: the topic and group
 * defaults, at-least-once, the URL and the relations between settings.
 * ATTUNE_ERR_CONFIG with the variables named in errstr. Needs
 * curl_global_init done. */
attune_err deliver_configure(config *cfg, char *errstr, size_t errstr_size) ATTUNE_MUST_CHECK;

/* Runs until SIGTERM/SIGINT; returns the exit code. cfg must have passed
 * deliver_configure. */
int deliver_run(const config *cfg);

#endif
