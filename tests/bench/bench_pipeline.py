#!/usr/bin/env python3
"""Throughput of attune-ingest and attune-enrich against a real broker and
Redis, each printed next to the Kafka-bound limit of the same topology,
measured in the same run with kcat:

  ingest:  HTTP batches -> attune-ingest -> topic     vs  kcat -P of the same records
  enrich:  topic -> attune-enrich (+ Redis) -> topic  vs  kcat -C | kcat -P pass-through

Usage: .venv/bin/python tests/bench/bench_pipeline.py [--events N] [--batch B] [--threads T]
Starts its own stack in a temporary directory unless ATTUNE_KAFKA_BOOTSTRAP
and ATTUNE_REDIS_URL are set. Prints a table; no assertion on time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import requests  # noqa: E402
from confluent_kafka import Consumer  # noqa: E402

from conftest import API_KEY, Service, admin, cloudevent, interaction  # noqa: E402
from stack import Stack  # noqa: E402


def make_events(n: int, customers: int) -> list[dict]:
    texts = ["My order still hasn't arrived and I need it asap",
             "Thanks, that fixed it!", "How do I change my billing address?",
             "I want to cancel my subscription"]
    return [cloudevent(interaction(f"bench-c{i % customers}", text=texts[i % len(texts)],
                                   wait_seconds=i % 300)) for i in range(n)]


def count_topic(bootstrap: str, topic: str, want: int,
                timeout: float) -> tuple[int, float, float]:
    """Consumes topic from the start until want records; returns (count,
    first and last record timestamps in seconds). The timestamps are the
    producer's (CreateTime), so they say when the stage wrote each record,
    whenever this reader gets to see it."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    n, first, last, deadline = 0, 0.0, 0.0, time.time() + timeout
    while n < want and time.time() < deadline:
        msgs = c.consume(num_messages=10000, timeout=0.1)
        for m in msgs:
            if not m.error():
                n += 1
                t = m.timestamp()[1] / 1000.0
                first = min(first, t) if first else t
                last = max(last, t)
    c.close()
    return n, first, last


def kcat(args: list[str], data: bytes | None = None) -> None:
    subprocess.run(["kcat", *args], input=data, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600)


def bench_ingest(svc: Service, events: list[dict], batch: int, threads: int) -> float:
    chunks = [events[i:i + batch] for i in range(0, len(events), batch)]
    lock = threading.Lock()
    errors = []

    def worker():
        s = requests.Session()
        while True:
            with lock:
                if not chunks:
                    return
                chunk = chunks.pop()
            r = s.post(svc.url + "/v1/events", data=json.dumps(chunk),
                       headers={"Authorization": f"Bearer {API_KEY}",
                                "Content-Type": "application/cloudevents-batch+json"},
                       timeout=60)
            if r.status_code != 202:
                errors.append(r.text)

    t0 = time.time()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.time() - t0
    if errors:
        raise SystemExit(f"ingest errors: {errors[:3]}")
    return len(events) / elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--customers", type=int, default=1000)
    args = ap.parse_args()

    stack = Stack()
    tmp = tempfile.mkdtemp(prefix="attune-bench-")
    stack.start(Path(tmp) / "stack")
    try:
        return run(stack, Path(tmp), args)
    finally:
        stack.stop()


def run(stack: Stack, tmp: Path, args) -> int:
    logs = tmp / "logs"
    logs.mkdir()
    run_id = uuid.uuid4().hex[:8]
    topic_in, topic_out = f"bench.{run_id}.in", f"bench.{run_id}.out"
    ref_raw, ref_out = f"bench.{run_id}.ref.raw", f"bench.{run_id}.ref.out"
    env = {"ATTUNE_KAFKA_BOOTSTRAP": stack.bootstrap, "ATTUNE_REDIS_URL": stack.redis_url,
           "ATTUNE_API_KEYS": API_KEY, "ATTUNE_LOG_LEVEL": "warn",
           "ATTUNE_TOPIC_INTERACTIONS": topic_in, "ATTUNE_TOPIC_ENRICHED": topic_out,
           "ATTUNE_GROUP_ID": f"bench-{run_id}"}
    res = admin(dict(env, ATTUNE_TOPIC_CLASSIFIED=ref_raw, ATTUNE_TOPIC_ROUTING=ref_out),
                "create-topics")
    if res.returncode:
        raise SystemExit(res.stderr)
    events = make_events(args.events, args.customers)
    n = len(events)
    # Reference 1: produce the same records with kcat (keyed, acks=all).
    lines = "\n".join(f"{e['data']['customer_id']}\t{json.dumps(e)}" for e in events)
    t0 = time.time()
    kcat(["-b", stack.bootstrap, "-P", "-t", ref_raw, "-K", "\t", "-X", "acks=all",
          "-X", "enable.idempotence=true", "-X", "linger.ms=5"], lines.encode())
    kcat_produce = n / (time.time() - t0)

    ingest = Service("ingest", env, logs).start()
    ingest_rate = bench_ingest(ingest, events, args.batch, args.threads)
    ingest.stop()

    # Reference 2: kcat pass-through topic -> topic (consume + produce).
    t0 = time.time()
    consume = subprocess.Popen(["kcat", "-b", stack.bootstrap, "-C", "-t", ref_raw, "-e",
                                "-q", "-K", "\t", "-f", "%k\t%s\n"], stdout=subprocess.PIPE)
    kcat(["-b", stack.bootstrap, "-P", "-t", ref_out, "-K", "\t", "-X", "acks=all",
          "-X", "linger.ms=5"], consume.communicate()[0])
    passthrough = n / (time.time() - t0)

    # Enrich: a fresh group over the n records already in topic_in.
    t0 = time.time()
    enrich = Service("enrich", env, logs).start()
    got, first, last = count_topic(stack.bootstrap, topic_out, n, timeout=600)
    enrich_rate = (got - 1) / (last - first)
    enrich_whole = got / (last - t0)
    metrics = requests.get(enrich.url + "/metrics", timeout=5).text
    enrich.stop()
    if got < n:
        raise SystemExit(f"enrich produced {got} of {n}")

    batches = [l for l in metrics.splitlines() if l.startswith("attune_batch_duration_seconds_count")]
    print(f"events: {n}, batch: {args.batch}, client threads: {args.threads}, "
          f"customers: {args.customers}, cores: {os.cpu_count()}")
    print(f"{'stage':<10}{'attune ev/s':>14}{'kcat ev/s':>14}{'ratio':>8}")
    print(f"{'ingest':<10}{ingest_rate:>14.0f}{kcat_produce:>14.0f}{ingest_rate / kcat_produce:>8.2f}")
    print(f"{'enrich':<10}{enrich_rate:>14.0f}{passthrough:>14.0f}{enrich_rate / passthrough:>8.2f}"
          "   (first to last output record)")
    print(f"{'enrich*':<10}{enrich_whole:>14.0f}{passthrough:>14.0f}{enrich_whole / passthrough:>8.2f}"
          "   (*including process start and consumer-group join, like the kcat pipe)")
    print(f"enrich batches: {batches[0].split()[-1] if batches else '?'} "
          f"(one Redis round trip each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
