"""attune-ingest over HTTP against the real broker: statuses, problem
documents, limits, idempotency, health and metrics."""

import json

import requests

from conftest import (API_KEY, TOPICS, Records, cloudevent, event_value, for_customers,
                      interaction, new_id, post)


def assert_problem(resp, status, field=None):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    doc = resp.json()
    assert doc["status"] == status
    assert doc["type"].startswith("urn:attune:problem:")
    assert doc["title"]
    if field is not None:
        assert doc["errors"][0]["field"] == field, doc
        assert field in doc["detail"]
    return doc


def test_single_cloudevent_is_acknowledged_and_in_kafka(stack, ingest):
    customer = new_id("cust")
    ce = cloudevent(interaction(customer, text="hello"))
    resp = post(ingest, ce)
    assert resp.status_code == 202, resp.text
    assert resp.json()["ids"] == [ce["id"]]
    records = Records(stack.bootstrap, TOPICS["interactions"])
    got = records.collect(for_customers([customer]), 1)
    records.close()
    assert len(got) == 1
    value = event_value(got[0])
    assert value["id"] == ce["id"]
    assert value["data"]["text"] == "hello"
    assert value["traceparent"].startswith("00-")
    headers = dict(got[0].headers())
    assert headers["content-type"] == b"application/cloudevents+json"


def test_bare_json_is_wrapped_with_idempotency_key(stack, ingest):
    customer = new_id("cust")
    data = interaction(customer)
    key = new_id("idem")
    first = post(ingest, data, content_type="application/json", headers={"Idempotency-Key": key})
    second = post(ingest, data, content_type="application/json; charset=utf-8",
                  headers={"Idempotency-Key": key})
    assert first.status_code == 202 and second.status_code == 202
    assert first.json()["ids"] == [key]
    assert second.json()["duplicate_ids"] == [key]
    records = Records(stack.bootstrap, TOPICS["interactions"])
    got = records.collect(for_customers([customer]), 2, timeout=10)
    records.close()
    assert len(got) == 1
    value = event_value(got[0])
    assert value["specversion"] == "1.0" and value["type"] == "attune.interaction.v1"
    assert value["source"] == "/attune/ingest"


def test_repeated_event_id_is_produced_once(stack, ingest):
    customer = new_id("cust")
    ce = cloudevent(interaction(customer))
    assert post(ingest, ce).json()["duplicates"] == 0
    again = post(ingest, ce)
    assert again.status_code == 202
    assert again.json()["duplicates"] == 1
    fresh = cloudevent(interaction(customer))
    batch = [ce, fresh, fresh]
    mixed = post(ingest, batch, content_type="application/cloudevents-batch+json")
    assert mixed.status_code == 202
    assert mixed.json()["duplicate_ids"] == [ce["id"], fresh["id"]]
    records = Records(stack.bootstrap, TOPICS["interactions"])
    got = records.collect(for_customers([customer]), 3, timeout=10)
    records.close()
    assert sorted(event_value(m)["id"] for m in got) == sorted([ce["id"], fresh["id"]])


