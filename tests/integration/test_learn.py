"""Outcomes and learning on the real stack: POST /v1/outcomes on ingest,
attune-learn applying outcomes to Redis (once each), and attune-decide
choosing variants by Thompson sampling on what was learned, inside every
guard."""

import json
import random
import shutil
import time
from collections import Counter

import pytest
import redis
import requests
from confluent_kafka import Producer

from conftest import (TOPICS, Records, Service, admin, cloudevent, event_value, interaction, new_id,
                      post, REPO_ROOT, metric)
from test_schemas import errors, validator_for

DEFAULT_POLICY = REPO_ROOT / "deploy" / "policies" / "default.json"
OUTCOMES_CT = "application/cloudevents+json"


def outcome(decision_id="00000000-0000-5000-8000-000000000000", customer=None, **facts):
    data = {"decision_id": decision_id, "interaction_id": new_id("int"),
            "customer_id": customer or new_id("cust")}
    data.update(facts)
    return data


def outcome_event(data, **attrs):
    ce = cloudevent(data, **attrs)
    ce["type"] = "attune.outcome.v1"
    return ce


def post_outcomes(ingest, body, content_type=OUTCOMES_CT, **kw):
    return post(ingest, body, content_type=content_type, path="/v1/outcomes", **kw)


# --- the API ------------------------------------------------------------------


def test_outcome_accepted_and_on_the_topic(stack, ingest):
    customer = new_id("cust")
    data = outcome(customer=customer, resolved=True, csat=4, handle_time_seconds=312.5,
                   offer_accepted=False, churned=False, abuse_reported=False,
                   occurred_at="2026-11-23T10:00:00Z")
    ce = outcome_event(data)
    res = post_outcomes(ingest, ce)
    assert res.status_code == 202, res.text
    assert res.json()["ids"] == [ce["id"]]
    # A bare outcome (application/json) is wrapped, its id the Idempotency-Key.
    bare = outcome(customer=customer, csat=2)
    res = post_outcomes(ingest, bare, content_type="application/json",
                        headers={"Idempotency-Key": "out-" + customer})
    assert res.status_code == 202, res.text
    res = post_outcomes(ingest, bare, content_type="application/json",
                        headers={"Idempotency-Key": "out-" + customer})
    assert res.status_code == 202 and res.json()["duplicates"] == 1
    r = Records(stack.bootstrap, TOPICS["outcomes"])
    got = r.collect(lambda m: m.key() == customer.encode(), 3, timeout=20)
    r.close()
    assert len(got) == 2  # the duplicate was not produced again
    values = sorted((event_value(m) for m in got), key=lambda v: v["id"] != ce["id"])
    assert values[0]["type"] == "attune.outcome.v1"
    assert values[0]["data"] == data
    assert values[1]["id"] == "out-" + customer and values[1]["data"]["csat"] == 2


INVALID = [
    ({"interaction_id": "i-1", "customer_id": "c-1", "resolved": True}, "/data/decision_id"),
    (outcome(csat=7), "/data/csat"),
    (outcome(csat=3.5), "/data/csat"),
    (outcome(resolved="yes"), "/data/resolved"),
    (outcome(handle_time_seconds=-1), "/data/handle_time_seconds"),
    (outcome(resolved=True, note="the customer was rude"), "/data/note"),
    (outcome(), "/data"),
    (outcome(resolved=True, occurred_at="yesterday"), "/data/occurred_at"),
    (outcome(resolved=True, customer_id="has space"), "/data/customer_id"),
]


@pytest.mark.parametrize("data,pointer", INVALID)
def test_invalid_outcome_named(ingest, data, pointer):
    res = post_outcomes(ingest, outcome_event(data))
    assert res.status_code == 400, res.text
    body = res.json()
    assert body["type"].endswith("invalid-outcome")
    assert body["errors"][0]["pointer"] == pointer, body


def test_outcome_schema_agrees_with_ingest():
    v = validator_for("outcome.schema.json")
    for data, pointer in INVALID:
        assert errors(v, data), (data, pointer)
    assert not errors(v, outcome(resolved=True, csat=5, handle_time_seconds=0,
                                 occurred_at="2026-11-23T10:00:00.5+01:00"))


