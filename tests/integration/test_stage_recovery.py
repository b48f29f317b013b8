"""A broker crash longer than transaction.timeout.ms, under load: the broker
aborts the transaction a stage had open and fences its producer when it
comes back. The stage builds a new producer in its own process and goes on;
every record comes out once for read_committed readers. (The file sorts
last: the broker it restarts is the session's.)"""

import json
import time

import pytest
import requests
from confluent_kafka import Producer

from conftest import TOPICS, Records, Service, cloudevent, interaction, new_id

EVENTS = 10000


@pytest.fixture
def enrich_alone(base_env, log_dir):
    svc = Service("enrich", dict(base_env, ATTUNE_BATCH_SIZE="20"), log_dir).start()
    deadline = time.time() + 60  # transactions initialised, the group joined
    while time.time() < deadline and requests.get(svc.url + "/readyz", timeout=2).status_code != 200:
        time.sleep(0.2)
    yield svc
    svc.stop()


def test_stage_survives_a_broker_crash_under_load(stack, enrich_alone):
    if not stack.can_control_redis:
        pytest.skip("the stack belongs to an external cluster")
    customer = new_id("crash")
    ids = set()
    p = Producer({"bootstrap.servers": stack.bootstrap, "linger.ms": 20})
    for _ in range(EVENTS):
        ce = cloudevent(interaction(customer, text="where is my parcel"))
        ids.add(ce["id"])
        p.produce(TOPICS["interactions"], key=customer, value=json.dumps(ce))
        p.poll(0)
    assert p.flush(30) == 0
    # a backlog is in flight: kill the broker once the stage works through it
    out = Records(stack.bootstrap, TOPICS["enriched"])  # read_committed (librdkafka's default)
    seen = {}
    for m in out.collect(lambda m: m.key() == customer.encode(), 1, timeout=60):
        seen[json.loads(m.value())["id"]] = 1
    assert seen, "the stage never started: " + enrich_alone.log_tail()
    stack.kill_kafka()
    time.sleep(15)  # past transaction.timeout.ms (10 s)
    stack.start_kafka()

    deadline = time.time() + 120
    while time.time() < deadline and len(seen) < EVENTS:
        assert enrich_alone.proc.poll() is None, enrich_alone.log_tail()
        for m in out.collect(lambda m: m.key() == customer.encode(), EVENTS, timeout=2):
            i = json.loads(m.value())["id"]
            seen[i] = seen.get(i, 0) + 1
    # a little longer: a duplicate would come after the last first copy
    for m in out.collect(lambda m: m.key() == customer.encode(), EVENTS, timeout=3):
        i = json.loads(m.value())["id"]
        seen[i] = seen.get(i, 0) + 1
    out.close()
    assert set(seen) == ids, f"{len(ids - set(seen))} missing: {enrich_alone.log_tail()}"
    assert max(seen.values()) == 1, "a record came out twice for a read_committed reader"
    assert enrich_alone.proc.poll() is None, enrich_alone.log_tail()
    log = enrich_alone.log_path.read_text(errors="replace")
    # the case this test is for happened: the producer was fenced and rebuilt
    assert "building a new producer" in log and "new producer ready" in log, \
        enrich_alone.log_tail(60)
