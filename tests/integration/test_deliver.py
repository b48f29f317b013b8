"""attune-deliver against the real Kafka broker and a real local HTTP server
that records every request and can be told to fail: delivery once per
decision with its headers and signature, retries on 5xx, 429 (Retry-After)
and timeouts, the circuit breaker on a dead endpoint, dead letters for a
permanent 4xx, per-key order, and no loss across a kill -9."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import BIN, Records, Service, free_port, new_id

TOKEN = "deliver-test-token-0123456789"
HMAC_KEY = "deliver-test-hmac-key"


# --- the recording endpoint ---------------------------------------------------

class Endpoint:
    """A local HTTP server that records requests (headers, body, time) and
    answers 200 unless told otherwise, per Idempotency-Key: a list of actions
    taken one per request, each a status (int), (status, headers), or
    ("hang", seconds). stop() closes the port and every open connection;
    start() opens it again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.rules: dict[str, list] = {}
        self.delay = 0.0
        self.server: ThreadingHTTPServer | None = None
        self.conns: set[socket.socket] = set()
        self.alive = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _handler(self):
        ep = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a CRM would
            # Headers and body go out in two writes: without this, Nagle
            # and delayed ACKs add 40 ms to every request.
            disable_nagle_algorithm = True

            def setup(self):
                super().setup()
                with ep.lock:
                    ep.conns.add(self.connection)

            def finish(self):
                with ep.lock:
                    ep.conns.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                with ep.lock:
                    if not ep.alive:
                        self.close_connection = True
                        return
                    queue = ep.rules.get(key)
                    action = queue.pop(0) if queue else 200
                    ep.requests.append({"t": time.time(), "headers": dict(self.headers),
                                        "body": body, "key": key, "action": action})
                    delay = ep.delay
                if isinstance(action, tuple) and action[0] == "hang":
                    time.sleep(action[1])
                    self.close_connection = True
                    return
                status, extra = (action, {}) if isinstance(action, int) else action
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass

        return Handler

    def start(self) -> "Endpoint":
        deadline = time.time() + 10
        while True:
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.server.daemon_threads = True
        self.alive = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        with self.lock:
            self.alive = False
            conns = list(self.conns)
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        for c in conns:  # kept-alive connections would still answer
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def delivered(self) -> list[dict]:
        """Requests answered 2xx, in arrival order."""
        with self.lock:
            return [r for r in self.requests if r["action"] == 200]

    def for_key(self, key: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["key"] == key]

    def wait_delivered(self, keys, timeout=60) -> list[dict]:
        want = set(keys)
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = {r["key"] for r in self.delivered()}
            if want <= got:
                break
            time.sleep(0.1)
        return self.delivered()


@pytest.fixture
def endpoint():
    ep = Endpoint().start()
    yield ep
    ep.stop()


# --- topics, records, the service --------------------------------------------

def create_topics(bootstrap: str, *names: str, partitions: int = 3):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(n, num_partitions=partitions, replication_factor=1)
                                   for n in names])
    for f in futures.values():
        f.result(timeout=30)


@pytest.fixture
def topics(stack):
    """A fresh decision topic and dead-letter topic for one test."""
    suffix = uuid.uuid4().hex[:10]
    decisions, dlq = f"test.deliver.{suffix}", f"test.deliver.dlq.{suffix}"
    create_topics(stack.bootstrap, decisions, dlq)
    return decisions, dlq


def decision(customer: str, seq: int = 0) -> dict:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/attune/decide",
        "type": "attune.decision.crm.v1",
        "datacontenttype": "application/json",
        "data": {"decision_id": new_id("dec"), "customer_id": customer, "seq": seq,
                 "summary": "follow up by email"},
    }


def produce(bootstrap: str, topic: str, events, traceparent: str | None = None) -> list[bytes]:
    """Produces the events (keyed by customer) in order; returns the values."""
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    values = []
    for ev in events:
        value = ev if isinstance(ev, bytes) else json.dumps(ev).encode()
        key = b"raw" if isinstance(ev, bytes) else ev["data"]["customer_id"].encode()
        headers = [("content-type", b"application/cloudevents+json")]
        if traceparent:
            headers.append(("traceparent", traceparent.encode()))
        p.produce(topic, key=key, value=value, headers=headers)
        values.append(value)
    assert p.flush(30) == 0
    return values