def test_outcome_endpoint_needs_key_and_type(ingest):
    ce = outcome_event(outcome(resolved=True))
    assert post_outcomes(ingest, ce, key="wrong-key-0123456789").status_code == 401
    # An interaction event is not an outcome.
    ev = cloudevent(interaction(new_id("cust"), text="hi"))
    res = post_outcomes(ingest, ev)
    assert res.status_code == 400 and res.json()["errors"][0]["pointer"] == "/type"
    assert post_outcomes(ingest, ce, content_type="text/plain").status_code == 415


# --- learning -------------------------------------------------------------------


TRIAL_RULE = {
    "id": "tone_trial", "code": "TONE_TRIAL", "reason": "which tone resolves billing questions",
    "priority": 900,
    "when": {"path": "situation.intent.label", "op": "eq", "value": "billing"},
    "set": {"guidance.ownership": True},
    "variants": [{"name": "warm", "set": {"guidance.tone": "warm"}},
                 {"name": "direct", "set": {"guidance.tone": "direct"}}],
}
RATES = {"warm": 0.4, "direct": 0.7}
# A rule whose variants are judged by their own success definition: an
# offer's wording works when the offer is taken, whether or not the contact
# was resolved.
OFFER_RULE = {
    "id": "offer_trial", "code": "OFFER_TRIAL", "reason": "which offer wording is taken",
    "priority": 901,
    "when": {"path": "situation.intent.label", "op": "eq", "value": "purchase_upgrade"},
    "variants": [{"name": "short", "set": {"guidance.pace": "brisk"}},
                 {"name": "long", "set": {"guidance.pace": "unhurried"}}],
    "success": {"path": "outcome.offer_accepted", "op": "eq", "value": True},
}


@pytest.fixture(scope="module")
def trial_policy(tmp_path_factory):
    policy = json.loads(DEFAULT_POLICY.read_text())
    policy["version"] = "trial-1"
    policy["rules"].append(TRIAL_RULE)
    policy["rules"].append(OFFER_RULE)
    policy["learning"] = {"control_share": 0.1,
                          "success": {"path": "outcome.resolved", "op": "eq", "value": True}}
    path = tmp_path_factory.mktemp("trial") / "policy.json"
    path.write_text(json.dumps(policy))
    return policy, path


@pytest.fixture(scope="module")
def learning(stack, base_env, log_dir, trial_policy):
    _, path = trial_policy
    env = dict(base_env, ATTUNE_POLICY_FILE=str(path), ATTUNE_LEARN_REFRESH_MS="100",
               ATTUNE_GROUP_ID=new_id("trial"))
    decide = Service("decide", env, log_dir).start()
    learn = Service("learn", dict(env, ATTUNE_GROUP_ID=new_id("learn")), log_dir).start()
    yield decide, learn
    assert learn.stop() == 0, learn.log_tail()
    assert decide.stop() == 0, decide.log_tail()


def classified(customer, intent="billing"):
    data = interaction(customer, text="question about my bill", wait_seconds=20)
    data["context"] = {"status": "ok", "contacts_24h": 0, "contacts_7d": 0,
                       "profile": {"tier": "standard", "marketing_consent": False}}
    data["situation"] = {
        "sentiment": {"score": 0.0, "label": "neutral", "confidence": 0.8},
        "emotion": {"label": "neutral", "confidence": 0.8,
                    "scores": {"anger": 0, "fear": 0, "sadness": 0, "confusion": 0, "joy": 0,
                               "neutral": 1}},
        "intent": {"label": intent, "confidence": 0.9},
        "urgency": {"level": "normal", "score": 0.3, "effort": 0.1},
        "threat": {"level": "none"},
        "preferences": {},
    }
    ce = cloudevent(data)
    ce["type"] = "attune.interaction.classified.v1"
    return ce


