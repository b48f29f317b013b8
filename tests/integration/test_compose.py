"""docker-compose.yml and deploy/Dockerfile checked without a Docker engine:
structure, healthchecks, that every ATTUNE_* setting is one the binaries
know, topic names, ports, and that the runtime packages exist in Debian."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import BIN, TOPICS
from stack import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
CONFIG_C = REPO_ROOT / "common" / "config.c"
DEPS_SH = REPO_ROOT / "deploy" / "local" / "deps.sh"

ONE_SHOT = {"topics"}
_INTERP = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?]([^}]*))?\}")


def interpolate(value) -> str:
    """Compose's ${VAR:-default} with the defaults (the variables unset)."""
    return _INTERP.sub(lambda m: m.group(2) or "", str(value))


@pytest.fixture(scope="module")
def compose() -> dict:
    doc = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(doc, dict) and doc.get("services"), "no services in docker-compose.yml"
    return doc


def env_of(svc: dict) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: interpolate(v) for k, v in env.items()}


def command_of(svc: dict) -> list[str]:
    cmd = svc.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(c) for c in cmd]


def attune_services(compose: dict) -> dict[str, dict]:
    """Services running one of our binaries (built from deploy/Dockerfile)."""
    return {name: svc for name, svc in compose["services"].items()
            if command_of(svc) and command_of(svc)[0].startswith("attune-")}


def known_settings(binary: str) -> set[str]:
    out = subprocess.run([str(BIN / binary), "--help"], capture_output=True, text=True,
                         timeout=30, env={"PATH": os.environ.get("PATH", "")})
    assert out.returncode == 0, out.stderr
    names = set(re.findall(r"^\s+(ATTUNE_[A-Z0-9_]+)\s", out.stdout, re.M))
    assert "ATTUNE_KAFKA_BOOTSTRAP" in names, out.stdout
    return names


def config_c_defaults() -> dict[str, str]:
    """The string defaults of the table in common/config.c."""
    text = CONFIG_C.read_text()
    return dict(re.findall(r'\{"(ATTUNE_[A-Z0-9_]+)",\s*CFG_\w+,\s*offsetof\([^)]*\),\s*'
                           r'"([^"]*)"', text))


def http_port(svc: dict) -> int | None:
    addr = env_of(svc).get("ATTUNE_HTTP_ADDR")
    return int(addr.rsplit(":", 1)[1]) if addr else None


def test_every_service_has_an_image_and_a_restart_policy(compose):
    for name, svc in compose["services"].items():
        assert svc.get("image") or svc.get("build"), f"{name}: neither image nor build"
        assert "restart" in svc, f"{name}: no restart policy"
    for name, svc in attune_services(compose).items():
        build = svc.get("build")
        assert build, f"{name}: attune services are built from deploy/Dockerfile"
        assert build.get("dockerfile") == "deploy/Dockerfile", name
        assert (REPO_ROOT / build.get("context", ".") / build["dockerfile"]).is_file()
        assert (BIN / command_of(svc)[0]).is_file(), f"{name}: no such binary in build/bin"
    images = {svc["image"] for svc in attune_services(compose).values()}
    assert len(images) == 1, f"one image for every binary, not {images}"
    assert compose["services"]["kafka"]["image"] == "apache/kafka:3.9.1"
    assert compose["services"]["redis"]["image"].startswith("redis:7")


def test_healthchecks_and_dependencies(compose):
    services = compose["services"]
    for name, svc in services.items():
        if name in ONE_SHOT:
            continue
        hc = svc.get("healthcheck")
        assert hc and hc.get("test"), f"{name}: no healthcheck"
    kafka_hc = " ".join(services["kafka"]["healthcheck"]["test"])
    assert "kafka-broker-api-versions.sh" in kafka_hc or "kafka-topics.sh" in kafka_hc
    for name, svc in attune_services(compose).items():
        deps = svc.get("depends_on") or {}
        assert isinstance(deps, dict), f"{name}: depends_on needs conditions"
        assert deps.get("kafka", {}).get("condition") == "service_healthy", name
        if name in ONE_SHOT:
            assert svc["restart"] == "no"
            continue
        assert deps.get("topics", {}).get("condition") == "service_completed_successfully", name
        # The services that read or write customer context need Redis up.
        if name in ("enrich", "decide", "learn"):
            assert deps.get("redis", {}).get("condition") == "service_healthy", name
        # The healthcheck asks the service's own /healthz on its own port.
        test = " ".join(svc["healthcheck"]["test"])
        assert "curl" in test and f":{http_port(svc)}/healthz" in test, (name, test)
    for name, dep in (services["topics"].get("depends_on") or {}).items():
        assert dep.get("condition") == "service_healthy", name


