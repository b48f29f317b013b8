"""attune-ingest -> Kafka -> attune-enrich -> Kafka with a real Redis:
context, counters, order, dead letters, Redis outage, crash recovery."""

import json
import subprocess
import threading
import time
from collections import defaultdict

import pytest
import redis

from conftest import (TOPICS, Records, Service, admin, cloudevent, event_value, for_customers,
                      interaction, metric, new_id, post)


def load_profile(base_env, customer, profile, preferences=None):
    line = {"customer_id": customer, "profile": profile}
    if preferences is not None:
        line["preferences"] = preferences
    res = admin(base_env, "load-profiles", "-", stdin=json.dumps(line) + "\n")
    assert res.returncode == 0, res.stderr


def test_events_arrive_enriched_with_context_and_counters(base_env, ingest, enrich, enriched):
    known, unknown = new_id("cust"), new_id("cust")
    load_profile(base_env, known,
                 {"tier": "gold", "value": 1200, "segment": "business", "payer": "employer",
                  "marketing_consent": True, "vulnerable": False, "language": "en"},
                 {"channel": "email", "contact_time": "after 17:00"})
    ids = []
    for i in range(3):
        ce = cloudevent(interaction(known, text=f"message {i}", wait_seconds=30 * i))
        ids.append(ce["id"])
        assert post(ingest, ce).status_code == 202
    # A follow-up event of the same interaction must not count as a new contact.
    same_interaction = new_id("int")
    ce = cloudevent(interaction(known, interaction_id=same_interaction))
    assert post(ingest, ce).status_code == 202
    ce2 = cloudevent(interaction(known, interaction_id=same_interaction, kind="ended"))
    assert post(ingest, ce2).status_code == 202
    assert post(ingest, cloudevent(interaction(unknown))).status_code == 202

    got = enriched.collect(for_customers([known, unknown]), 6)
    assert len(got) == 6
    by_id = {event_value(m)["id"]: event_value(m) for m in got}
    first = by_id[ids[0]]
    assert first["type"] == "attune.interaction.enriched.v1"
    assert first["data"]["text"] == "message 0"
    ctx = first["data"]["context"]
    assert ctx["status"] == "ok"
    assert ctx["profile"]["tier"] == "gold"
    assert ctx["profile"]["value"] == 1200
    assert ctx["profile"]["marketing_consent"] is True
    assert ctx["profile"]["payer"] == "employer"
    assert ctx["preferences"]["channel"] == "email"
    assert [by_id[i]["data"]["context"]["contacts_24h"] for i in ids] == [1, 2, 3]
    assert by_id[ids[2]]["data"]["context"]["contacts_7d"] == 3
    assert by_id[ce2["id"]]["data"]["context"]["contacts_24h"] == 4
    other = [v for v in by_id.values() if v["data"]["customer_id"] == unknown][0]
    assert other["data"]["context"]["status"] == "unknown_customer"
    assert other["data"]["context"]["profile"]["tier"] == "standard"
    assert other["data"]["context"]["profile"]["marketing_consent"] is False
    assert other["data"]["context"]["contacts_24h"] == 1
    # The key keeps per-customer order downstream.
    assert all(m.key() in (known.encode(), unknown.encode()) for m in got)


def test_batch_of_1000_complete_and_in_customer_order(ingest, enrich, enriched):
    customers = [new_id("cust") for _ in range(20)]
    seq = defaultdict(int)
    events = []
    for i in range(1000):
        c = customers[i % len(customers)]
        seq[c] += 1
        events.append(cloudevent(interaction(c, attributes={"seq": seq[c]})))
    for start in range(0, 1000, 250):
        resp = post(ingest, events[start:start + 250],
                    content_type="application/cloudevents-batch+json")
        assert resp.status_code == 202, resp.text
        assert resp.json()["accepted"] == 250
    got = enriched.collect(for_customers(customers), 1000, timeout=90)
    values = [event_value(m) for m in got]
    assert {v["id"] for v in values} == {e["id"] for e in events}
    last = defaultdict(int)
    for v in values:
        c, s = v["data"]["customer_id"], v["data"]["attributes"]["seq"]
        assert s == last[c] + 1, f"customer {c}: {s} after {last[c]}"
        last[c] = s


def test_malformed_record_goes_to_deadletter_and_flow_continues(stack, ingest, enrich, enriched):
    marker = new_id("bad")
    bad_key = new_id("cust")
    payloads = [f'{{"not json {marker}', json.dumps({"specversion": "1.0", "marker": marker})]
    for p in payloads:
        subprocess.run(["kcat", "-b", stack.bootstrap, "-P", "-t", TOPICS["interactions"],
                        "-k", bad_key], input=p.encode(), check=True, timeout=30)
    good = new_id("cust")
    assert post(ingest, cloudevent(interaction(good))).status_code == 202

    dlq = Records(stack.bootstrap, TOPICS["deadletter"])
    dead = dlq.collect(lambda m: m.key() == bad_key.encode(), 2)
    dlq.close()
    assert len(dead) == 2
    for m in dead:
        h = {k: v.decode() for k, v in m.headers()}
        assert h["attune-dlq-service"] == "enrich"
        assert h["attune-dlq-topic"] == TOPICS["interactions"]
        assert int(h["attune-dlq-offset"]) >= 0
        assert h["attune-dlq-reason"]
        assert marker.encode() in m.value()
    reasons = sorted(dict((k, v.decode()) for k, v in m.headers())["attune-dlq-reason"]
                     for m in dead)
    assert any("malformed JSON" in r for r in reasons), reasons
    assert any("/id" in r for r in reasons), reasons
    assert len(enriched.collect(for_customers([good]), 1)) == 1