def learned_counts(r):
    h = r.hgetall("attune:learn:rule:tone_trial")
    out = Counter()
    for k, v in h.items():
        bucket, variant, kind = k.decode().rsplit("|", 2)
        assert bucket == "billing/neutral/normal"
        out[(variant, kind)] += int(v)
    return out


def decide_health(learning):
    """What the trial decide says of its refreshes and retries (for a
    failure's message)."""
    decide, _ = learning
    return {name: metric(decide, name) for name in ("attune_decide_learn_refresh_failed_total",
                                                    "attune_batch_retries_total")}


def check_guards(policy, d):
    floor = policy["floor"]
    tiers = policy.get("agent_tiers", ["standard", "senior", "expert"])
    assert d["routing"]["max_wait_seconds"] <= floor["max_wait_seconds"]
    assert d["routing"]["priority"] >= floor["min_priority"]
    assert tiers.index(d["routing"]["agent_tier"]) >= tiers.index(floor["min_agent_tier"])
    offer = d["guidance"].get("offer")
    # No consent: never a sales offer, whatever variant was chosen.
    assert not offer or offer.get("type") not in ("cross_sell", "upsell")


def test_thompson_sampling_learns_the_better_variant(stack, ingest, learning, trial_policy):
    """Variant direct resolves 70% of billing contacts and warm 40%: after a few
    rounds of decisions and outcomes, decide picks direct for most of them, and
    every decision still honours the floor and the sales guard."""
    policy, _ = trial_policy
    r = redis.Redis.from_url(stack.redis_url)
    r.delete("attune:learn:rule:tone_trial")
    producer = Producer({"bootstrap.servers": stack.bootstrap})
    reader = Records(stack.bootstrap, TOPICS["routing"])
    rng = random.Random(20261123)
    picks, methods = [], Counter()
    counted = 0
    for rnd in range(12):
        customers = [new_id("cust") for _ in range(25)]
        for c in customers:
            ce = classified(c)
            producer.produce(TOPICS["classified"], json.dumps(ce).encode(), key=c.encode())
        producer.flush(10)
        wanted = set(customers)
        got = reader.collect(lambda m: event_value(m)["data"]["customer_id"] in wanted,
                             len(customers), timeout=30)
        assert len(got) == len(customers), f"round {rnd}: {len(got)} decisions"
        batch = []
        for m in got:
            d = event_value(m)["data"]
            check_guards(policy, d)
            choice = [c for c in d["policy"]["choices"] if c["rule"] == "tone_trial"]
            assert len(choice) == 1, d["policy"]
            choice = choice[0]
            assert d["policy"]["bucket"] == "billing/neutral/normal"
            methods[choice["method"]] += 1
            if choice["method"] == "thompson":
                assert 0 <= choice["sampled"] <= 1
                assert any("sampled" in x["text"] for x in d["reasons"]
                           if x["code"] == "TONE_TRIAL"), d["reasons"]
            assert d["guidance"]["tone"] == choice["variant"]
            picks.append(choice["variant"])
            # What learn will credit: the decision's record, written before
            # the decision was published.
            recorded = r.hget(f"attune:learn:decision:{d['decision_id']}", "choices")
            assert recorded is not None and f"tone_trial:{choice['variant']}" in \
                recorded.decode().split(","), (d["decision_id"], choice, recorded,
                                               decide_health(learning))
            resolved = rng.random() < RATES[choice["variant"]]
            batch.append(outcome_event(outcome(d["decision_id"], d["customer_id"],
                                               interaction_id=d["interaction_id"],
                                               resolved=resolved, csat=5 if resolved else 2)))
        res = post_outcomes(ingest, batch, content_type="application/cloudevents-batch+json")
        assert res.status_code == 202, res.text
        counted += len(batch)
        deadline = time.time() + 30
        while sum(learned_counts(r).values()) < counted and time.time() < deadline:
            time.sleep(0.1)
        assert sum(learned_counts(r).values()) == counted
        time.sleep(0.3)  # let decide re-read the counts (every 100 ms here)
    reader.close()
    counts = learned_counts(r)
    late = Counter(picks[-100:])
    print(f"\nlearning: first 100 picks {dict(Counter(picks[:100]))}, last 100 {dict(late)}, "
          f"methods {dict(methods)}, counts {dict(counts)}")
    assert late["direct"] >= 65, (late, counts, methods, decide_health(learning))
    # The control share picks uniformly: some control decisions, not most.
    assert 5 <= methods["control"] <= 70, methods
    # The customer's outcome history and CSAT summary are kept.
    some = event_value(got[0])["data"]["customer_id"]
    assert r.llen(f"attune:customer:{some}:outcomes") == 1
    assert r.hget(f"attune:customer:{some}:csat", "count") == b"1"


