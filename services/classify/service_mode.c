#include "service_mode.h"

#include <stdio.h>
#include <string.h>

#include "event.h"
#include "interaction.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "stage.h"
#include "ts.h"

typedef struct {
    const config *cfg;
    const classify *c;
    metric *latency;
} classify_stage;

/* The classifier reads wait_seconds and channel with the context: the
 * enriched event keeps them on the interaction, so merge them in. */
static attune_err context_of(const cJSON *data, classify_context *ctx, char *errstr,
                             size_t errstr_size)
{
    const cJSON *context = cJSON_GetObjectItemCaseSensitive(data, "context");
    cJSON *merged = cJSON_IsObject(context) ? cJSON_Duplicate(context, 1) : cJSON_CreateObject();
    if (!merged)
        return ATTUNE_ERR_NOMEM;
    const char *fields[] = {"wait_seconds", "channel"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, fields[i]);
        if (v && !cJSON_IsNull(v) && !cJSON_GetObjectItemCaseSensitive(merged, fields[i]))
            cJSON_AddItemToObject(merged, fields[i], cJSON_Duplicate(v, 1));
    }
    attune_err err = classify_context_from_json(merged, ctx, errstr, errstr_size);
    cJSON_Delete(merged);
    if (!err)
        classify_context_contact(ctx, data);
    return err;
}

/* Classifies one enriched event into its classified successor, or says
 * why it cannot (reason). */
/* The enriched data is the interaction plus its context; the interaction
 * part is checked with the same rules as ingest. */
static attune_err check_enriched(const config *cfg, const cJSON *data, problem_field *pf)
{
    static const char *const extra[] = {"context", NULL};
    return interaction_validate_within(data, cfg->max_text_bytes, "/data", extra, pf);
}

static attune_err classify_one(const classify_stage *s, const rd_kafka_message_t *m, cJSON **out,
                               char *reason, size_t reason_size)
{
    cJSON *root = NULL;
    *out = NULL;
    attune_err err = stage_read_event(s->cfg, m, EVENT_TYPE_ENRICHED, check_enriched, &root, reason,
                                      reason_size);
    if (err)
        return err;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    classify_context ctx;
    err = context_of(data, &ctx, reason, reason_size);
    if (err) {
        cJSON_Delete(root);
        return err;
    }
    const char *text = json_str(data, "text");
    classify_result result;
    double t0 = ts_mono();
    err = classify_text(s->c, text ? text : "", text ? strlen(text) : 0, &ctx, &result);
    metric_observe(s->latency, ts_mono() - t0);
    cJSON *situation = NULL;
    if (!err)
        err = classify_result_to_json(&result, &situation);
    if (err) {
        snprintf(reason, reason_size, "classifier failed: %s", attune_err_str(err));
        cJSON_Delete(root);
        return err;
    }
    cJSON *out_data = cJSON_Duplicate(data, 1);
    if (!out_data || !cJSON_AddItemToObject(out_data, "situation", situation)) {
        cJSON_Delete(situation);
        cJSON_Delete(out_data);
        cJSON_Delete(root);
        return ATTUNE_ERR_NOMEM;
    }
    *out = event_derive(root, EVENT_TYPE_CLASSIFIED, out_data);
    cJSON_Delete(root);
    return *out ? ATTUNE_OK : ATTUNE_ERR_NOMEM;
}

static attune_err classify_batch(void *ud, stage_io *io, rd_kafka_message_t *const *msgs, size_t n)
{
    classify_stage *s = ud;
    attune_err err = ATTUNE_OK;
    for (size_t i = 0; i < n && !err; i++) {
        char reason[512];
        cJSON *out = NULL;
        attune_err cerr = classify_one(s, msgs[i], &out, reason, sizeof reason);
        if (cerr == ATTUNE_ERR_NOMEM)
            return cerr; /* retry the batch rather than dead-letter good input */
        if (cerr) {
            err = stage_reject(io, msgs[i], reason);
            continue;
        }
        const char *customer =
            json_str(cJSON_GetObjectItemCaseSensitive(out, "data"), "customer_id");
        err = stage_emit(io, msgs[i], s->cfg->topic_classified, customer, out);
        cJSON_Delete(out);
    }
    return err;
}

int classify_service_run(const config *cfg, const classify *c)
{
    classify_stage s = {
        .cfg = cfg,
        .c = c,
        .latency = metrics_histogram("attune_classify_seconds", "time to classify one text", NULL),
    };
    const stage_spec spec = {.in_topic = cfg->topic_enriched, .batch = classify_batch, .ud = &s};
    return stage_run(cfg, &spec);
}