def test_id_reused_for_other_content_is_422_and_stores_nothing(stack, base_env, log_dir, ingest):
    """A retry sends the same body; the same key or id with other content
    is a client bug (or two clients sharing a key), answered 422 rather than
    taken for a duplicate and silently dropped, here and on a replica."""
    from conftest import Service

    customer, other_customer = new_id("cust"), new_id("cust")
    key = new_id("idem")
    first = interaction(customer, text="my bill is wrong")
    assert post(ingest, first, content_type="application/json",
                headers={"Idempotency-Key": key}).status_code == 202
    clash = post(ingest, interaction(other_customer, text="where is my parcel"),
                 content_type="application/json", headers={"Idempotency-Key": key})
    doc = assert_problem(clash, 422)
    assert doc["type"].endswith("idempotency-conflict"), doc
    assert "Idempotency-Key" in doc["detail"]
    again = post(ingest, first, content_type="application/json", headers={"Idempotency-Key": key})
    assert again.status_code == 202 and again.json()["duplicate_ids"] == [key]
    # a retry serialised anew (members in another order) is the same content
    reordered = dict(reversed(list(first.items())))
    again = post(ingest, reordered, content_type="application/json",
                 headers={"Idempotency-Key": key})
    assert again.status_code == 202 and again.json()["duplicate_ids"] == [key]
    ce = cloudevent(interaction(customer, text="hello"))
    assert post(ingest, ce).status_code == 202
    changed = dict(ce, data=interaction(other_customer, text="something else"))
    assert_problem(post(ingest, changed), 422, "id")
    fresh = cloudevent(interaction(other_customer))
    batch = post(ingest, [fresh, changed], content_type="application/cloudevents-batch+json")
    assert_problem(batch, 422, "[1].id")
    # one id twice in a request with two contents: the same answer
    twin = cloudevent(interaction(other_customer))
    twin_changed = dict(twin, data=interaction(other_customer, text="not the same"))
    assert_problem(post(ingest, [twin, twin_changed],
                        content_type="application/cloudevents-batch+json"), 422, "[1].id")
    replica = Service("ingest", base_env, log_dir).start()
    try:
        assert_problem(post(replica, changed), 422, "id")
        assert post(replica, ce).json()["duplicate_ids"] == [ce["id"]]
    finally:
        assert replica.stop() == 0, replica.log_tail()
    records = Records(stack.bootstrap, TOPICS["interactions"])
    got = records.collect(for_customers([customer, other_customer]), 3, timeout=8)
    records.close()
    # the two first posts only: nothing of a refused request, not even the
    # batch's fresh event
    assert sorted(event_value(m)["data"]["customer_id"] for m in got) == [customer, customer]


def test_malformed_json_is_400(ingest):
    resp = post(ingest, None, raw=b'{"specversion": "1.0", "id": ')
    doc = assert_problem(resp, 400)
    assert "malformed" in doc["type"]


def test_missing_customer_id_names_the_field(ingest):
    data = interaction("x")
    del data["customer_id"]
    assert_problem(post(ingest, cloudevent(data)), 400, field="data.customer_id")
    assert_problem(post(ingest, data, content_type="application/json"), 400, field="customer_id")


def test_wrong_types_name_the_field(ingest):
    cases = [
        ({"wait_seconds": "long"}, "data.wait_seconds"),
        ({"channel": "pigeon"}, "data.channel"),
        ({"kind": 3}, "data.kind"),
        ({"occurred_at": "yesterday"}, "data.occurred_at"),
        ({"text": 42}, "data.text"),
        ({"customerId": "typo"}, "data.customerId"),
    ]
    for fields, field in cases:
        assert_problem(post(ingest, cloudevent(interaction("c", **fields))), 400, field=field)
    ce = cloudevent(interaction("c"))
    ce["specversion"] = "0.3"
    assert_problem(post(ingest, ce), 400, field="specversion")
    ce = cloudevent(interaction("c"), type="com.example.other")
    assert_problem(post(ingest, ce), 400, field="type")


def test_batch_error_names_the_index(ingest):
    bad = interaction("c")
    bad["interaction_id"] = ""
    batch = [cloudevent(interaction("c")), cloudevent(bad)]
    assert_problem(post(ingest, batch, content_type="application/cloudevents-batch+json"), 400,
                   field="[1].data.interaction_id")


def test_limits_are_413(ingest):
    big = b"x" * (1024 * 1024 + 10)
    assert_problem(post(ingest, None, raw=big), 413)
    batch = [cloudevent(interaction("c")) for _ in range(501)]
    assert_problem(post(ingest, batch, content_type="application/cloudevents-batch+json"), 413)
    assert_problem(post(ingest, cloudevent(interaction("c", text="a" * 9000))), 413,
                   field="data.text")
    deep = {"a": 1}
    for _ in range(40):
        deep = {"a": deep}
    assert_problem(post(ingest, cloudevent(interaction("c", attributes=deep))), 413)


