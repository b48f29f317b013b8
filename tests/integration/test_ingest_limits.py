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
                      interaction, new_id, post, metric)


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


def ingest_with(base_env, log_dir, **env):
    return Service("ingest", dict(base_env, **env), log_dir).start()


# --- records too large for Kafka: 413, never 503 ----------------------------


def test_oversized_extension_attribute_is_413_not_503(ingest):
    ce = cloudevent(interaction(new_id("cust")))
    ce["big"] = "a" * 1_040_000  # the body stays under ATTUNE_MAX_BODY_BYTES (1 MiB)
    unavailable = metric(ingest, "attune_ingest_events_total", 'result="unavailable"')
    rejected = metric(ingest, "attune_ingest_events_total", 'result="rejected"')
    resp = post(ingest, ce)
    assert_problem(resp, 413, "limit-exceeded", field="big")
    assert "Retry-After" not in resp.headers
    assert metric(ingest, "attune_ingest_events_total", 'result="unavailable"') == unavailable
    assert metric(ingest, "attune_ingest_events_total", 'result="rejected"') == rejected + 1


def test_extension_attribute_limits(ingest):
    ok = cloudevent(interaction(new_id("cust")), comexampleref="r" * 4096)
    assert post(ingest, ok).status_code == 202
    long_value = cloudevent(interaction("c"), comexampleref="r" * 4097)
    assert_problem(post(ingest, long_value), 413, "limit-exceeded", field="comexampleref")
    long_subject = cloudevent(interaction("c"), subject="s" * 4097)
    assert_problem(post(ingest, long_subject), 413, "limit-exceeded", field="subject")
    nested = cloudevent(interaction("c"), comexampleref={"a": 1})
    assert_problem(post(ingest, nested), 400, "invalid-event", field="comexampleref")
    many = cloudevent(interaction("c"), **{f"ext{i}": "v" for i in range(70)})
    assert_problem(post(ingest, many), 413, "limit-exceeded")
    batch = [cloudevent(interaction("c")), long_value]
    assert_problem(post(ingest, batch, content_type="application/cloudevents-batch+json"), 413,
                   "limit-exceeded", field="[1].comexampleref")


def test_record_over_the_producer_limit_is_413(base_env, log_dir):
    svc = ingest_with(base_env, log_dir, ATTUNE_KAFKA_MESSAGE_MAX_BYTES="3000")
    try:
        resp = post(svc, cloudevent(interaction(new_id("cust"), text="t" * 5000)))
        assert_problem(resp, 413, "limit-exceeded")
        assert "Retry-After" not in resp.headers
        assert metric(svc, "attune_ingest_events_total", 'result="unavailable"') == 0
        assert metric(svc, "attune_ingest_events_total", 'result="rejected"') == 1
        assert post(svc, cloudevent(interaction(new_id("cust")))).status_code == 202
    finally:
        assert svc.stop() == 0, svc.log_tail()


def test_record_the_broker_refuses_as_too_large_is_413(stack, base_env, log_dir):
    topic = f"test.small-records.{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": stack.bootstrap})
    for f in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1,
                                           config={"max.message.bytes": "3000"})]).values():
        f.result(timeout=30)
    svc = ingest_with(base_env, log_dir, ATTUNE_TOPIC_INTERACTIONS=topic)
    try:
        # base64 of random bytes: lz4 cannot shrink it under the topic's limit
        text = base64.b64encode(os.urandom(4500)).decode()
        resp = post(svc, cloudevent(interaction(new_id("cust"), text=text)))
        assert_problem(resp, 413, "limit-exceeded")
        assert metric(svc, "attune_ingest_events_total", 'result="unavailable"') == 0
        assert post(svc, cloudevent(interaction(new_id("cust")))).status_code == 202
    finally:
        assert svc.stop() == 0, svc.log_tail()


def test_record_limit_is_a_413_and_records_under_it_flow(stack, base_env, log_dir):
    # The producers keep librdkafka's message.max.bytes (1,000,000 bytes,
    # under the broker's own 1,048,588): an event over it is a 413, never a
    # 503 to retry, and one just under it is stored whole.
    svc = ingest_with(base_env, log_dir, ATTUNE_MAX_TEXT_BYTES="1048576")
    try:
        customer = new_id("cust")
        over = ("hello world " * 90_000)[:1_000_000]
        assert_problem(post(svc, cloudevent(interaction(new_id("cust"), text=over))), 413,
                       "limit-exceeded")
        text = over[:990_000]
        resp = post(svc, cloudevent(interaction(customer, text=text)))
        assert resp.status_code == 202, resp.text
    finally:
        assert svc.stop() == 0, svc.log_tail()
    records = Records(stack.bootstrap, TOPICS["interactions"])
    got = records.collect(for_customers([customer]), 1)
    records.close()
    assert len(got) == 1 and len(event_value(got[0])["data"]["text"]) == 990_000


