/* interaction: the schema of an interaction event's data (the payload of
 * attune.interaction.v1, docs/schemas/interaction.schema.json) and its
 * validation. Borrowed views only; nothing here allocates. */
#ifndef ATTUNE_INTERACTION_H
#define ATTUNE_INTERACTION_H

#include <cJSON.h>
#include <stdint.h>

#include "err.h"
#include "problem.h"

#define INTERACTION_MAX_ID 128
#define INTERACTION_MAX_QUEUE 128
#define INTERACTION_MAX_LANGUAGE 35
#define INTERACTION_MAX_ATTRIBUTES 64
#define INTERACTION_MAX_ATTRIBUTE_BYTES 1024
#define INTERACTION_MAX_WAIT_SECONDS 604800

extern const char *const interaction_channels[]; /* NULL-terminated */
extern const char *const interaction_kinds[];    /* NULL-terminated */

/* Validates data against the interaction schema; text may hold at most
 * max_text_bytes bytes. On failure pf names the field under ptr_prefix
 * (e.g. "/data"). Unknown fields are rejected so a misspelt name is caught. */
attune_err interaction_validate(const cJSON *data, long max_text_bytes, const char *ptr_prefix,
                                problem_field *pf) ATTUNE_MUST_CHECK;

/* 1 when s is a valid interaction_id / customer_id: 1 to 128 printable
 * ASCII characters without spaces, quotes or backslashes. */
int interaction_id_valid(const char *s);

/* interaction_validate for the data of a later stage's event, which adds
 * members to the interaction (context, situation): the members named in
 * extra (NULL-terminated) are allowed and not checked. */
attune_err interaction_validate_within(const cJSON *data, long max_text_bytes,
                                       const char *ptr_prefix, const char *const *extra,
                                       problem_field *pf) ATTUNE_MUST_CHECK;

/* For a validated data object: occurred_at in ms since the epoch. */
int64_t interaction_occurred_ms(const cJSON *data);

#endif