def deliver_env(base_env, topics, endpoint, **extra) -> dict[str, str]:
    decisions, dlq = topics
    env = dict(base_env)
    env.update({
        "ATTUNE_DELIVER_TOPIC": decisions,
        "ATTUNE_TOPIC_DEADLETTER": dlq,
        "ATTUNE_DELIVER_URL": endpoint.url,
        "ATTUNE_DELIVER_TOKEN": TOKEN,
        "ATTUNE_DELIVER_HMAC_KEY": HMAC_KEY,
        "ATTUNE_DELIVER_TIMEOUT_MS": "500",
        "ATTUNE_DELIVER_CONNECT_TIMEOUT_MS": "300",
        "ATTUNE_DELIVER_MAX_ATTEMPTS": "5",
        "ATTUNE_DELIVER_BACKOFF_MS": "20",
        "ATTUNE_DELIVER_BACKOFF_MAX_MS": "200",
        "ATTUNE_DELIVER_BREAKER_FAILURES": "3",
        "ATTUNE_DELIVER_BREAKER_COOLDOWN_MS": "200",
        "ATTUNE_DELIVER_BREAKER_COOLDOWN_MAX_MS": "1000",
        "ATTUNE_DELIVER_CONCURRENCY": "4",
    })
    env.update(extra)
    return env


@pytest.fixture
def start_deliver(log_dir):
    started = []

    def start(env) -> Service:
        svc = Service("deliver", env, log_dir).start()
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.stop()


def key_of(ev: dict) -> str:
    return ev["data"]["decision_id"]


def metric_value(svc: Service, name: str) -> float | None:
    text = requests.get(svc.url + "/metrics", timeout=5).text
    m = re.search(rf"^{re.escape(name)} ([0-9.eE+-]+)$", text, re.M)
    return float(m.group(1)) if m else None


def dead_letters(stack, dlq: str, want: int, timeout: float):
    r = Records(stack.bootstrap, dlq)
    try:
        return r.collect(lambda m: True, want, timeout=timeout)
    finally:
        r.close()


def header(msg, name: str) -> str | None:
    for k, v in msg.headers() or []:
        if k == name:
            return v.decode()
    return None


def settle(seconds: float = 1.5):
    """Lets late duplicates arrive before counting exactly."""
    time.sleep(seconds)


# --- tests ----------------------------------------------------------------------

def test_each_decision_is_delivered_once_with_its_headers(stack, base_env, topics, endpoint,
                                                          start_deliver):
    events = [decision(new_id("cust"), i) for i in range(5)]
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    values = produce(stack.bootstrap, topics[0], events, traceparent=tp)
    start_deliver(deliver_env(base_env, topics, endpoint))
    endpoint.wait_delivered([key_of(e) for e in events])
    settle()
    got = endpoint.delivered()
    assert Counter(r["key"] for r in got) == Counter(key_of(e) for e in events)
    assert len(endpoint.requests) == len(events), "no retries were needed"
    by_key = {r["key"]: r for r in got}
    for ev, value in zip(events, values):
        r = by_key[key_of(ev)]
        h = r["headers"]
        assert r["body"] == value, "the record value is posted unchanged"
        assert h["Content-Type"] == "application/cloudevents+json"
        assert h["Authorization"] == f"Bearer {TOKEN}"
        assert h["User-Agent"].startswith("attune-deliver/0.")
        assert h["traceparent"] == tp
        m = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", h["X-Attune-Signature"])
        assert m, h["X-Attune-Signature"]
        t, sig = m.group(1), m.group(2)
        want = hmac.new(HMAC_KEY.encode(), t.encode() + b"." + r["body"],
                        hashlib.sha256).hexdigest()
        assert hmac.compare_digest(sig, want)
        assert abs(int(t) - r["t"]) < 60