def test_record_keyed_other_than_its_customer_is_counted(stack, enrich, enriched):
    """A record produced to the topic by hand with a key other than its
    customer_id is enriched and keyed by the customer downstream, and the
    stage says so (its customer's events may be out of order)."""
    customer = new_id("cust")
    before = metric(enrich, "attune_enrich_rekeyed_total")
    subprocess.run(["kcat", "-b", stack.bootstrap, "-P", "-t", TOPICS["interactions"],
                    "-k", "not-" + customer],
                   input=json.dumps(cloudevent(interaction(customer))).encode(), check=True,
                   timeout=30)
    assert len(enriched.collect(for_customers([customer]), 1)) == 1
    assert metric(enrich, "attune_enrich_rekeyed_total") == before + 1
    assert "has a Kafka key other than its customer_id" in enrich.log_path.read_text()


def test_redis_outage_marks_context_unavailable_then_recovers(stack, base_env, ingest, enrich,
                                                               enriched):
    customer = new_id("cust")
    load_profile(base_env, customer, {"tier": "platinum"})
    stack.stop_redis()
    try:
        ce = cloudevent(interaction(customer))
        assert post(ingest, ce).status_code == 202
        got = enriched.collect(lambda m: event_value(m)["id"] == ce["id"], 1)
        assert len(got) == 1
        ctx = event_value(got[0])["data"]["context"]
        assert ctx["status"] == "unavailable"
        assert ctx["contacts_24h"] is None
    finally:
        stack.start_redis()
    # Redis comes back with its data (as after a real outage): no reload
    deadline = time.time() + 30
    status = None
    while time.time() < deadline and status != "ok":
        ce = cloudevent(interaction(customer))
        assert post(ingest, ce).status_code == 202
        got = enriched.collect(lambda m: event_value(m)["id"] == ce["id"], 1)
        ctx = event_value(got[0])["data"]["context"]
        status = ctx["status"]
    assert status == "ok"
    assert ctx["profile"]["tier"] == "platinum"


@pytest.mark.parametrize("exactly_once", ["1", "0"])
def test_enrich_killed_midstream_loses_nothing(stack, base_env, log_dir, ingest, exactly_once):
    # Its own consumer group and output topic, so only this instance's work
    # is counted and the shared enrich fixture is not disturbed.
    out_topic = new_id("test.crash.enriched")
    env = dict(base_env, ATTUNE_GROUP_ID=new_id("crash"), ATTUNE_TOPIC_ENRICHED=out_topic,
               ATTUNE_EXACTLY_ONCE=exactly_once)
    res = admin(env, "create-topics")
    assert res.returncode == 0, res.stderr
    assert f"created {out_topic}" in res.stdout
    customers = [new_id("cust") for _ in range(10)]
    svc = Service("enrich", env, log_dir).start()
    events = [cloudevent(interaction(customers[i % 10])) for i in range(600)]

    def feed():
        for start in range(0, 600, 50):
            post(ingest, events[start:start + 50],
                 content_type="application/cloudevents-batch+json")
            time.sleep(0.05)

    feeder = threading.Thread(target=feed)
    feeder.start()
    time.sleep(0.4)
    svc.kill()
    feeder.join()
    svc2 = Service("enrich", env, log_dir).start()
    out = Records(stack.bootstrap, out_topic)
    try:
        got = out.collect(for_customers(customers), 600, timeout=60)
        # Redelivered records may follow: read a little longer.
        got += out.collect(for_customers(customers), 10**9, timeout=2)
    finally:
        out.close()
        svc2.stop()
    ids = [event_value(m)["id"] for m in got]
    missing = {e["id"] for e in events} - set(ids)
    assert not missing, f"{len(missing)} events lost"
    if exactly_once == "1":
        # Transactions: a read_committed reader sees each event once, even
        # though the killed instance had produced part of a batch.
        assert len(ids) == len(set(ids)) == len(events), \
            f"{len(ids) - len(set(ids))} duplicates"


def test_sigterm_drains_and_exits_zero(base_env, log_dir):
    svc = Service("enrich", dict(base_env, ATTUNE_GROUP_ID=new_id("term")), log_dir).start()
    assert svc.stop() == 0, svc.log_tail()


def test_context_fields_no_event_can_carry_are_left_out(stack, ingest, enrich, enriched):
    # A key filled by hand: bytes that are not UTF-8, or more than any
    # context needs. Those fields are left out, the rest of the context
    # stays, and no event is dead-lettered.
    r = redis.Redis.from_url(stack.redis_url)
    bad_utf8, too_big, fine = new_id("cust"), new_id("cust"), new_id("cust")
    r.hset(f"attune:customer:{bad_utf8}:profile",
           mapping={"tier": b"x\x01\xff", "vulnerable": "true"})
    r.hset(f"attune:customer:{too_big}:prefs", mapping={"note": "p" * 70000, "channel": "sms"})
    r.hset(f"attune:customer:{fine}:profile", "tier", "gold")
    events = {c: cloudevent(interaction(c)) for c in (bad_utf8, too_big, fine)}
    for ce in events.values():
        assert post(ingest, ce).status_code == 202
    got = enriched.collect(for_customers(list(events)), 3)
    ctx = {event_value(m)["data"]["customer_id"]: event_value(m)["data"]["context"] for m in got}
    assert ctx[bad_utf8]["status"] == "ok"
    assert ctx[bad_utf8]["profile"]["tier"] == "standard"  # the default
    assert ctx[bad_utf8]["profile"]["vulnerable"] is True  # kept
    assert ctx[too_big]["preferences"] == {"channel": "sms"}
    assert ctx[fine]["status"] == "ok" and ctx[fine]["profile"]["tier"] == "gold"