def test_bad_api_key_is_401(ingest):
    ce = cloudevent(interaction("c"))
    resp = post(ingest, ce, key="wrong-key-0123456789abcdef")
    assert_problem(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(post(ingest, ce, key=None), 401)
    assert_problem(post(ingest, ce, key=API_KEY[:-1]), 401)


def test_unsupported_media_type_is_415(ingest):
    assert_problem(post(ingest, cloudevent(interaction("c")), content_type="text/plain"), 415)


def test_unknown_path_and_method(ingest):
    assert_problem(requests.get(ingest.url + "/nope", timeout=5), 404)
    r = requests.get(ingest.url + "/v1/events", timeout=5)
    assert_problem(r, 405)
    assert r.headers["Allow"] == "POST"  # a 405 says what the path takes (RFC 9110)


def test_health_readiness_metrics(ingest):
    assert requests.get(ingest.url + "/healthz", timeout=5).json()["status"] == "ok"
    assert requests.get(ingest.url + "/readyz", timeout=5).status_code == 200
    metrics = requests.get(ingest.url + "/metrics", timeout=5)
    assert metrics.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE attune_ingest_events_total counter" in metrics.text
    assert 'attune_http_requests_total{route="/v1/events",code="202"}' in metrics.text
    # every result has its series from the start, so an alert on a rate has one
    for result in ("accepted", "duplicate", "rejected", "unavailable"):
        assert f'attune_ingest_events_total{{result="{result}"}}' in metrics.text
        assert f'attune_ingest_outcomes_total{{result="{result}"}}' in metrics.text


def test_ingest_refuses_to_start_without_api_keys(base_env, log_dir):
    import subprocess

    from conftest import BIN, free_port

    env = dict(base_env, ATTUNE_API_KEYS="", ATTUNE_HTTP_ADDR=f"127.0.0.1:{free_port()}")
    proc = subprocess.run([str(BIN / "attune-ingest")], env=env, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 2
    assert "ATTUNE_API_KEYS" in proc.stderr


def test_kafka_unavailable_is_503_and_not_ready(base_env, log_dir):
    from conftest import Service, free_port

    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    env = dict(base_env, ATTUNE_KAFKA_BOOTSTRAP=dead, ATTUNE_PRODUCE_TIMEOUT_MS="1500")
    svc = Service("ingest", env, log_dir).start()
    try:
        assert requests.get(svc.url + "/readyz", timeout=10).status_code == 503
        resp = post(svc, cloudevent(interaction("c")))
        doc = assert_problem(resp, 503)
        assert "kafka" in doc["type"]
        assert doc["stored_ids"] == []  # nothing reached Kafka
        assert int(resp.headers["Retry-After"]) > 0
    finally:
        assert svc.stop() == 0, svc.log_tail()


def test_idempotency_key_too_long_is_400(ingest):
    data = interaction("c")
    resp = post(ingest, data, content_type="application/json",
                headers={"Idempotency-Key": "k" * 257})
    doc = assert_problem(resp, 400)
    # a header, not a field of the body
    assert doc["detail"].startswith("the Idempotency-Key header"), doc
    assert "errors" not in doc


def test_idempotency_is_shared_between_replicas(stack, base_env, log_dir, ingest):
    from conftest import Service

    other = Service("ingest", base_env, log_dir).start()
    try:
        customer = new_id("cust")
        ce = cloudevent(interaction(customer))
        assert post(ingest, ce).json()["duplicates"] == 0
        again = post(other, ce)
        assert again.status_code == 202
        assert again.json()["duplicate_ids"] == [ce["id"]]
    finally:
        assert other.stop() == 0, other.log_tail()
    records = Records(stack.bootstrap, TOPICS["interactions"])
    got = records.collect(for_customers([customer]), 2, timeout=8)
    records.close()
    assert len(got) == 1


def test_idempotency_without_redis_falls_back_to_the_local_window(stack, ingest):
    customer = new_id("cust")
    ce = cloudevent(interaction(customer))
    stack.stop_redis()
    try:
        assert post(ingest, ce).json()["duplicates"] == 0
        assert post(ingest, ce).json()["duplicates"] == 1
    finally:
        stack.start_redis()