def test_an_event_decided_again_keeps_its_variant(stack, learning):
    """A classified event delivered twice (a retried batch, a replay) is
    decided twice under one decision id: the second decision replays the
    variant the first one picked, although the counts learned in between
    now favour the other, so the decision a router saw first and the one
    an outcome is learned for agree."""
    r = redis.Redis.from_url(stack.redis_url)
    bucket = "billing/neutral/high"

    def favour(good, bad):
        r.hset("attune:learn:rule:tone_trial",
               mapping={f"{bucket}|{good}|s": 500, f"{bucket}|{good}|f": 0,
                        f"{bucket}|{bad}|s": 0, f"{bucket}|{bad}|f": 500})
        time.sleep(0.5)  # decide re-reads the counts every 100 ms here

    producer = Producer({"bootstrap.servers": stack.bootstrap})
    reader = Records(stack.bootstrap, TOPICS["routing"])
    events = []
    for _ in range(12):
        ce = classified(new_id("cust"))
        ce["data"]["situation"]["urgency"]["level"] = "high"
        events.append(ce)
    customers = {ce["data"]["customer_id"] for ce in events}

    def decide_all():
        for ce in events:
            producer.produce(TOPICS["classified"], json.dumps(ce).encode(),
                             key=ce["data"]["customer_id"].encode())
        producer.flush(10)
        got = reader.collect(lambda m: event_value(m)["data"]["customer_id"] in customers,
                             len(events), timeout=30)
        assert len(got) == len(events)
        out = {}
        for m in got:
            d = event_value(m)["data"]
            assert d["policy"]["bucket"] == bucket
            out[d["decision_id"]] = [c for c in d["policy"]["choices"]
                                     if c["rule"] == "tone_trial"][0]
        return out

    try:
        favour("direct", "warm")
        first = decide_all()
        assert len(first) == len(events)
        # direct wins every draw but the control group's
        assert sum(c["variant"] == "direct" for c in first.values()) >= len(events) // 2, first
        favour("warm", "direct")
        again = decide_all()
        assert again == first  # same decision ids, same variants, methods and draws
        for did, choice in first.items():
            picks = r.hget(f"attune:learn:decision:{did}", "picks").decode()
            assert f"tone_trial:{choice['variant']}:{choice['method']}:" in picks, picks
        # A second decision that could not replay (here the picks cannot be
        # read; in life Redis did not answer) picks afresh, but the record
        # stays the first decision's: the outcome is learned for it.
        keys = {did: f"attune:learn:decision:{did}" for did in first}
        before = {did: r.hget(k, "choices") for did, k in keys.items()}
        for k in keys.values():
            r.hset(k, "picks", "unreadable")
        blind = decide_all()
        assert sum(c["variant"] == "warm" for c in blind.values()) >= len(events) // 2, blind
        for did, k in keys.items():
            assert r.hget(k, "choices") == before[did]
            assert r.hget(k, "picks") == b"unreadable"
        # A new event on these counts does get warm.
        events[:] = [classified(new_id("cust")) for _ in range(6)]
        for ce in events:
            ce["data"]["situation"]["urgency"]["level"] = "high"
        customers.clear()
        customers.update(ce["data"]["customer_id"] for ce in events)
        fresh = decide_all()
        assert sum(c["variant"] == "warm" for c in fresh.values()) >= 3, fresh
    finally:
        reader.close()
        r.hdel("attune:learn:rule:tone_trial",
               *[f"{bucket}|{v}|{k}" for v in ("direct", "warm") for k in "sf"])


