"""attune-ingest at its edges, against the real broker: records Kafka
refuses as too large, extension attributes, Idempotency-Key bytes, events
whose source and id run together, chunked bodies over the limit, slow
clients holding connections, HEAD."""

import base64
import os
import re
import socket
import time
import uuid

import requests
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import (TOPICS, Records, Service, cloudevent, event_value, for_customers,
                      interaction, new_id, post)


def assert_problem(resp, status, slug=None, field=None):
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    doc = resp.json()
    assert doc["status"] == status
    if slug is not None:
        assert doc["type"] == f"urn:attune:problem:{slug}", doc
    if field is not None:
        assert doc["errors"][0]["field"] == field, doc
    return doc


def metric(svc, name, labels):
    """The value of one sample of svc's /metrics, 0 when absent."""
    text = requests.get(svc.url + "/metrics", timeout=5).text
    m = re.search(r"^" + re.escape(f"{name}{{{labels}}}") + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def ingest_with(base_env, log_dir, **env):
    return Service("ingest", dict(base_env, **env), log_dir).start()


# --- chunked bodies over the limit --------------------------------------------


def test_chunked_body_over_the_limit_is_413_counted_once(ingest):
    labels = 'route="other",code="413"'
    before = metric(ingest, "attune_http_requests_total", labels)

    def chunks():
        for _ in range(18):  # 1.125 MiB in 64 KiB chunks, no Content-Length
            yield b"x" * 65536

    resp = requests.post(ingest.url + "/v1/events", data=chunks(), timeout=30,
                         headers={"Content-Type": "application/cloudevents+json"})
    assert_problem(resp, 413, "body-too-large")
    assert metric(ingest, "attune_http_requests_total", labels) == before + 1


def test_chunked_body_under_the_limit_is_accepted(ingest):
    import json

    from conftest import API_KEY

    body = json.dumps(cloudevent(interaction(new_id("cust")))).encode()
    resp = requests.post(ingest.url + "/v1/events", data=iter([body[:10], body[10:]]),
                         timeout=30, headers={"Content-Type": "application/cloudevents+json",
                                              "Authorization": f"Bearer {API_KEY}"})
    assert resp.status_code == 202, resp.text


# --- HEAD -----------------------------------------------------------------------


def test_head_works_wherever_get_does(ingest):
    for path in ("/healthz", "/readyz", "/metrics"):
        get = requests.get(ingest.url + path, timeout=5)
        head = requests.head(ingest.url + path, timeout=5)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b""
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert_problem(requests.get(ingest.url + "/v1/events", timeout=5), 405)
    assert requests.head(ingest.url + "/v1/events", timeout=5).status_code == 405
    assert requests.head(ingest.url + "/nope", timeout=5).status_code == 404
