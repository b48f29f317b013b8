/* attune-deliver: POSTs the decisions of one topic to one HTTP endpoint (the
 * CRM, a router's webhook): one deployment per endpoint. docs/deliver.md. */
#include <curl/curl.h>
#include <stdio.h>

#include "config.h"
#include "deliver.h"
#include "service.h"

int main(int argc, char **argv)
{
    config cfg;
    int rc = service_init(argc, argv, "deliver",
                          "posts decisions to an HTTP endpoint (CRM, router webhook)", NULL, &cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    /* Once, before any thread: curl's global set-up is not thread-safe. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("attune-deliver: curl_global_init failed\n", stderr);
        config_fini(&cfg);
        return 1;
    }
    char errstr[512];
    int code;
    if (deliver_configure(&cfg, errstr, sizeof errstr) != ATTUNE_OK) {
        fprintf(stderr, "attune-deliver: configuration error: %s\n", errstr);
        code = 2;
    } else {
        code = deliver_run(&cfg);
    }
    curl_global_cleanup();
    config_fini(&cfg);
    return code;
}