def test_an_endpoint_that_keeps_answering_429_loses_nothing(stack, base_env, topics, endpoint,
                                                            start_deliver):
    """429 is "slow down": more of them than the attempt budget (5 here)
    delay the decision, they never dead-letter it."""
    busy = decision(new_id("cust"))
    endpoint.rules[key_of(busy)] = [(429, {"Retry-After": "0"})] * 8 + [429] * 2
    produce(stack.bootstrap, topics[0], [busy])
    svc = start_deliver(deliver_env(base_env, topics, endpoint))
    endpoint.wait_delivered([key_of(busy)], timeout=30)
    tries = endpoint.for_key(key_of(busy))
    assert len(tries) == 11 and tries[-1]["action"] == 200
    assert metric_value(svc, "attune_deadletter_total") == 0
    assert not dead_letters(stack, topics[1], 1, timeout=2)


def test_an_open_breaker_probes_no_sooner_than_retry_after(stack, base_env, topics, endpoint,
                                                           start_deliver):
    """Three 503s open the breaker (cooldown 200 ms here); the endpoint asked
    for 2 s with Retry-After, so the probe waits 2 s, not the cooldown."""
    down = decision(new_id("cust"))
    endpoint.rules[key_of(down)] = [(503, {"Retry-After": "0"})] * 2 + \
        [(503, {"Retry-After": "2"})] * 2
    produce(stack.bootstrap, topics[0], [down])
    start_deliver(deliver_env(base_env, topics, endpoint))
    endpoint.wait_delivered([key_of(down)], timeout=30)
    tries = endpoint.for_key(key_of(down))
    assert len(tries) == 5 and tries[-1]["action"] == 200
    assert tries[3]["t"] - tries[2]["t"] >= 1.9, [r["t"] for r in tries]
    assert tries[4]["t"] - tries[3]["t"] >= 1.9, [r["t"] for r in tries]


def test_5xx_is_retried_and_429_honours_retry_after(stack, base_env, topics, endpoint,
                                                     start_deliver):
    flaky, limited = decision(new_id("cust")), decision(new_id("cust"))
    endpoint.rules[key_of(flaky)] = [500, 503]
    endpoint.rules[key_of(limited)] = [(429, {"Retry-After": "1"})]
    produce(stack.bootstrap, topics[0], [flaky, limited])
    svc = start_deliver(deliver_env(base_env, topics, endpoint))
    endpoint.wait_delivered([key_of(flaky), key_of(limited)])
    settle()
    tries = endpoint.for_key(key_of(flaky))
    assert [r["action"] for r in tries] == [500, 503, 200]
    assert len({r["body"] for r in tries}) == 1
    tries = endpoint.for_key(key_of(limited))
    assert [r["action"] if isinstance(r["action"], int) else r["action"][0] for r in tries] == \
        [429, 200]
    assert tries[1]["t"] - tries[0]["t"] >= 0.9, "Retry-After: 1 was not honoured"
    assert metric_value(svc, 'attune_deliver_requests_total{result="retry"}') == 3
    assert metric_value(svc, 'attune_deliver_requests_total{result="ok"}') == 2
    assert metric_value(svc, "attune_deliver_breaker_opens_total") == 0


def test_a_hanging_endpoint_times_out_and_is_retried(stack, base_env, topics, endpoint,
                                                     start_deliver):
    ev = decision(new_id("cust"))
    endpoint.rules[key_of(ev)] = [("hang", 3), ("hang", 3)]
    produce(stack.bootstrap, topics[0], [ev])
    t0 = time.time()
    start_deliver(deliver_env(base_env, topics, endpoint))
    endpoint.wait_delivered([key_of(ev)])
    tries = endpoint.for_key(key_of(ev))
    assert [r["action"] for r in tries] == [("hang", 3), ("hang", 3), 200]
    # Each hang was cut by the 500 ms timeout, not waited out (3 s each).
    assert tries[-1]["t"] - tries[0]["t"] < 3.0
    assert time.time() - t0 < 30