def test_every_attune_setting_is_known_to_its_binary(compose):
    for name, svc in attune_services(compose).items():
        binary = command_of(svc)[0]
        known = known_settings(binary)
        env = env_of(svc)
        for var in env:
            if not var.startswith("ATTUNE_"):
                continue
            if var in known:
                continue
            # ATTUNE_KAFKA_<PROPERTY> is librdkafka's, passed through.
            assert var.startswith("ATTUNE_KAFKA_"), f"{name}: {binary} does not know {var}"
        assert env.get("ATTUNE_KAFKA_BOOTSTRAP") == "kafka:9092", name
        if binary != "attune-admin":
            assert env.get("ATTUNE_HTTP_ADDR", "").startswith("0.0.0.0:"), name
    ingest_env = env_of(compose["services"]["ingest"])
    keys = [k for k in ingest_env.get("ATTUNE_API_KEYS", "").split(",") if k.strip()]
    assert keys and all(len(k.strip()) >= 16 for k in keys), "ingest needs a key placeholder"
    assert "${ATTUNE_API_KEYS" in str(compose["services"]["ingest"]["environment"]
                                      ["ATTUNE_API_KEYS"]), "the key must come from the env"
    assert env_of(compose["services"]["enrich"]).get("ATTUNE_REDIS_URL") == \
        "redis://redis:6379/0"


def test_topics_created_are_the_defaults_everyone_uses(compose):
    topics = compose["services"]["topics"]
    assert command_of(topics) == ["attune-admin", "create-topics"]
    env = env_of(topics)
    assert int(env["ATTUNE_TOPIC_PARTITIONS"]) >= 1, "partition count must be explicit"
    defaults = config_c_defaults()
    config_topics = {v for k, v in defaults.items()
                     if k.startswith("ATTUNE_TOPIC_") and k != "ATTUNE_TOPIC_PARTITIONS"}
    assert config_topics == set(TOPICS.values())
    stack_sh = (REPO_ROOT / "deploy" / "local" / "stack.sh").read_text()
    assert set(re.findall(r'"(attune\.[a-z.]+v\d+):', stack_sh)) == config_topics
    # Nobody renames a topic for one service only: the names attune-admin
    # creates are the ones every service reads and writes.
    seen: dict[str, str] = {}
    for name, svc in attune_services(compose).items():
        for var, value in env_of(svc).items():
            if var.startswith("ATTUNE_TOPIC_") and var != "ATTUNE_TOPIC_PARTITIONS":
                assert seen.setdefault(var, value) == value, f"{name}: {var} differs"
    for var, value in seen.items():
        assert env.get(var) == value, f"topics does not create {var}={value}"


def test_ports_do_not_clash(compose):
    published = []
    for name, svc in compose["services"].items():
        for spec in svc.get("ports") or []:
            parts = interpolate(spec).split(":")
            assert len(parts) in (2, 3), (name, spec)
            host, container = parts[-2], parts[-1]
            published.append(host)
            if name in attune_services(compose):
                assert int(container) == http_port(svc), (name, spec)
    assert len(published) == len(set(published)), published
    assert "8080" in published, "ingest's API must be published"
    http = [http_port(s) for s in attune_services(compose).values() if http_port(s)]
    assert len(http) == len(set(http)), http


def _dockerfile_stages() -> list[str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return re.split(r"^FROM\s", text, flags=re.M)[1:]


def _apt_packages(stage: str) -> list[str]:
    pkgs = []
    for m in re.finditer(r"apt-get install ([^&]*)", stage):
        pkgs += [w for w in m.group(1).split() if not w.startswith("-")]
    return pkgs


def test_dockerfile_shape():
    stages = _dockerfile_stages()
    assert len(stages) >= 2, "multi-stage"
    assert all(s.startswith("debian:bookworm-slim") for s in stages)
    build, runtime = stages[0], stages[-1]
    deps = re.search(r"PACKAGES=\((.*?)\)", DEPS_SH.read_text(), re.S).group(1).split()
    dev = {p for p in deps if p.endswith("-dev")} - {"libclang-rt-14-dev"}
    assert dev <= set(_apt_packages(build)), dev - set(_apt_packages(build))
    assert "make" in build and "all" in build
    assert not any(p.endswith("-dev") for p in _apt_packages(runtime))
    assert re.search(r"^USER\s+(?!root|0\b)\S+", runtime, re.M), "runs as root"
    assert "/usr/local/bin" in runtime and "/usr/share/attune/data" in runtime
    assert not re.search(r"ATTUNE_API_KEYS|PASSWORD|SECRET", DOCKERFILE.read_text())
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    for d in ("build/", ".stack/", ".venv/", ".cache/"):
        assert d in ignored, d


def test_runtime_packages_exist_in_debian():
    if not shutil.which("apt-cache"):
        pytest.skip("apt-cache not available")
    runtime = _dockerfile_stages()[-1]
    pkgs = _apt_packages(runtime)
    assert {"librdkafka1", "libcjson1", "libhiredis0.14", "libmicrohttpd12", "libcurl4",
            "libutf8proc2", "liblinear4", "ca-certificates", "curl"} <= set(pkgs)
    out = subprocess.run(["apt-cache", "policy", *pkgs], capture_output=True, text=True,
                         timeout=60).stdout
    known = set(re.findall(r"^(\S+):$", out, re.M))
    missing = set(pkgs) - known
    assert not missing, f"apt-cache does not know {sorted(missing)}"


def test_compose_config_validates_when_a_compose_tool_is_installed():
    for cmd in (["docker-compose"], ["docker", "compose"]):
        if not shutil.which(cmd[0]):
            continue
        probe = subprocess.run([*cmd, "version"], capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            continue
        res = subprocess.run([*cmd, "-f", str(COMPOSE), "config", "-q"], capture_output=True,
                             text=True, timeout=60, cwd=str(REPO_ROOT))
        assert res.returncode == 0, res.stderr
        return
    pytest.skip("neither docker-compose nor docker compose is installed")
