"""Records that can never be produced must not stop a stage: an input too big
to copy whole to the dead-letter topic, and an output too big for any record
(message.max.bytes), are dead-lettered with the reason while the records
behind them flow on. Before, the stage retried its whole batch forever, and
every partition of the instance stopped."""

import json

from confluent_kafka import Producer

from conftest import (Records, Service, admin, cloudevent, event_value, for_customers,
                      interaction, new_id)
from test_enrich import load_profile

# Small on purpose, so that ordinary events can be made too big for it.
MAX_RECORD = 6000


def headers_of(msg) -> dict:
    return {k: v.decode() for k, v in (msg.headers() or [])}


def test_records_too_big_are_dead_lettered_and_the_stage_goes_on(stack, base_env, log_dir):
    topics = {
        "ATTUNE_TOPIC_INTERACTIONS": new_id("test.limits.in"),
        "ATTUNE_TOPIC_ENRICHED": new_id("test.limits.out"),
        "ATTUNE_TOPIC_DEADLETTER": new_id("test.limits.dlq"),
    }
    env = dict(base_env, ATTUNE_GROUP_ID=new_id("limits"),
               ATTUNE_KAFKA_MESSAGE_MAX_BYTES=str(MAX_RECORD), **topics)
    res = admin(env, "create-topics")
    assert res.returncode == 0, res.stderr

    # A customer whose context alone nearly fills a record.
    big_ctx = new_id("cust")
    load_profile(base_env, big_ctx, {"tier": "gold", "note": "n" * 4000})
    small = new_id("cust")
    garbage_key = new_id("garbage")

    p = Producer({"bootstrap.servers": stack.bootstrap, "message.max.bytes": 2_000_000})
    # 1. not an event, and five times what the stage may produce
    p.produce(topics["ATTUNE_TOPIC_INTERACTIONS"], key=garbage_key, value=b"G" * 30000)
    # 2. a good event whose enriched form is over the limit
    big_event = cloudevent(interaction(big_ctx, text="t" * 2500))
    p.produce(topics["ATTUNE_TOPIC_INTERACTIONS"], key=big_ctx, value=json.dumps(big_event))
    # 3. a good event behind them, in every partition's way if the stage stalls
    p.produce(topics["ATTUNE_TOPIC_INTERACTIONS"], key=small,
              value=json.dumps(cloudevent(interaction(small, text="hello"))))
    assert p.flush(30) == 0

    svc = Service("enrich", env, log_dir).start()
    out = Records(stack.bootstrap, topics["ATTUNE_TOPIC_ENRICHED"])
    dlq = Records(stack.bootstrap, topics["ATTUNE_TOPIC_DEADLETTER"])
    try:
        got = out.collect(for_customers([small]), 1, timeout=60)
        assert len(got) == 1, svc.log_tail()
        dead = dlq.collect(lambda m: m.key() in (garbage_key.encode(), big_ctx.encode()), 2)
        assert len(dead) == 2, svc.log_tail()
        by_key = {m.key(): m for m in dead}

        g = by_key[garbage_key.encode()]
        h = headers_of(g)
        assert "malformed JSON" in h["attune-dlq-reason"], h
        assert h["attune-dlq-truncated"] == f"key {len(garbage_key)} bytes, value 30000 bytes"
        assert 0 < len(g.value()) < MAX_RECORD and set(g.value()) == {ord("G")}

        b = by_key[big_ctx.encode()]
        h = headers_of(b)
        assert "over the record limit of 6000 bytes" in h["attune-dlq-reason"], h
        assert h["attune-dlq-topic"] == topics["ATTUNE_TOPIC_INTERACTIONS"]
        assert "attune-dlq-truncated" not in h
        assert json.loads(b.value())["id"] == big_event["id"]  # the input, whole

        # the big customer's event never went out half-made
        assert not out.collect(for_customers([big_ctx]), 1, timeout=2)
        assert event_value(got[0])["data"]["customer_id"] == small
    finally:
        out.close()
        dlq.close()
        assert svc.stop() == 0, svc.log_tail()
