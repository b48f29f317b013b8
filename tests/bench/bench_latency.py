#!/usr/bin/env python3
"""End-to-end decision latency: from the POST to attune-ingest until the
routing decision is readable (read_committed) on attune.decisions.routing.v1,
through ingest -> enrich -> classify -> decide (4 Kafka hops, 3 of them
transactional). Reference measured in the same run: one Kafka hop
(produce with acks=all, then read_committed consume) on the same broker,
times 4.

Usage: .venv/bin/python tests/bench/bench_latency.py [--events N]
Events are posted one at a time, spaced, so this measures latency, not
throughput. Prints percentiles; asserts nothing."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from confluent_kafka import Consumer, Producer  # noqa: E402

from conftest import API_KEY, TOPICS, Service, cloudevent, interaction, post  # noqa: E402
from stack import Stack  # noqa: E402


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def consumer(bootstrap: str, topic: str) -> Consumer:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"lat-{uuid.uuid4()}",
                  "auto.offset.reset": "latest", "isolation.level": "read_committed",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 5})
    c.subscribe([topic])
    deadline = time.time() + 20
    while not c.assignment() and time.time() < deadline:
        c.poll(0.1)
    return c


def watch(c: Consumer, arrived: dict, stop: threading.Event, key) -> None:
    while not stop.is_set():
        m = c.poll(0.05)
        if m is not None and not m.error():
            arrived.setdefault(key(m), time.perf_counter())


def one_hop(bootstrap: str, n: int) -> list[float]:
    topic = TOPICS["outcomes"]  # an idle topic of the stack
    c = consumer(bootstrap, topic)
    arrived: dict = {}
    stop = threading.Event()
    t = threading.Thread(target=watch, args=(c, arrived, stop, lambda m: m.value().decode()))
    t.start()
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                  "enable.idempotence": True})
    sent = {}
    for i in range(n):
        v = f"ping-{uuid.uuid4()}"
        sent[v] = time.perf_counter()
        p.produce(topic, v.encode(), key=b"k")
        p.flush()
        time.sleep(0.05)
    time.sleep(1)
    stop.set()
    t.join()
    c.close()
    return [(arrived[v] - s) * 1000 for v, s in sent.items() if v in arrived]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200)
    args = ap.parse_args()
    stack = Stack()
    tmp = Path(tempfile.mkdtemp(prefix="attune-lat-"))
    stack.start(tmp / "stack")
    services = []
    try:
        env = {"ATTUNE_KAFKA_BOOTSTRAP": stack.bootstrap, "ATTUNE_REDIS_URL": stack.redis_url,
               "ATTUNE_API_KEYS": API_KEY, "ATTUNE_LOG_LEVEL": "warn"}
        logs = tmp / "logs"
        logs.mkdir()
        for name in ("ingest", "enrich", "classify", "decide"):
            services.append(Service(name, env, logs).start())
        ingest = services[0]
        # Warm up: group joins and transactions initialised.
        post(ingest, cloudevent(interaction("warm", text="hello")))
        time.sleep(5)
        hop = one_hop(stack.bootstrap, args.events)
        c = consumer(stack.bootstrap, TOPICS["routing"])
        arrived: dict = {}
        stop = threading.Event()
        t = threading.Thread(target=watch, args=(c, arrived, stop, lambda m: m.key().decode()))
        t.start()
        sent = {}
        for i in range(args.events):
            ce = cloudevent(interaction(f"lat-c{i % 50}", text="My order still has not arrived, "
                                        "can you check please?"))
            sent[ce["data"]["interaction_id"]] = time.perf_counter()
            assert post(ingest, ce).status_code == 202
            time.sleep(0.05)
        deadline = time.time() + 30
        while len(arrived) < len(sent) and time.time() < deadline:
            time.sleep(0.1)
        stop.set()
        t.join()
        c.close()
    finally:
        for s in services:
            s.stop()
        stack.stop()
    e2e = [(arrived[k] - s) * 1000 for k, s in sent.items() if k in arrived]
    print(f"events: {args.events} (one at a time, 50 ms apart), got {len(e2e)} decisions")
    print(f"{'path':<34}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name, xs in (("one Kafka hop (reference)", hop),
                     ("4 hops, reference x 4", [x * 4 for x in hop]),
                     ("POST -> routing decision", e2e)):
        print(f"{name:<34}{pct(xs, 50):>9.1f}{pct(xs, 95):>9.1f}{pct(xs, 99):>9.1f}")
    print(f"ratio p50 decision / (4 x hop): {statistics.median(e2e) / (4 * statistics.median(hop)):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
