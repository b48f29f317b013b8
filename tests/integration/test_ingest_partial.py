"""A request Kafka takes only in part: the broker refuses one record of a
batch (a topic whose max.message.bytes is below the producer's
message.max.bytes) after the others were stored. The problem document lists
the stored ids, and ingest remembers them, so that the client's retry of the
whole batch reports them as duplicates instead of storing them twice."""

import base64
import os
import zlib
from collections import Counter

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import Records, Service, cloudevent, event_value, interaction, new_id, post
from test_schemas import errors, validator_for

PARTITIONS = 3
BATCH = "application/cloudevents-batch+json"


def partition_of(key: str) -> int:
    """The partition librdkafka's default partitioner (consistent_random: the
    CRC-32 of the key) sends a keyed record to."""
    return zlib.crc32(key.encode()) % PARTITIONS


def customer_outside(partition: int) -> str:
    """A customer whose records go to another partition than the given one:
    a record set holding the refused record is refused whole."""
    while True:
        customer = new_id("cust")
        if partition_of(customer) != partition:
            return customer


def small_record_topic(stack) -> str:
    topic = new_id("test.partial")
    admin = AdminClient({"bootstrap.servers": stack.bootstrap})
    for f in admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1,
                                           config={"max.message.bytes": "3000"})]).values():
        f.result(timeout=30)
    return topic


def next_ids(records, want: int) -> Counter:
    """How often each event id is among the next records of the topic: want
    of them, and any that come in a few seconds more."""
    got = records.collect(lambda m: True, want, timeout=60) if want else []
    got += records.collect(lambda m: True, 1, timeout=3)
    return Counter(event_value(m)["id"] for m in got)


@pytest.mark.parametrize("window", ["local", "shared"])
def test_retry_after_a_partial_413_stores_each_event_once(stack, base_env, log_dir, window):
    # local: no Redis, the replica's own window recognises the retry;
    # shared: the retry reaches another replica, which knows it from Redis.
    topic = small_record_topic(stack)
    env = dict(base_env, ATTUNE_TOPIC_INTERACTIONS=topic)
    if window == "local":
        env["ATTUNE_REDIS_URL"] = "redis://127.0.0.1:1"
    first = second = Service("ingest", env, log_dir).start()
    records = Records(stack.bootstrap, topic)
    try:
        if window == "shared":
            second = Service("ingest", env, log_dir).start()
        big_customer = new_id("cust")
        # base64 of random bytes: lz4 cannot shrink it under the topic's limit,
        # and it is well under the producer's and ingest's own limits
        text = base64.b64encode(os.urandom(4500)).decode()
        big = cloudevent(interaction(big_customer, text=text))
        small = [cloudevent(interaction(customer_outside(partition_of(big_customer)), text="hi"))
                 for _ in range(3)]
        small_ids = sorted(ce["id"] for ce in small)
        batch = [small[0], small[1], big, small[2]]

        resp = post(first, batch, content_type=BATCH)
        assert resp.status_code == 413, resp.text
        assert resp.headers["Content-Type"].startswith("application/problem+json")
        doc = resp.json()
        assert doc["type"] == "urn:attune:problem:limit-exceeded", doc
        assert sorted(doc["stored_ids"]) == small_ids, doc
        assert "3 of 4 stored" in doc["detail"], doc
        assert not errors(validator_for("problem.schema.json"), doc), doc
        assert next_ids(records, 3) == Counter(small_ids)

        # the client fixes the big event (same id) and resends the whole batch
        batch[2] = dict(big, data=dict(big["data"], text="shorter now"))
        resp = post(second, batch, content_type=BATCH)
        assert resp.status_code == 202, resp.text
        body = resp.json()
        assert sorted(body["duplicate_ids"]) == small_ids, body
        assert body["accepted"] == 4 and body["duplicates"] == 3, body
        assert next_ids(records, 1) == Counter([big["id"]])

        # and once more, as a client whose answer got lost would: nothing new
        resp = post(first, batch, content_type=BATCH)
        assert resp.status_code == 202, resp.text
        assert resp.json()["duplicates"] == 4, resp.text
        assert next_ids(records, 0) == Counter()
    finally:
        records.close()
        assert first.stop() == 0, first.log_tail()
        if second is not first:
            assert second.stop() == 0, second.log_tail()


def test_a_413_before_anything_is_queued_lists_no_stored_ids(base_env, log_dir):
    # an event over the producer's own limit is found before the first record
    # is queued: nothing of the batch is stored, and the document says so
    svc = Service("ingest", dict(base_env, ATTUNE_KAFKA_MESSAGE_MAX_BYTES="3000"), log_dir).start()
    try:
        batch = [cloudevent(interaction(new_id("cust"))),
                 cloudevent(interaction(new_id("cust"), text="t" * 5000))]
        resp = post(svc, batch, content_type=BATCH)
        assert resp.status_code == 413, resp.text
        assert resp.json()["stored_ids"] == [], resp.text
        assert "0 of 2 stored" in resp.json()["detail"], resp.text
    finally:
        assert svc.stop() == 0, svc.log_tail()
