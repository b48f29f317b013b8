"""Records that can never be produced must not stop a stage: an input too big
to copy whole to the dead-letter topic, and an output too big for any record
(message.max.bytes), are dead-lettered with the reason while the records
behind them flow on. Before, the stage retried its whole batch forever, and
every partition of the instance stopped."""

import base64
import json
import os

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

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


@pytest.mark.parametrize("exactly_once", ["1", "0"])
def test_output_the_broker_refuses_is_dead_lettered(stack, base_env, log_dir, exactly_once):
    # The output topic takes smaller records than the producer sends, which
    # the producer cannot see: the broker refuses the record after it was
    # sent. The batch is handled again one record at a time, and the input
    # whose output is refused is dead-lettered; the others flow.
    topics = {
        "ATTUNE_TOPIC_INTERACTIONS": new_id("test.refused.in"),
        "ATTUNE_TOPIC_ENRICHED": new_id("test.refused.out"),
        "ATTUNE_TOPIC_DEADLETTER": new_id("test.refused.dlq"),
    }
    env = dict(base_env, ATTUNE_GROUP_ID=new_id("refused"), ATTUNE_EXACTLY_ONCE=exactly_once,
               **topics)
    res = admin(env, "create-topics")
    assert res.returncode == 0, res.stderr
    admin_client = AdminClient({"bootstrap.servers": stack.bootstrap})
    small = new_id("test.refused.small")
    futures = admin_client.create_topics(
        [NewTopic(small, num_partitions=1, replication_factor=1,
                  config={"max.message.bytes": "3000"})])
    futures[small].result(30)
    env["ATTUNE_TOPIC_ENRICHED"] = small

    big, fine = new_id("cust"), new_id("cust")
    # random letters: lz4 cannot shrink them under the topic's limit
    text = base64.b64encode(os.urandom(4500)).decode()
    big_event = cloudevent(interaction(big, text=text))
    p = Producer({"bootstrap.servers": stack.bootstrap})
    p.produce(topics["ATTUNE_TOPIC_INTERACTIONS"], key=big, value=json.dumps(big_event))
    p.produce(topics["ATTUNE_TOPIC_INTERACTIONS"], key=fine,
              value=json.dumps(cloudevent(interaction(fine, text="hello"))))
    assert p.flush(30) == 0

    svc = Service("enrich", env, log_dir).start()
    out = Records(stack.bootstrap, small)
    dlq = Records(stack.bootstrap, topics["ATTUNE_TOPIC_DEADLETTER"])
    try:
        got = out.collect(for_customers([fine]), 1, timeout=60)
        assert len(got) == 1, svc.log_tail()
        dead = dlq.collect(lambda m: m.key() == big.encode(), 1, timeout=60)
        assert len(dead) == 1, svc.log_tail()
        h = headers_of(dead[0])
        assert "refused by the broker as too large" in h["attune-dlq-reason"], h
        assert json.loads(dead[0].value())["id"] == big_event["id"]
        assert not out.collect(for_customers([big]), 1, timeout=2)
    finally:
        out.close()
        dlq.close()
        assert svc.stop() == 0, svc.log_tail()
