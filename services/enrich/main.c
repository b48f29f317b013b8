/* attune-enrich: interactions in, interactions with customer context out. */
#include "enrich.h"
#include "log.h"
#include "service.h"
#include "stage.h"

int main(int argc, char **argv)
{
    config cfg;
    int rc = service_init(argc, argv, "enrich",
                          "adds customer context from Redis to interaction events", NULL, &cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    char errstr[512];
    enrich e;
    if (enrich_init(&e, &cfg, errstr, sizeof errstr) != ATTUNE_OK) {
        log_error("%s", errstr);
        config_fini(&cfg);
        return 2;
    }
    const stage_spec spec = {.in_topic = cfg.topic_interactions, .batch = enrich_batch, .ud = &e};
    int code = stage_run(&cfg, &spec);
    enrich_fini(&e);
    config_fini(&cfg);
    return code;
}
