"""Integration test harness: one real Kafka broker and one real Redis server
per pytest session (deploy/local/stack.sh, on loopback, free ports), and the
attune services started as real processes from build/bin/."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
from confluent_kafka import Consumer, TopicPartition

from stack import REPO_ROOT, Stack

BIN = REPO_ROOT / "build" / "bin"
API_KEY = "test-key-0123456789abcdef"

TOPICS = {
    "interactions": "attune.interactions.v1",
    "enriched": "attune.interactions.enriched.v1",
    "classified": "attune.interactions.classified.v1",
    "routing": "attune.decisions.routing.v1",
    "crm": "attune.decisions.crm.v1",
    "outcomes": "attune.outcomes.v1",
    "deadletter": "attune.deadletter.v1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """One attune binary running as a child process with its own HTTP port."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path):
        self.name = name
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update(env)
        self.env["ATTUNE_HTTP_ADDR"] = f"127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "Service":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(BIN / f"attune-{self.name}")],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"attune-{self.name} exited: {self.log_tail()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"attune-{self.name} did not answer /healthz: {self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


class Records:
    """Reads a topic from the beginning with a fresh consumer group."""

    def __init__(self, bootstrap: str, topic: str):
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"test-{uuid.uuid4()}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        self.consumer.subscribe([topic])
        self.topic = topic

    def collect(self, predicate, want: int, timeout: float = 60):
        """Messages for which predicate(msg) is true, until want of them or timeout."""
        got = []
        deadline = time.time() + timeout
        while len(got) < want and time.time() < deadline:
            msg = self.consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            if predicate(msg):
                got.append(msg)
        return got

    def close(self):
        self.consumer.close()


def metric(svc, name, labels=None):
    """The value of one sample of svc's /metrics, 0 when absent."""
    text = requests.get(svc.url + "/metrics", timeout=5).text
    sample = name if labels is None else f"{name}{{{labels}}}"
    m = re.search(r"^" + re.escape(sample) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def event_value(msg) -> dict:
    return json.loads(msg.value())


def for_customers(customers):
    wanted = {c.encode() for c in customers}
    return lambda m: m.key() in wanted


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    s = Stack()
    s.start(tmp_path_factory.mktemp("stack"))
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def base_env(stack) -> dict[str, str]:
    return {
        "ATTUNE_KAFKA_BOOTSTRAP": stack.bootstrap,
        "ATTUNE_REDIS_URL": stack.redis_url,
        "ATTUNE_API_KEYS": API_KEY,
        "ATTUNE_LOG_LEVEL": "info",
        "ATTUNE_REDIS_TIMEOUT_MS": "300",
    }


@pytest.fixture(scope="session")
def ingest(base_env, log_dir):
    svc = Service("ingest", base_env, log_dir).start()
    yield svc
    assert svc.stop() == 0, svc.log_tail()


@pytest.fixture(scope="session")
def enrich(base_env, log_dir):
    svc = Service("enrich", base_env, log_dir).start()
    yield svc
    svc.stop()


@pytest.fixture
def enriched(stack):
    r = Records(stack.bootstrap, TOPICS["enriched"])
    yield r
    r.close()


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def interaction(customer: str, **fields) -> dict:
    data = {
        "interaction_id": fields.pop("interaction_id", new_id("int")),
        "customer_id": customer,
        "channel": "chat",
        "kind": "message",
        "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    data.update(fields)
    return data


def cloudevent(data: dict, **attrs) -> dict:
    ce = {
        "specversion": "1.0",
        "id": attrs.pop("id", str(uuid.uuid4())),
        "source": "/tests/integration",
        "type": "attune.interaction.v1",
        "datacontenttype": "application/json",
        "data": data,
    }
    ce.update(attrs)
    return ce


def post(ingest_svc: Service, body, content_type="application/cloudevents+json", key=API_KEY,
         raw: bytes | None = None, headers=None, path="/v1/events"):
    h = {"Content-Type": content_type}
    if key is not None:
        h["Authorization"] = f"Bearer {key}"
    if headers:
        h.update(headers)
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(ingest_svc.url + path, data=data, headers=h, timeout=30)


def admin(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full.update(env)
    return subprocess.run([str(BIN / "attune-admin"), *args], env=full, input=stdin, text=True,
                          capture_output=True, timeout=60)