def test_dead_endpoint_opens_the_breaker_and_nothing_is_lost(stack, base_env, topics, endpoint,
                                                             start_deliver):
    endpoint.stop()
    customers = [new_id("cust") for _ in range(3)]
    events = [decision(c, seq) for seq in range(4) for c in customers]
    produce(stack.bootstrap, topics[0], events)
    # A short poll bound (max.poll.interval.ms / 2 - timeout = 5.5 s) so the
    # outage outlasts one batch: the batch is handed back and consumed again.
    svc = start_deliver(deliver_env(base_env, topics, endpoint,
                                    ATTUNE_KAFKA_CONSUMER_MAX_POLL_INTERVAL_MS="12000",
                                    ATTUNE_KAFKA_CONSUMER_SESSION_TIMEOUT_MS="6000"))
    deadline = time.time() + 30
    while time.time() < deadline and metric_value(svc, "attune_deliver_breaker_state") != 1:
        time.sleep(0.05)
    assert metric_value(svc, "attune_deliver_breaker_state") == 1, svc.log_tail()
    # The consumer-only properties reach the consumer (the bound is read
    # from them) and not the producer, which would warn that it ignores them.
    log = svc.log_tail(10**6)
    assert "waits bounded at 5.5 s" in log, log
    assert "CONFWARN" not in log, log
    time.sleep(7)  # longer than the poll bound
    assert metric_value(svc, "attune_deliver_breaker_opens_total") >= 2, "probes failed"
    assert metric_value(svc, "attune_deliver_deadletter_total") == 0
    assert dead_letters(stack, topics[1], 1, timeout=2) == []
    endpoint.start()
    got = endpoint.wait_delivered([key_of(e) for e in events], timeout=60)
    settle()
    got = endpoint.delivered()
    assert Counter(r["key"] for r in got) == Counter(key_of(e) for e in events), \
        "each decision exactly once"
    per_customer = defaultdict(list)
    for r in got:
        data = json.loads(r["body"])["data"]
        per_customer[data["customer_id"]].append(data["seq"])
    assert per_customer == {c: [0, 1, 2, 3] for c in customers}
    assert metric_value(svc, "attune_deliver_breaker_state") == 0
    assert dead_letters(stack, topics[1], 1, timeout=1) == []


def test_permanent_400_is_dead_lettered_at_once(stack, base_env, topics, endpoint,
                                                start_deliver):
    customer = new_id("cust")
    bad, after1, after2 = decision(customer, 0), decision(customer, 1), decision(customer, 2)
    endpoint.rules[key_of(bad)] = [400, 400, 400]
    produce(stack.bootstrap, topics[0], [bad, after1, b"this is not json", after2])
    svc = start_deliver(deliver_env(base_env, topics, endpoint))
    endpoint.wait_delivered([key_of(after1), key_of(after2)])
    dl = dead_letters(stack, topics[1], 2, timeout=30)
    settle()
    assert len(endpoint.for_key(key_of(bad))) == 1, "a 400 is not retried"
    assert [json.loads(r["body"])["data"]["seq"] for r in endpoint.delivered()] == [1, 2]
    assert len(endpoint.requests) == 3, "the record that is not JSON is never posted"
    assert len(dl) == 2
    reasons = {m.value(): header(m, "attune-dlq-reason") for m in dl}
    assert "HTTP 400" in reasons[json.dumps(bad).encode()]
    by_value = {m.value(): m for m in dl}
    assert header(by_value[json.dumps(bad).encode()], "attune-dlq-http-status") == "400"
    assert header(by_value[json.dumps(bad).encode()], "attune-dlq-attempts") == "1"
    assert header(by_value[b"this is not json"], "attune-dlq-http-status") is None
    assert "not a JSON decision" in reasons[b"this is not json"]
    assert all(header(m, "attune-dlq-service") == "deliver" for m in dl)
    assert all(header(m, "attune-dlq-topic") == topics[0] for m in dl)
    assert metric_value(svc, "attune_deliver_deadletter_total") == 2
    assert metric_value(svc, 'attune_deliver_requests_total{result="rejected"}') == 1