# --- Idempotency-Key --------------------------------------------------------


def test_idempotency_key_must_be_utf8_without_control_characters(ingest):
    data = interaction(new_id("cust"))
    for key in (b"\xff\xfe-key", b"ab\x80cd", "a\tb".encode(), b"a\x7fb"):
        resp = post(ingest, data, content_type="application/json",
                    headers={"Idempotency-Key": key})
        doc = assert_problem(resp, 400, "invalid-event")
        assert "Idempotency-Key" in doc["detail"]
    key = f"clé-{uuid.uuid4().hex[:8]}"
    resp = post(ingest, data, content_type="application/json",
                headers={"Idempotency-Key": key.encode()})
    assert resp.status_code == 202, resp.text
    resp.content.decode("utf-8")  # the answer itself is valid UTF-8
    assert resp.json()["ids"] == [key]


def test_idempotency_key_is_read_without_surrounding_spaces(ingest):
    key = f"qa-{uuid.uuid4().hex[:8]}"
    resp = post(ingest, interaction(new_id("cust")), content_type="application/json",
                headers={"Idempotency-Key": f"{key}  \t".encode()})
    assert resp.status_code == 202, resp.text
    assert resp.json()["ids"] == [key]


def raw_request(svc, head: bytes, body: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", svc.port), timeout=10) as s:
        s.sendall(head + body)
        got = b""
        while True:
            part = s.recv(65536)
            if not part:
                return got
            got += part


def test_two_different_content_lengths_are_refused(ingest):
    """RFC 9112 6.3: a server on the path that frames the body by the other
    length would see another request (smuggling)."""
    from conftest import API_KEY
    import json

    body = json.dumps(interaction(new_id("cust"))).encode()
    head = (f"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Content-Length: 5\r\n\r\n").encode()
    got = raw_request(ingest, head, body)  # returns once the server closes
    assert got.startswith(b"HTTP/1.1 400"), got[:200]
    assert b"urn:attune:problem:bad-framing" in got
    assert b"Connection: close" in got
    # the same length twice is one length
    head = (f"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    assert raw_request(ingest, head, body).startswith(b"HTTP/1.1 202")


def test_a_length_with_a_transfer_coding_is_refused(ingest):
    """RFC 9112 6.3: a message with both ought to be handled as an error; a
    server on the path that frames by the length sees another request. The
    event is not stored."""
    from conftest import API_KEY
    import json

    key = new_id("te")
    body = json.dumps(interaction(new_id("cust"))).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    head = (f"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
            f"Content-Type: application/json\r\nIdempotency-Key: {key}\r\n"
            f"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    got = raw_request(ingest, head, chunked)
    assert got.startswith(b"HTTP/1.1 400"), got[:200]
    assert b"urn:attune:problem:bad-framing" in got
    assert b"Content-Length and Transfer-Encoding are both given" in got
    assert b"Connection: close" in got
    # chunked alone is fine, and the key was not taken by the refused request
    head = (f"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
            f"Content-Type: application/json\r\nIdempotency-Key: {key}\r\n"
            f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    got = raw_request(ingest, head, chunked)
    assert got.startswith(b"HTTP/1.1 202"), got[:300]
    assert b'"accepted":1' in got.replace(b" ", b"")


def test_built_in_paths_answer_405_to_other_methods(ingest):
    resp = requests.post(ingest.url + "/healthz", timeout=5)
    assert_problem(resp, 405, "method-not-allowed")
    assert resp.headers["Allow"] == "GET, HEAD"


# --- idempotency identity -----------------------------------------------------


def test_source_and_id_do_not_run_together(stack, ingest):
    customer = new_id("cust")
    tag = uuid.uuid4().hex[:8]
    first = cloudevent(interaction(customer), source=f"/s{tag}\x1fx", id="y")
    second = cloudevent(interaction(customer), source=f"/s{tag}", id="x\x1fy")
    for ce in (first, second):
        resp = post(ingest, ce)
        assert resp.status_code == 202, resp.text
        assert resp.json()["duplicates"] == 0, resp.text
    records = Records(stack.bootstrap, TOPICS["interactions"])
    got = records.collect(for_customers([customer]), 2, timeout=30)
    records.close()
    assert sorted(event_value(m)["source"] for m in got) == sorted([f"/s{tag}\x1fx", f"/s{tag}"])


# --- chunked bodies over the limit --------------------------------------------


def test_chunked_body_over_the_limit_is_413_counted_once(ingest):
    labels = 'route="/v1/events",code="413"'  # under the route it was for
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


# --- slow clients -------------------------------------------------------------


def healthz_from(svc, source_ip, timeout=3.0):
    """GET /healthz from a given loopback address (a client other than the
    slow one); the status, or None when no answer came in time."""
    with socket.create_connection(("127.0.0.1", svc.port), timeout=timeout,
                                  source_address=(source_ip, 0)) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        try:
            head = s.recv(64)
        except socket.timeout:
            return None
    m = re.match(rb"HTTP/1\.[01] (\d+)", head)
    return int(m.group(1)) if m else None


def peer_closed(s) -> bool:
    """Whether the server closed or reset s (without waiting)."""
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except BlockingIOError:
        return False


def test_slow_clients_from_one_address_cannot_take_every_connection(base_env, log_dir):
    svc = ingest_with(base_env, log_dir, ATTUNE_HTTP_MAX_CONNECTIONS="32",
                      ATTUNE_HTTP_MAX_CONN_PER_IP="8")
    slow = []
    try:
        # From an address of their own: the readiness probes came from
        # 127.0.0.1, and a closed connection leaves libmicrohttpd's count for
        # its address only when the daemon next cleans up, which a loaded
        # machine may not have done yet (one slot short: 33 refused)
        for _ in range(40):  # slowloris: headers begun, never finished
            s = socket.create_connection(("127.0.0.1", svc.port), timeout=5,
                                         source_address=("127.0.0.3", 0))
            s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        # (counted over all 40: which 8 the server keeps depends on the order
        # it accepts them in; polled for a while, as a loaded machine may
        # take a moment to refuse them)
        closed = set()
        deadline = time.time() + 10
        while len(closed) < 32 and time.time() < deadline:
            closed |= {i for i, s in enumerate(slow) if i not in closed and peer_closed(s)}
            time.sleep(0.1)
        time.sleep(1)  # and no more than those
        closed |= {i for i, s in enumerate(slow) if i not in closed and peer_closed(s)}
        refused = len(closed)
        assert refused == 32, svc.log_tail()  # everything over the per-address limit, at once
        assert healthz_from(svc, "127.0.0.2") == 200
    finally:
        for s in slow:
            s.close()
        assert svc.stop() == 0, svc.log_tail()


def test_idle_connection_is_closed_after_the_timeout(base_env, log_dir):
    svc = ingest_with(base_env, log_dir, ATTUNE_HTTP_TIMEOUT_S="2")
    try:
        with socket.create_connection(("127.0.0.1", svc.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            started = time.monotonic()
            assert s.recv(1) == b""
            assert time.monotonic() - started < 6
    finally:
        assert svc.stop() == 0, svc.log_tail()


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


def test_a_413_stores_none_of_the_batch(stack, base_env, log_dir):
    # Every record is weighed before the first is queued: a client that
    # resends the batch without the event too large must not duplicate the
    # others.
    svc = ingest_with(base_env, log_dir, ATTUNE_MAX_TEXT_BYTES="1048576")
    try:
        first = cloudevent(interaction(new_id("cust"), text="hello"))
        big = cloudevent(interaction(new_id("cust"), text="x" * 999_900))
        resp = post(svc, [first, big], content_type="application/cloudevents-batch+json")
        assert_problem(resp, 413, "limit-exceeded")
        resp = post(svc, [first], content_type="application/cloudevents-batch+json")
        assert resp.status_code == 202, resp.text
        assert resp.json().get("duplicate_ids", []) == [], resp.json()
    finally:
        assert svc.stop() == 0, svc.log_tail()
    records = Records(stack.bootstrap, TOPICS["interactions"])
    # (the topic also holds records other tests wrote that are not JSON)
    got = records.collect(lambda m: first["id"].encode() in m.value(), 2, timeout=10)
    records.close()
    assert len(got) == 1
