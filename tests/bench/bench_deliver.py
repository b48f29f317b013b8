#!/usr/bin/env python3
"""Throughput of attune-deliver against a local HTTP endpoint, printed next
to curl posting the same bodies to the same endpoint with the same number of
parallel keep-alive connections, measured in the same run:

  deliver:  topic -> attune-deliver (ATTUNE_DELIVER_CONCURRENCY workers) -> HTTP
  curl:     curl --parallel --parallel-max C, one POST per decision

The endpoint is a minimal asyncio HTTP/1.1 server in its own process that
answers 200 to every POST and records when requests arrive. The ratio says
how much of the HTTP path deliver keeps while reading Kafka, keeping per-key
order and tracking every decision's outcome.

Usage: .venv/bin/python tests/bench/bench_deliver.py [--decisions N] [--concurrency C]
Starts its own stack in a temporary directory. Prints a table; no assertion
on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from conftest import Service  # noqa: E402
from stack import Stack  # noqa: E402


def serve(port: int, count, first, last, ready) -> None:
    """The endpoint: keep-alive HTTP/1.1, 200 with an empty body."""

    async def handle(reader, writer):
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                now = time.time()
                with count.get_lock():
                    if count.value == 0:
                        first.value = now
                    count.value += 1
                    last.value = now
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class Endpoint:
    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.count = mp.Value("q", 0)
        self.first = mp.Value("d", 0.0)
        self.last = mp.Value("d", 0.0)
        ready = mp.Event()
        self.proc = mp.Process(target=serve, args=(self.port, self.count, self.first, self.last,
                                                   ready), daemon=True)
        self.proc.start()
        ready.wait(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/decisions"

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value = 0
            self.first.value = self.last.value = 0.0

    def wait(self, want: int, timeout: float) -> int:
        deadline = time.time() + timeout
        while self.count.value < want and time.time() < deadline:
            time.sleep(0.05)
        return self.count.value

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(5)


def decision(i: int, customers: int) -> dict:
    customer = f"bench-c{i % customers}"
    return {"specversion": "1.0", "id": f"evt-{i}", "source": "/attune/bench",
            "type": "attune.decision.crm.v1", "time": "2026-11-23T10:00:00Z",
            "datacontenttype": "application/json",
            "data": {"decision_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-{i}")),
                     "customer_id": customer, "interaction_id": f"int-{i}",
                     "summary": {"channel": "chat", "intent": "billing",
                                 "treatment": {"queue": "general", "pace": "standard"}}}}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--decisions", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--customers", type=int, default=2000)
    args = ap.parse_args()
    stack = Stack()
    tmp = Path(tempfile.mkdtemp(prefix="attune-bench-deliver-"))
    stack.start(tmp / "stack")
    endpoint = Endpoint()
    try:
        return run(stack, endpoint, tmp, args)
    finally:
        endpoint.stop()
        stack.stop()


def run(stack: Stack, endpoint: Endpoint, tmp: Path, args) -> int:
    n, c = args.decisions, args.concurrency
    events = [decision(i, args.customers) for i in range(n)]
    bodies = [json.dumps(e).encode() for e in events]

    # Reference: curl, one decision's body per request (they are all the same
    # size), C parallel keep-alive connections.
    body = tmp / "body.json"
    body.write_bytes(bodies[0])
    cfg = tmp / "curl.cfg"
    cfg.write_text(f'url = "{endpoint.url}"\n' * n)
    endpoint.reset()
    t0 = time.time()
    subprocess.run(["curl", "-sS", "--no-progress-meter", "--parallel", "--parallel-max", str(c),
                    "--parallel-immediate", "-H", "Content-Type: application/cloudevents+json",
                    "--data-binary", f"@{body}", "--config", str(cfg)],
                   check=True, timeout=600, stdout=subprocess.DEVNULL)
    curl_rate = n / (time.time() - t0)
    if endpoint.count.value != n:
        raise SystemExit(f"curl delivered {endpoint.count.value} of {n}")

    # attune-deliver over the same decisions in a topic.
    topic = f"bench.deliver.{uuid.uuid4().hex[:8]}"
    # Keep the client alive until the future resolves: a collected client
    # cancels it.
    admin = AdminClient({"bootstrap.servers": stack.bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])[topic].result(30)
    p = Producer({"bootstrap.servers": stack.bootstrap, "linger.ms": 5})
    for e, body in zip(events, bodies):
        p.produce(topic, body, key=e["data"]["customer_id"].encode())
    p.flush(60)
    endpoint.reset()
    env = {"ATTUNE_KAFKA_BOOTSTRAP": stack.bootstrap, "ATTUNE_REDIS_URL": stack.redis_url,
           "ATTUNE_LOG_LEVEL": "warn", "ATTUNE_DELIVER_TOPIC": topic,
           "ATTUNE_DELIVER_URL": endpoint.url, "ATTUNE_DELIVER_CONCURRENCY": str(c),
           "ATTUNE_DELIVER_HMAC_KEY": "bench-hmac-key", "ATTUNE_DELIVER_TOKEN": "bench-token"}
    logs = tmp / "logs"
    logs.mkdir()
    t0 = time.time()
    svc = Service("deliver", env, logs).start()
    got = endpoint.wait(n, timeout=600)
    whole = got / (time.time() - t0)
    rate = (got - 1) / (endpoint.last.value - endpoint.first.value)
    svc.stop()
    if got < n:
        raise SystemExit(f"attune-deliver delivered {got} of {n}")
    print(f"decisions: {n}, keys: {args.customers}, partitions: 6, connections: {c}, "
          f"cores: {os.cpu_count()}")
    print(f"{'path':<10}{'req/s':>10}{'curl req/s':>12}{'ratio':>8}")
    print(f"{'deliver':<10}{rate:>10.0f}{curl_rate:>12.0f}{rate / curl_rate:>8.2f}"
          "   (first to last request at the endpoint; signed, with bearer token)")
    print(f"{'deliver*':<10}{whole:>10.0f}{curl_rate:>12.0f}{whole / curl_rate:>8.2f}"
          "   (*including process start and consumer-group join)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