def test_a_decision_only_it_fails_is_dead_lettered_not_waited_on_forever(
        stack, base_env, topics, endpoint, start_deliver):
    """A 500 that only one decision causes opens the breaker (it is the only
    request in flight), but it is charged to that decision: after its budget
    it is dead-lettered and the decisions behind it flow."""
    customer = new_id("cust")
    poison, after = decision(customer, 0), decision(customer, 1)
    endpoint.rules[key_of(poison)] = [500] * 50
    produce(stack.bootstrap, topics[0], [poison, after])
    svc = start_deliver(deliver_env(base_env, topics, endpoint,
                                    ATTUNE_DELIVER_CONCURRENCY="1"))
    endpoint.wait_delivered([key_of(after)], timeout=60)
    dl = dead_letters(stack, topics[1], 1, timeout=30)
    assert len(dl) == 1 and dl[0].value() == json.dumps(poison).encode()
    assert "failed after 5 attempts: HTTP 500" in header(dl[0], "attune-dlq-reason")
    assert header(dl[0], "attune-dlq-http-status") == "500"
    assert header(dl[0], "attune-dlq-attempts") == "5"
    assert len(endpoint.for_key(key_of(poison))) == 5
    assert metric_value(svc, "attune_deliver_breaker_opens_total") >= 1
    assert metric_value(svc, "attune_deliver_breaker_state") == 0


def test_kill_9_mid_stream_loses_nothing(stack, base_env, topics, endpoint, start_deliver):
    customers = [new_id("cust") for _ in range(8)]
    events = [decision(c, seq) for seq in range(25) for c in customers]
    produce(stack.bootstrap, topics[0], events)
    endpoint.delay = 0.02  # slow enough that the kill lands mid-stream
    # The killed member holds its partitions until its session times out:
    # the broker's minimum (6 s) keeps the test short.
    env = deliver_env(base_env, topics, endpoint, ATTUNE_BATCH_SIZE="50",
                      ATTUNE_KAFKA_CONSUMER_SESSION_TIMEOUT_MS="6000")
    first = start_deliver(env)
    deadline = time.time() + 60
    while len(endpoint.delivered()) < 40 and time.time() < deadline:
        time.sleep(0.02)
    first.kill()
    before = len(endpoint.delivered())
    assert 0 < before < len(events), "the kill did not land mid-stream"
    endpoint.delay = 0
    start_deliver(env)
    endpoint.wait_delivered([key_of(e) for e in events], timeout=90)
    got = endpoint.delivered()
    by_id = {key_of(e): json.dumps(e).encode() for e in events}
    assert {r["key"] for r in got} == set(by_id), "every decision delivered"
    # A duplicate is the same decision under the same Idempotency-Key.
    for r in got:
        assert r["body"] == by_id[r["key"]]
        assert r["key"] == json.loads(r["body"])["data"]["decision_id"]


def test_refuses_to_start_without_a_usable_configuration(base_env, topics, endpoint):
    env = deliver_env(base_env, topics, endpoint)
    cases = [
        ({"ATTUNE_DELIVER_URL": ""}, "ATTUNE_DELIVER_URL: required"),
        ({"ATTUNE_DELIVER_URL": "ftp://127.0.0.1/x"}, "not http or https"),
        ({"ATTUNE_DELIVER_BREAKER_FAILURES": "6", "ATTUNE_DELIVER_MAX_ATTEMPTS": "5"},
         "ATTUNE_DELIVER_BREAKER_FAILURES (6) must not exceed ATTUNE_DELIVER_MAX_ATTEMPTS (5)"),
    ]
    for extra, message in cases:
        full = dict(os.environ, **env)
        full.update(extra)
        res = subprocess.run([str(BIN / "attune-deliver")], env=full, capture_output=True,
                             text=True, timeout=30)
        assert res.returncode == 2, (extra, res.stderr)
        assert message in res.stderr, res.stderr
        assert TOKEN not in res.stderr and HMAC_KEY not in res.stderr
