"""The local Kafka + Redis stack for integration tests.

A thin wrapper around ``deploy/local/stack.sh``: ``Stack().start(dir)`` runs
``stack.sh up`` with ``ATTUNE_STACK_DIR=dir`` and reads the two export lines it
prints. When ``ATTUNE_KAFKA_BOOTSTRAP`` and ``ATTUNE_REDIS_URL`` are both set in
the environment, stack.sh starts nothing and hands those back, so the tests
run against that existing cluster (``Stack.external`` is then True, and the
Redis outage helpers are not available).

Typical use from a session fixture::

    stack = Stack()
    stack.start(tmp_path_factory.mktemp("stack"))
    try:
        yield stack          # stack.bootstrap, stack.redis_url, stack.env
    finally:
        stack.stop()
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_SH = REPO_ROOT / "deploy" / "local" / "stack.sh"

# The first `up` on a machine downloads the Kafka jars with Maven.
UP_TIMEOUT = float(os.environ.get("ATTUNE_STACK_UP_TIMEOUT", "900"))
CMD_TIMEOUT = 120.0

_EXPORT = re.compile(r"^export ([A-Z_][A-Z0-9_]*)=(.*)$")


class StackError(RuntimeError):
    """stack.sh failed; the message carries its output."""


def parse_exports(text: str) -> dict[str, str]:
    """The NAME=value pairs of the ``export NAME=value`` lines in text."""
    env: dict[str, str] = {}
    for line in text.splitlines():
        m = _EXPORT.match(line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    return env


class Stack:
    """One local stack (Kafka broker + Redis server) in one state directory."""

    def __init__(self) -> None:
        self.state_dir: Path | None = None
        self.env: dict[str, str] = {}
        self.bootstrap: str = ""
        self.redis_url: str = ""
        self.redis_host: str = ""
        self.redis_port: int = 0
        self.kafka_port: int = 0
        self.external = False

    # -- running stack.sh ----------------------------------------------------

    def _run(self, command: str, timeout: float = CMD_TIMEOUT) -> str:
        if self.state_dir is None:
            raise StackError(f"stack.sh {command}: the stack was not started")
        env = dict(os.environ)
        env["ATTUNE_STACK_DIR"] = str(self.state_dir)
        try:
            proc = subprocess.run(
                ["bash", str(STACK_SH), command],
                cwd=str(REPO_ROOT),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise StackError(
                f"stack.sh {command} did not finish in {timeout:.0f}s\n"
                f"{_text(exc.stderr)}"
            ) from exc
        if proc.returncode != 0:
            raise StackError(
                f"stack.sh {command} exited with {proc.returncode}\n"
                f"--- stderr ---\n{proc.stderr}--- stdout ---\n{proc.stdout}"
            )
        return proc.stdout

    # -- public API ----------------------------------------------------------

    def start(self, state_dir: str | os.PathLike[str]) -> "Stack":
        """Start (or reuse) the stack whose state lives in state_dir."""
        self.state_dir = Path(state_dir).resolve()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.external = bool(
            os.environ.get("ATTUNE_KAFKA_BOOTSTRAP")
            and os.environ.get("ATTUNE_REDIS_URL")
        )
        out = self._run("up", timeout=UP_TIMEOUT)
        env = parse_exports(out)
        missing = {"ATTUNE_KAFKA_BOOTSTRAP", "ATTUNE_REDIS_URL"} - env.keys()
        if missing:
            raise StackError(
                f"stack.sh up printed no {', '.join(sorted(missing))}:\n{out}"
            )
        self.env = env
        self.bootstrap = env["ATTUNE_KAFKA_BOOTSTRAP"]
        self.redis_url = env["ATTUNE_REDIS_URL"]
        url = urlsplit(self.redis_url)
        self.redis_host = url.hostname or "127.0.0.1"
        self.redis_port = url.port or 6379
        first = self.bootstrap.split(",")[0]
        try:
            self.kafka_port = int(first.rsplit(":", 1)[1])
        except (IndexError, ValueError):
            self.kafka_port = 9092
        return self

    def stop(self) -> None:
        """Stop what start() started (nothing for an external cluster)."""
        if self.state_dir is None or self.external:
            return
        self._run("down")

    def status(self) -> str:
        """stack.sh status output (raises if Kafka or Redis is not running)."""
        return self._run("status")

    def _own_stack(self, what: str) -> None:
        if self.external:
            raise StackError(
                f"{what}: the stack belongs to an external cluster "
                "(ATTUNE_KAFKA_BOOTSTRAP/ATTUNE_REDIS_URL are set)"
            )

    def stop_redis(self) -> None:
        """Stop Redis (simulates an outage); its port stays reserved."""
        self._own_stack("stop_redis")
        self._run("stop-redis")

    def start_redis(self) -> None:
        """Start Redis again on the same port; returns once it answers PING."""
        self._own_stack("start_redis")
        self._run("start-redis")

    def kill_kafka(self) -> None:
        """Kill the broker at once (SIGKILL, a crash); its data and port stay."""
        self._own_stack("kill_kafka")
        self._run("kill-kafka")

    def start_kafka(self) -> None:
        """Start the broker again on the same port; returns once it answers."""
        self._own_stack("start_kafka")
        self._run("start-kafka")

    @property
    def can_control_redis(self) -> bool:
        """True when stop_redis()/start_redis() are available."""
        return not self.external

    def process_env(self, **extra: str) -> dict[str, str]:
        """os.environ plus the stack's variables (and extra), for subprocesses."""
        env = dict(os.environ)
        env.update(self.env)
        env.update(extra)
        return env

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data