def test_outcome_counted_once_per_decision(stack, base_env, ingest, learning):
    r = redis.Redis.from_url(stack.redis_url)
    decision = "11111111-2222-5333-8444-555555555555"
    r.hset(f"attune:learn:decision:{decision}",
           mapping={"bucket": "once/neutral/normal", "choices": "tone_trial:warm"})
    customer = new_id("cust")
    first = outcome_event(outcome(decision, customer, resolved=True, csat=5))
    again = outcome_event(outcome(decision, customer, resolved=False, csat=1))
    assert post_outcomes(ingest, first).status_code == 202
    assert post_outcomes(ingest, again).status_code == 202
    deadline = time.time() + 20
    while r.llen(f"attune:customer:{customer}:outcomes") < 2 and time.time() < deadline:
        time.sleep(0.1)
    assert r.llen(f"attune:customer:{customer}:outcomes") == 2
    h = r.hgetall("attune:learn:rule:tone_trial")
    assert h.get(b"once/neutral/normal|warm|s") == b"1"
    assert b"once/neutral/normal|warm|f" not in h  # the second outcome did not count again
    csat = r.hgetall(f"attune:customer:{customer}:csat")
    assert csat[b"count"] == b"2" and csat[b"sum"] == b"6" and csat[b"last"] in (b"1", b"5")
    newest = json.loads(r.lindex(f"attune:customer:{customer}:outcomes", 0))
    assert "customer_id" not in newest and newest["decision_id"] == decision
    # Neither the outcome nor its event said when: the time it reached Kafka.
    from datetime import datetime, timezone
    when = datetime.fromisoformat(newest["occurred_at"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 120
    # What was learned, as an operator sees it.
    res = admin(base_env, "learned", "tone_trial")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert {"rule": "tone_trial", "bucket": "once/neutral/normal", "variant": "warm",
            "successes": 1, "failures": 0, "success_rate": 0.666} in rows
    res = admin(base_env, "learned")  # every rule with counts
    assert res.returncode == 0 and "once/neutral/normal" in res.stdout
    # A rule id with no counts (a typo) is named, not silently empty.
    res = admin(base_env, "learned", "tone_trail")
    assert res.returncode == 0 and res.stdout == ""
    assert "rule 'tone_trail' has no learned counts" in res.stderr


def test_each_rule_judged_by_its_own_success(stack, ingest, learning):
    """A decision that chose variants of two rules (and of a third the policy
    no longer has): the first outcome says the contact was resolved
    (tone_trial's success, the policy's definition) but not whether the offer
    was taken (offer_trial's own): only tone_trial counts. The next outcome
    says the offer was declined: offer_trial counts a failure, and tone_trial
    is not counted again. The metrics count choices."""
    _, learn = learning
    r = redis.Redis.from_url(stack.redis_url)
    decision = "33333333-4444-5555-8666-777777777777"
    r.hset(f"attune:learn:decision:{decision}",
           mapping={"bucket": "own/neutral/normal",
                    "choices": "tone_trial:warm,offer_trial:long,gone_rule:x"})
    customer = new_id("cust")
    # (outcome, tone_trial's counts, offer_trial's, choices counted, choices
    # undetermined: offer_trial without offer_accepted, and gone_rule, which
    # the policy does not have, every time until counted)
    steps = [
        (outcome(decision, customer, resolved=True),
         {b"own/neutral/normal|warm|s": b"1"}, {}, 1, 2),
        (outcome(decision, customer, resolved=False, offer_accepted=False),
         {b"own/neutral/normal|warm|s": b"1"}, {b"own/neutral/normal|long|f": b"1"}, 1, 1),
    ]
    for k, (data, tone, offer, counted, undetermined) in enumerate(steps):
        before = (metric(learn, "attune_learn_counted_total"),
                  metric(learn, "attune_learn_undetermined_total"))
        assert post_outcomes(ingest, outcome_event(data)).status_code == 202
        deadline = time.time() + 20
        while r.llen(f"attune:customer:{customer}:outcomes") < k + 1 and time.time() < deadline:
            time.sleep(0.05)
        assert r.llen(f"attune:customer:{customer}:outcomes") == k + 1
        got_tone = {f: v for f, v in r.hgetall("attune:learn:rule:tone_trial").items()
                    if f.startswith(b"own/")}
        got_offer = {f: v for f, v in r.hgetall("attune:learn:rule:offer_trial").items()
                     if f.startswith(b"own/")}
        assert (got_tone, got_offer) == (tone, offer), k
        time.sleep(0.3)
        after = (metric(learn, "attune_learn_counted_total"),
                 metric(learn, "attune_learn_undetermined_total"))
        assert (after[0] - before[0], after[1] - before[1]) == (counted, undetermined), k
    assert not r.exists("attune:learn:rule:gone_rule")
    # A decision counted by a version before rules had their own success
    # definitions (its counted key names no rule) is not counted again.
    old = "44444444-5555-5666-8777-888888888888"
    r.hset(f"attune:learn:decision:{old}",
           mapping={"bucket": "old/neutral/normal", "choices": "tone_trial:warm"})
    r.set(f"attune:learn:counted:{old}", "1", ex=600)
    assert post_outcomes(ingest, outcome_event(outcome(old, customer, resolved=True))) \
        .status_code == 202
    deadline = time.time() + 20
    while r.llen(f"attune:customer:{customer}:outcomes") < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert r.llen(f"attune:customer:{customer}:outcomes") == 3
    assert not any(f.startswith(b"old/") for f in r.hkeys("attune:learn:rule:tone_trial"))


def test_bad_outcome_record_dead_lettered(stack, learning):
    producer = Producer({"bootstrap.servers": stack.bootstrap})
    key = new_id("bad")
    producer.produce(TOPICS["outcomes"], b'{"not": "an outcome"}', key=key.encode())
    producer.flush(10)
    r = Records(stack.bootstrap, TOPICS["deadletter"])
    got = r.collect(lambda m: m.key() == key.encode(), 1, timeout=30)
    r.close()
    assert len(got) == 1
    headers = dict(got[0].headers())
    assert headers["attune-dlq-service"] == b"learn"
    assert headers["attune-dlq-topic"] == TOPICS["outcomes"].encode()


def test_csat_summary_reaches_the_next_contact(stack, ingest, enrich, enriched, learning):
    """Outcomes with a CSAT update the customer's summary, and enrich puts it
    in the context of the customer's next contact (context.csat), where a
    policy can read it."""
    r = redis.Redis.from_url(stack.redis_url)
    customer = new_id("cust")
    for score in (5, 4, 1):
        ce = outcome_event(outcome(customer=customer, csat=score))
        assert post_outcomes(ingest, ce).status_code == 202
        deadline = time.time() + 20
        while (int(r.hget(f"attune:customer:{customer}:csat", "last") or 0) != score
               and time.time() < deadline):
            time.sleep(0.05)
    ce = cloudevent(interaction(customer, text="hello again"))
    assert post(ingest, ce).status_code == 202
    got = enriched.collect(lambda m: m.key() == customer.encode(), 1, timeout=30)
    assert len(got) == 1
    context = event_value(got[0])["data"]["context"]
    csat = context["csat"]
    assert csat["count"] == 3 and csat["last"] == 1
    assert abs(csat["mean"] - 3.33) < 0.01
    assert abs(csat["ewma"] - (0.7 * (0.7 * 5 + 0.3 * 4) + 0.3 * 1)) < 0.001
    assert not errors(validator_for("enriched.schema.json"), event_value(got[0]))


def wait_context_back(ingest, enriched, timeout=30):
    """After a Redis restart, until enrich gives context again (its client
    reconnects at most once a second), so later tests see a healthy stack."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        customer = new_id("probe")
        assert post(ingest, cloudevent(interaction(customer))).status_code == 202
        got = enriched.collect(lambda m: m.key() == customer.encode(), 1, timeout=10)
        if got and event_value(got[0])["data"]["context"]["status"] != "unavailable":
            return
    raise AssertionError("enrich did not get its Redis context back")


def test_outcomes_wait_for_redis_and_are_applied_once(stack, ingest, enrich, enriched, learning):
    """With Redis down, learn cannot apply outcomes: they stay in Kafka (the
    batch is retried) and are applied, once each, when Redis is back."""
    if not stack.can_control_redis:
        pytest.skip("Redis is external")
    r = redis.Redis.from_url(stack.redis_url)
    customer = new_id("cust")
    decision = "22222222-3333-5444-8555-666666666666"
    stack.stop_redis()
    try:
        for score in (4, 3):
            ce = outcome_event(outcome(decision, customer, resolved=True, csat=score))
            assert post_outcomes(ingest, ce).status_code == 202
        time.sleep(2)  # learn reads them and fails to apply them
        # the stalled outcomes show as lag (sampled every 5 s, before a poll)
        _, learn = learning
        deadline, lag = time.time() + 15, 0.0
        while lag < 2 and time.time() < deadline:
            lag = metric(learn, "attune_consumer_lag", f'topic="{TOPICS["outcomes"]}"')
            time.sleep(0.5)
        assert lag >= 2, lag
    finally:
        stack.start_redis()
    r = redis.Redis.from_url(stack.redis_url)
    deadline = time.time() + 30
    while r.llen(f"attune:customer:{customer}:outcomes") < 2 and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # a duplicate application would show by now
    assert r.llen(f"attune:customer:{customer}:outcomes") == 2
    assert r.hget(f"attune:customer:{customer}:csat", "count") == b"2"
    wait_context_back(ingest, enriched)


def test_a_wrong_redis_key_type_dead_letters_that_outcome_only(stack, ingest, learning):
    r = redis.Redis.from_url(stack.redis_url)
    broken, fine = new_id("cust"), new_id("cust")
    r.set(f"attune:customer:{broken}:outcomes", "not a list")
    first = outcome_event(outcome(customer=broken, resolved=True, csat=3))
    second = outcome_event(outcome(customer=fine, resolved=True, csat=4))
    assert post_outcomes(ingest, first).status_code == 202
    assert post_outcomes(ingest, second).status_code == 202
    reader = Records(stack.bootstrap, TOPICS["deadletter"])
    got = reader.collect(lambda m: m.key() == broken.encode(), 1, timeout=30)
    reader.close()
    assert len(got) == 1
    assert "wrong type" in dict(got[0].headers())["attune-dlq-reason"].decode()
    deadline = time.time() + 20
    while r.llen(f"attune:customer:{fine}:outcomes") < 1 and time.time() < deadline:
        time.sleep(0.05)
    assert r.llen(f"attune:customer:{fine}:outcomes") == 1
    # Nothing of the broken outcome was written.
    assert r.get(f"attune:customer:{broken}:outcomes") == b"not a list"
    assert not r.exists(f"attune:customer:{broken}:csat")


def test_a_count_that_is_not_a_number_writes_nothing(stack, ingest, learning):
    # Redis keeps what a script wrote before it failed: the script checks
    # every count it will add to, as Redis reads an integer, before its
    # first write. An ewma that is no number is only replaced, as before.
    r = redis.Redis.from_url(stack.redis_url)
    broken, leading_zero, bad_ewma = new_id("cust"), new_id("cust"), new_id("cust")
    r.hset(f"attune:customer:{broken}:csat", "count", "abc")
    r.hset(f"attune:customer:{leading_zero}:csat", "count", "007")
    r.hset(f"attune:customer:{bad_ewma}:csat", mapping={"count": "1", "sum": "3", "ewma": "x"})
    for c in (broken, leading_zero, bad_ewma):
        assert post_outcomes(ingest, outcome_event(
            outcome(customer=c, resolved=True, csat=4))).status_code == 202
    reader = Records(stack.bootstrap, TOPICS["deadletter"])
    got = reader.collect(lambda m: m.key() in (broken.encode(), leading_zero.encode()), 2,
                         timeout=30)
    reader.close()
    assert len(got) == 2
    for m in got:
        assert "not an integer" in dict(m.headers())["attune-dlq-reason"].decode()
    assert r.llen(f"attune:customer:{broken}:outcomes") == 0
    assert r.hgetall(f"attune:customer:{broken}:csat") == {b"count": b"abc"}
    assert r.llen(f"attune:customer:{leading_zero}:outcomes") == 0
    deadline = time.time() + 20
    while r.llen(f"attune:customer:{bad_ewma}:outcomes") < 1 and time.time() < deadline:
        time.sleep(0.05)
    assert r.hget(f"attune:customer:{bad_ewma}:csat", "ewma") == b"4.0000"
    assert r.hget(f"attune:customer:{bad_ewma}:csat", "count") == b"2"


def test_lag_after_a_restart_counts_from_the_committed_offset(stack, base_env, log_dir, ingest):
    """A restarted stage has no position on a partition it has read nothing
    from yet: its lag counts from the group's committed offset, not from the
    start of the log (which read as a backlog of records handled long ago),
    and the stopped instance left the group, so its successor reads at once
    (about 0.2 s here; 10 s, the session, if it had not left; 45 s before).
    (Read from this instance's own metrics: another test's learn may be
    applying the same outcomes.)"""
    env = dict(base_env, ATTUNE_GROUP_ID=new_id("learn"))
    labels = f'topic="{TOPICS["outcomes"]}"'

    def wait_metric(svc, name, ok, timeout):
        deadline = time.time() + timeout
        while not ok(metric(svc, name, labels)) and time.time() < deadline:
            time.sleep(0.2)
        return metric(svc, name, labels)

    for _ in range(12):  # spread over the partitions
        assert post_outcomes(ingest, outcome_event(outcome(csat=4))).status_code == 202
    learn = Service("learn", env, log_dir).start()
    try:
        # all read and committed: the lag (sampled every 5 s) comes down to 0
        assert wait_metric(learn, "attune_records_consumed_total", lambda v: v >= 12, 40) >= 12
        assert wait_metric(learn, "attune_consumer_lag", lambda v: v == 0, 20) == 0
    finally:
        assert learn.stop() == 0, learn.log_tail()
    learn = Service("learn", env, log_dir).start()
    try:
        started = time.time()
        assert post_outcomes(ingest, outcome_event(outcome(csat=5))).status_code == 202
        assert wait_metric(learn, "attune_records_consumed_total", lambda v: v >= 1, 30) >= 1
        # the stopped instance left the group: no wait for its session (10 s)
        assert time.time() - started < 5
        time.sleep(6)  # a sample after the assignment (every 5 s)
        assert metric(learn, "attune_consumer_lag", labels) == 0
    finally:
        assert learn.stop() == 0, learn.log_tail()


def test_lag_of_a_new_group_reading_from_the_end_is_zero(stack, base_env, log_dir, ingest):
    """A new group with auto.offset.reset=latest starts at the end of each
    partition: records already in the topic are no backlog of it (they read
    as the whole topic before)."""
    for _ in range(6):
        assert post_outcomes(ingest, outcome_event(outcome(csat=3))).status_code == 202
    env = dict(base_env, ATTUNE_GROUP_ID=new_id("learn"), ATTUNE_KAFKA_AUTO_OFFSET_RESET="latest")
    labels = f'topic="{TOPICS["outcomes"]}"'
    learn = Service("learn", env, log_dir).start()
    try:
        text = ""
        deadline = time.time() + 30
        while time.time() < deadline and "attune_consumer_lag{" + labels + "} " not in text:
            text = requests.get(learn.url + "/metrics", timeout=5).text
            time.sleep(0.5)
        time.sleep(11)  # samples every 5 s: two after the group was joined
        assert metric(learn, "attune_consumer_lag", labels) == 0, learn.log_tail()
        assert metric(learn, "attune_records_consumed_total", labels) == 0
    finally:
        assert learn.stop() == 0, learn.log_tail()
