/* attune-learn: outcomes in, learned success counts and customer outcome
 * history out (to Redis). */
#include "learn_stage.h"
#include "service.h"

int main(int argc, char **argv)
{
    config cfg;
    int rc = service_init(argc, argv, "learn", "learns from outcomes which treatment variants work",
                          NULL, &cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    int code = learn_stage_run(&cfg);
    config_fini(&cfg);
    return code;
}
