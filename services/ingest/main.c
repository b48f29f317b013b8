/* attune-ingest: accepts interaction events over HTTP and answers 202 once
 * Kafka holds them. */
#include <unistd.h>

#include "httpd.h"
#include "ingest.h"
#include "log.h"
#include "service.h"

int main(int argc, char **argv)
{
    config cfg;
    int rc = service_init(argc, argv, "ingest",
                          "the HTTP event API (POST /v1/events, POST /v1/outcomes)", NULL, &cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    service_install_signals();
    char errstr[512];
    ingest in;
    if (ingest_init(&in, &cfg, errstr, sizeof errstr) != ATTUNE_OK) {
        log_error("%s", errstr);
        config_fini(&cfg);
        return 2;
    }
    static const httpd_route routes[] = {{"POST", "/v1/events", ingest_post_events},
                                         {"POST", "/v1/outcomes", ingest_post_outcomes}};
    httpd *http = NULL;
    if (httpd_start(&cfg, routes, sizeof routes / sizeof routes[0], ingest_ready, &in, &http,
                    errstr, sizeof errstr) != ATTUNE_OK) {
        log_error("%s", errstr);
        ingest_fini(&in);
        config_fini(&cfg);
        return 1;
    }
    log_info("listening on %s (port %d), producing to %s", cfg.http_addr, httpd_port(http),
             cfg.topic_interactions);
    while (service_running)
        usleep(100 * 1000);
    log_info("stopping: finishing requests, flushing producer");
    httpd_stop(http); /* waits for handlers, which wait for their acks */
    ingest_fini(&in);
    config_fini(&cfg);
    return 0;
}
