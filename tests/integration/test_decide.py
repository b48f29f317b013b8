"""The whole pipeline on the real stack: ingest -> enrich -> classify ->
decide. Routing and CRM decisions, situational treatment of one customer,
protection on threats, anger never rewarded, Redis memory for the next
contact, and a policy reload that loses and duplicates nothing."""

import json
import shutil
import time
from collections import Counter

import pytest

from conftest import (TOPICS, Records, Service, admin, cloudevent, event_value, for_customers,
                      interaction, metric, new_id, post, REPO_ROOT)
from test_schemas import errors, validator_for

DEFAULT_POLICY = REPO_ROOT / "deploy" / "policies" / "default.json"


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("policy") / "policy.json"
    shutil.copy(DEFAULT_POLICY, path)
    return path


@pytest.fixture(scope="module")
def pipeline(base_env, log_dir, ingest, enrich, policy_file):
    classify = Service("classify", base_env, log_dir).start()
    decide = Service("decide", dict(base_env, ATTUNE_POLICY_FILE=str(policy_file)),
                     log_dir).start()
    yield decide
    assert decide.stop() == 0, decide.log_tail()
    classify.stop()


def decisions_for(stack, customers, want, topic="routing", timeout=60):
    r = Records(stack.bootstrap, TOPICS[topic])
    key_is_customer = topic == "crm"
    wanted = set(customers)
    got = r.collect(lambda m: event_value(m)["data"]["customer_id"] in wanted, want,
                    timeout=timeout)
    r.close()
    if key_is_customer:
        assert all(m.key().decode() in wanted for m in got)
    return got


def load(base_env, customer, profile):
    res = admin(base_env, "load-profiles", "-",
                stdin=json.dumps({"customer_id": customer, "profile": profile}) + "\n")
    assert res.returncode == 0, res.stderr


def second_contact(stack, ingest, customer, first_text, second_text, between=None):
    """Posts two contacts of a customer, the second once the first is
    decided (and remembered; between() is called then); returns the first
    event and the second's routing decision."""
    first = cloudevent(interaction(customer, text=first_text))
    assert post(ingest, first).status_code == 202
    assert len(decisions_for(stack, [customer], 1)) == 1
    time.sleep(0.5)
    if between:
        between()
    second = cloudevent(interaction(customer, text=second_text))
    assert post(ingest, second).status_code == 202
    got = [event_value(m)["data"] for m in decisions_for(stack, [customer], 2)]
    return first, next(x for x in got if x["interaction_id"] == second["data"]["interaction_id"])


def test_routing_and_crm_decisions(stack, base_env, ingest, pipeline):
    customer = new_id("cust")
    load(base_env, customer, {"tier": "gold", "segment": "leisure", "payer": "self",
                              "marketing_consent": True})
    # The probe words are ones no id, hash, time or score can spell by
    # chance (a bare "4111" once matched inside a random event id).
    secret = "my card number is 4111 1111 1111 1111 and my flight was cancelled"
    ce = cloudevent(interaction(customer, text=secret, wait_seconds=30))
    assert post(ingest, ce).status_code == 202
    routing = decisions_for(stack, [customer], 1)
    crm = decisions_for(stack, [customer], 1, topic="crm")
    assert len(routing) == 1 and len(crm) == 1
    r = event_value(routing[0])
    assert r["type"] == "attune.decision.routing.v1"
    assert r["id"] == ce["id"]
    assert routing[0].key().decode() == ce["data"]["interaction_id"]
    d = r["data"]
    for field in ("decision_id", "interaction_id", "customer_id", "situation", "routing",
                  "guidance", "policy", "reasons", "context"):
        assert field in d, field
    for field in ("queue", "priority", "skills", "agent_tier", "channel", "max_wait_seconds"):
        assert field in d["routing"], field
    assert 0 <= d["routing"]["priority"] <= 100
    assert d["policy"]["version"] == "default-1"
    assert d["context"]["tier"] == "gold"
    # the contact's own channel and event kind, so a router can tell a live
    # contact from one that ended
    assert (d["channel"], d["kind"]) == (ce["data"]["channel"], ce["data"]["kind"])
    assert all({"code", "field", "text"} <= set(x) for x in d["reasons"])
    # No customer free text on the routing topic, nor in the CRM decision.
    for probe in (b"4111 1111", b"card number", b"my flight"):
        assert probe not in routing[0].value() and probe not in crm[0].value(), probe
    assert errors(validator_for("decision-routing.schema.json"), d) == []
    c = event_value(crm[0])
    assert c["type"] == "attune.decision.crm.v1"
    assert errors(validator_for("decision-crm.schema.json"), c["data"]) == []


def test_same_customer_different_situations(stack, base_env, ingest, pipeline):
    customer = new_id("cust")
    load(base_env, customer, {"tier": "standard", "segment": "leisure", "payer": "self",
                              "marketing_consent": True})
    curt = cloudevent(interaction(customer, text="Still broken. Fix it NOW. asap!!",
                                  wait_seconds=400))
    assert post(ingest, curt).status_code == 202
    assert len(decisions_for(stack, [customer], 1)) == 1
    relaxed = cloudevent(interaction(
        customer, text="Hi, thanks for the great help last time! No rush at all, I was "
                       "wondering what other plans you have.", channel="web"))
    assert post(ingest, relaxed).status_code == 202
    got = {event_value(m)["id"]: event_value(m)["data"]
           for m in decisions_for(stack, [customer], 2)}
    a, b = got[curt["id"]]["guidance"], got[relaxed["id"]]["guidance"]
    assert a["pace"] == "brisk" and b["pace"] == "unhurried"
    assert a["apology"] != "none" and b["apology"] == "none"
    # Pressed and upset: no sales offer. Relaxed, positive, consenting: one.
    assert a["offer"]["type"] not in ("cross_sell", "upsell")
    assert b["offer"]["type"] in ("cross_sell", "upsell"), b
    assert a["offer"]["type"] != b["offer"]["type"]


def test_threat_gets_protection_and_no_compensation(stack, ingest, pipeline):
    customer = new_id("cust")
    ce = cloudevent(interaction(customer, text="I know where you live and I will hurt you"))
    assert post(ingest, ce).status_code == 202
    d = event_value(decisions_for(stack, [customer], 1)[0])["data"]
    assert d["situation"]["threat"] == "threat" or d["situation"]["threat"]["level"] == "threat"
    assert d["guidance"]["protection"] not in ("none", None)
    assert d["guidance"]["compensation"]["eligible"] is False
    assert d["guidance"]["offer"]["type"] == "none"


def test_shouting_and_polite_get_the_same_compensation(stack, base_env, ingest, pipeline):
    shouting, polite = new_id("cust"), new_id("cust")
    for c in (shouting, polite):
        load(base_env, c, {"tier": "standard", "segment": "leisure", "payer": "self"})
    texts = {
        shouting: "THIS IS RIDICULOUS!!! My refund for the cancelled order is STILL missing. "
                  "Worst service ever, I am furious!!!",
        polite: "Hello, my refund for the cancelled order is still missing. Could you "
                "please have a look? Thank you.",
    }
    for c, t in texts.items():
        assert post(ingest, cloudevent(interaction(c, text=t))).status_code == 202
    got = {event_value(m)["data"]["customer_id"]: event_value(m)["data"]
           for m in decisions_for(stack, [shouting, polite], 2)}
    s, p = got[shouting], got[polite]
    assert s["situation"]["emotion"] != p["situation"]["emotion"] or \
        s["situation"]["sentiment"] != p["situation"]["sentiment"], "the tones must differ"
    if s["situation"]["intent"] != p["situation"]["intent"]:
        pytest.skip("the classifier read different intents; the policy property test covers this")
    assert s["guidance"]["compensation"] == p["guidance"]["compensation"]


def test_decisions_are_remembered_for_the_next_contact(stack, ingest, pipeline, enriched):
    customer = new_id("cust")
    first = cloudevent(interaction(customer, text="my parcel never arrived, please email me"))
    assert post(ingest, first).status_code == 202
    assert len(decisions_for(stack, [customer], 1)) == 1
    time.sleep(0.5)
    second = cloudevent(interaction(customer, text="any news?"))
    assert post(ingest, second).status_code == 202
    got = enriched.collect(lambda m: event_value(m)["id"] == second["id"], 1)
    ctx = event_value(got[0])["data"]["context"]
    assert ctx["recent"], ctx
    rec = ctx["recent"][0]
    assert rec["interaction_id"] == first["data"]["interaction_id"]
    assert "text" not in rec and "parcel" not in json.dumps(rec)
    assert ctx["preferences"].get("channel") == "email"
    # the CRM decision of the second contact compares its sentiment with
    # the first's, as remembered
    crm = [event_value(m)["data"] for m in decisions_for(stack, [customer], 2, topic="crm")]
    trend = next(d for d in crm
                 if d["interaction_id"] == second["data"]["interaction_id"])["sentiment_trend"]
    assert trend["previous"] == [round(rec["sentiment_score"], 4)], trend
    assert trend["direction"] in ("improving", "stable", "worsening")


def test_a_vulnerability_is_remembered_for_the_next_contact(stack, base_env, ingest, pipeline):
    """Named in one contact, a bereavement is known at the next: a
    cancellation then gets care, not the retention queue and a discount."""
    customer = new_id("cust")
    load(base_env, customer, {"tier": "standard", "segment": "leisure", "payer": "self",
                              "marketing_consent": "true"})
    _, d = second_contact(stack, ingest, customer, "My wife died last week, I'm struggling a bit.",
                          "I'd like to cancel the landline please.")
    assert d["situation"]["intent"] == "cancel", d["situation"]
    assert d["situation"]["vulnerable"] is True
    assert d["routing"]["queue"] != "retention"
    assert d["guidance"]["offer"]["type"] == "none"
    assert "VULNERABLE_SUPPORT" in {r["code"] for r in d["reasons"]}


def post_burst(ingest, events, as_batch):
    """Posts events faster than the pipeline decides them: in one batch, or
    back to back without waiting for a decision."""
    if as_batch:
        r = post(ingest, events, content_type="application/cloudevents-batch+json")
        assert r.status_code == 202, r.text
    else:
        for ev in events:
            assert post(ingest, ev).status_code == 202


@pytest.mark.parametrize("as_batch", [False, True], ids=["back-to-back", "one-batch"])
def test_a_burst_is_decided_with_what_came_just_before(stack, base_env, ingest, pipeline,
                                                       as_batch):
    """Contacts posted faster than the pipeline decides them (a script, a
    burst of chat lines, one batch post): the later ones are decided with
    what the earlier ones told, not with the context enrich read before
    those were decided. A bereavement then still keeps a cancellation out
    of retention, an e-mail preference is honoured, and the CRM trend has
    the earlier scores."""
    customer = new_id("cust")
    load(base_env, customer, {"tier": "standard", "segment": "leisure", "payer": "self",
                              "marketing_consent": "true"})
    texts = ["My wife died last week, I'm struggling a bit. Please email me, don't call.",
             "I'd like to cancel the landline please.",
             "any news?"]
    events = [cloudevent(interaction(customer, text=t)) for t in texts]
    post_burst(ingest, events, as_batch)
    routing = {event_value(m)["id"]: event_value(m)["data"]
               for m in decisions_for(stack, [customer], 3)}
    crm = {event_value(m)["id"]: event_value(m)["data"]
           for m in decisions_for(stack, [customer], 3, topic="crm")}
    cancel, news = routing[events[1]["id"]], routing[events[2]["id"]]
    assert cancel["situation"]["intent"] == "cancel", cancel["situation"]
    assert cancel["situation"]["vulnerable"] is True, cancel["reasons"]
    assert cancel["routing"]["queue"] != "retention"
    assert cancel["guidance"]["offer"]["type"] == "none"
    assert news["guidance"]["preferences"].get("channel") == "email", news["guidance"]
    assert len(crm[events[2]["id"]]["sentiment_trend"]["previous"]) == 2, crm[events[2]["id"]]


def test_policy_reload_changes_decisions_without_loss(stack, ingest, pipeline, policy_file):
    customers = [new_id("cust") for _ in range(5)]
    before = [cloudevent(interaction(c, text="hello")) for c in customers]
    for ce in before:
        assert post(ingest, ce).status_code == 202
    assert len(decisions_for(stack, customers, 5)) == 5

    # An invalid policy is rejected and the running one stays.
    policy_file.write_text('{"version": "broken"')
    time.sleep(2.5)
    assert "rejected" in pipeline.log_tail(50)

    doc = json.loads(DEFAULT_POLICY.read_text())
    doc["version"] = "reloaded-2"
    doc["defaults"]["routing.queue"] = "general_v2"
    policy_file.write_text(json.dumps(doc))
    deadline = time.time() + 20
    while "reloaded-2" not in pipeline.log_tail(50) and time.time() < deadline:
        time.sleep(0.2)
    after = [cloudevent(interaction(c, text="hello again")) for c in customers]
    for ce in after:
        assert post(ingest, ce).status_code == 202
    got = decisions_for(stack, customers, 10)
    time.sleep(1)
    got += decisions_for(stack, customers, 10**6, timeout=2)[len(got):]
    counts = Counter(event_value(m)["id"] for m in got)
    assert set(counts) == {ce["id"] for ce in before + after}
    assert max(counts.values()) == 1, "a decision was duplicated"
    versions = {event_value(m)["id"]: event_value(m)["data"]["policy"]["version"] for m in got}
    assert all(versions[ce["id"]] == "default-1" for ce in before)
    assert all(versions[ce["id"]] == "reloaded-2" for ce in after)


def test_sighup_reloads_the_policy(stack, ingest, pipeline, policy_file):
    import os
    import signal

    doc = json.loads(DEFAULT_POLICY.read_text())
    doc["version"] = "hup-3"
    st = policy_file.stat()
    policy_file.write_text(json.dumps(doc))
    # Same modification time as before: only the signal can make it reload.
    os.utime(policy_file, ns=(st.st_atime_ns, st.st_mtime_ns))
    time.sleep(1.5)
    assert "hup-3" not in pipeline.log_tail(50)
    pipeline.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "hup-3" not in pipeline.log_tail(50) and time.time() < deadline:
        time.sleep(0.2)
    customer = new_id("cust")
    ce = cloudevent(interaction(customer, text="hi"))
    assert post(ingest, ce).status_code == 202
    got = decisions_for(stack, [customer], 1)
    assert event_value(got[0])["data"]["policy"]["version"] == "hup-3"
    # A SIGHUP with the file as it runs reloads nothing and warns of nothing.
    reloads = metric(pipeline, "attune_policy_reloads_total", 'result="ok"')
    pipeline.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "unchanged: version hup-3 stays" not in pipeline.log_tail(20) \
            and time.time() < deadline:
        time.sleep(0.2)
    assert "unchanged: version hup-3 stays" in pipeline.log_tail(20)
    assert "kept its version" not in pipeline.log_tail(20)
    assert metric(pipeline, "attune_policy_reloads_total", 'result="ok"') == reloads


def test_only_stated_preferences_are_remembered(stack, ingest, pipeline):
    # The classified topic may be written by others: what decide remembers
    # comes back in every later event of the customer, so it keeps only the
    # preferences attune-classify states, each a short string.
    import redis
    from confluent_kafka import Producer

    first = new_id("cust")
    assert post(ingest, cloudevent(interaction(first, text="please email me"))).status_code == 202
    r = Records(stack.bootstrap, TOPICS["classified"])
    got = r.collect(lambda m: event_value(m)["data"]["customer_id"] == first, 1)
    r.close()
    assert len(got) == 1
    ce = event_value(got[0])
    other = new_id("cust")
    ce["id"] = new_id("evt")
    ce["data"]["customer_id"] = other
    ce["data"]["interaction_id"] = new_id("int")
    ce["data"]["situation"]["preferences"] = {
        "channel": "sms", "language": "x" * 100, "note": "p" * 600000, "pace": 3}
    p = Producer({"bootstrap.servers": stack.bootstrap, "message.max.bytes": 2_000_000})
    p.produce(TOPICS["classified"], key=other, value=json.dumps(ce))
    assert p.flush(30) == 0
    assert len(decisions_for(stack, [other], 1)) == 1
    prefs = redis.Redis.from_url(stack.redis_url).hgetall(f"attune:customer:{other}:prefs")
    assert prefs == {b"channel": b"sms"}


def test_a_preference_said_now_replaces_the_one_remembered(stack, ingest, pipeline):
    """"Email me, don't call" once, "from now on please phone me instead"
    now: a callback, and the memory no longer holds both "voice" and "avoid
    voice"."""
    import redis

    customer = new_id("cust")
    key = f"attune:customer:{customer}:prefs"
    r = redis.Redis.from_url(stack.redis_url)

    def remembered_both():
        assert r.hgetall(key) == {b"channel": b"email", b"avoid_channel": b"voice"}

    _, d = second_contact(stack, ingest, customer, "Please email me, don't call me.",
                          "From now on please phone me instead.", between=remembered_both)
    assert d["routing"]["channel"] == "callback", d["reasons"]
    assert "avoid_channel" not in d["guidance"]["preferences"]
    deadline = time.time() + 10
    while r.hget(key, "avoid_channel") is not None and time.time() < deadline:
        time.sleep(0.1)
    assert r.hgetall(key) == {b"channel": b"voice"}


def test_a_request_for_this_contact_only_is_not_remembered(stack, ingest, pipeline):
    """"Email me, don't call" once, "could someone ring me back?" now: this
    contact gets its callback, the memory keeps email and no calls, and the
    CRM is not told of a learned voice preference."""
    import redis

    customer = new_id("cust")
    key = f"attune:customer:{customer}:prefs"
    r = redis.Redis.from_url(stack.redis_url)
    _, d = second_contact(stack, ingest, customer, "Please email me, don't call me.",
                          "Could someone ring me back please?")
    assert d["routing"]["channel"] == "callback", d["reasons"]
    assert d["guidance"]["preferences"]["channel"] == "voice"
    crm = [event_value(m)["data"] for m in decisions_for(stack, [customer], 2, topic="crm")]
    second = next(x for x in crm if x["interaction_id"] == d["interaction_id"])
    assert "channel" not in second["preferences_learned"], second
    time.sleep(0.5)
    assert r.hgetall(key) == {b"channel": b"email", b"avoid_channel": b"voice"}


def test_recent_list_holds_contacts_not_lines(stack, ingest, pipeline):
    """A chat of many lines is one contact on the recent list (its latest
    reading, keeping a vulnerability an earlier line named), so it does not
    push the customer's earlier contacts out; its ended event changes
    nothing."""
    import redis

    customer = new_id("cust")
    first = cloudevent(interaction(customer, text="My bill is £30 too high this month."))
    assert post(ingest, first).status_code == 202
    assert len(decisions_for(stack, [customer], 1)) == 1
    chat = new_id("int")
    lines = ["hi", "My wife died last week.", "sorry", "it's about the bill"] + \
        [f"line {i}" for i in range(8)]
    for n, text in enumerate(lines, start=2):
        ev = cloudevent(interaction(customer, interaction_id=chat, text=text))
        assert post(ingest, ev).status_code == 202
        assert len(decisions_for(stack, [customer], n)) == n
    ended = cloudevent(interaction(customer, interaction_id=chat, kind="ended"))
    assert post(ingest, ended).status_code == 202
    assert len(decisions_for(stack, [customer], len(lines) + 2)) == len(lines) + 2
    time.sleep(0.5)
    r = redis.Redis.from_url(stack.redis_url)
    recent = [json.loads(x) for x in r.lrange(f"attune:customer:{customer}:recent", 0, -1)]
    assert [x["interaction_id"] for x in recent] == [chat, first["data"]["interaction_id"]]
    assert recent[0]["vulnerable"] is True and recent[0]["kind"] == "message"


@pytest.mark.parametrize("as_batch", [False, True], ids=["back-to-back", "one-batch"])
def test_a_reply_in_a_burst_keeps_the_contact_intent(stack, ingest, pipeline, as_batch):
    """A short reply posted right behind its contact's first line (before
    that line is decided, so classify reads it alone) still keeps the
    contact's intent in its decision: decide reads the contact's record
    again and applies it."""
    customer = new_id("cust")
    chat = new_id("int")
    events = [cloudevent(interaction(customer, interaction_id=chat, text=t))
              for t in ("I was charged twice for my phone bill this month, please refund it.",
                        "yes")]
    post_burst(ingest, events, as_batch)
    routing = {event_value(m)["id"]: event_value(m)["data"]
               for m in decisions_for(stack, [customer], 2)}
    first, reply = routing[events[0]["id"]], routing[events[1]["id"]]
    assert first["situation"]["intent"] == "billing", first["situation"]
    assert reply["situation"]["intent"] == "billing", reply["situation"]
    assert reply["routing"]["queue"] == first["routing"]["queue"]


@pytest.mark.parametrize("as_batch", [False, True], ids=["one-by-one", "one-batch"])
def test_the_ended_event_sums_up_the_contact(stack, ingest, pipeline, as_batch):
    """The CRM decision of a contact's ended event carries the whole contact
    (summary.contact): how many lines, the first, last and lowest sentiment,
    the intents, the highest urgency and threat, how long it took; each
    line's decision carries the contact so far. Lines posted in one batch
    with the ended event are summed up the same."""
    customer = new_id("cust")
    chat = new_id("int")
    t0 = time.time() - 300
    at = [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + s)) for s in (0, 30, 60, 95)]
    texts = ["I was charged twice for my bill this month and nobody has fixed it.",
             "You are a useless idiot, I want to cancel my account right now.",
             "ok thanks, that sorts it"]
    events = [cloudevent(interaction(customer, interaction_id=chat, text=t, occurred_at=a))
              for t, a in zip(texts, at)]
    events.append(cloudevent(interaction(customer, interaction_id=chat, kind="ended",
                                         occurred_at=at[3])))
    if as_batch:
        r = post(ingest, events, content_type="application/cloudevents-batch+json")
        assert r.status_code == 202, r.text
    else:
        for n, ev in enumerate(events, start=1):
            assert post(ingest, ev).status_code == 202
            assert len(decisions_for(stack, [customer], n)) == n
    crm = {event_value(m)["id"]: event_value(m)["data"]
           for m in decisions_for(stack, [customer], 4, topic="crm")}
    so_far = [crm[ev["id"]]["summary"]["contact"] for ev in events]
    assert [c["lines"] for c in so_far] == [1, 2, 3, 3], so_far
    end = so_far[3]
    assert end["ended"] is True and not any(c["ended"] for c in so_far[:3])
    assert end["started_at"] == at[0] and end["duration_s"] == 95, end
    assert end["sentiment"]["first"] < 0 and end["sentiment"]["last"] > 0, end
    assert end["sentiment"]["lowest"] <= end["sentiment"]["first"], end
    assert {"billing", "cancel"} <= set(end["intents"]), end
    assert end["highest_threat"] == "abuse", end
    assert "twice" not in json.dumps(end) and "idiot" not in json.dumps(end)
    # it ended well: no recovery follow-up
    assert not [f for f in crm[events[3]["id"]]["follow_ups"] if f["type"] == "service_recovery"]


def test_a_contact_that_ends_unhappy_gets_a_recovery_follow_up(stack, ingest, pipeline):
    """The shipped policy's ended_unhappy: a contact whose last line was
    still unhappy gets a service-recovery follow-up on its ended event's CRM
    decision (and none on its lines)."""
    customer = new_id("cust")
    chat = new_id("int")
    events = [cloudevent(interaction(customer, interaction_id=chat, text=t))
              for t in ("My parcel never arrived and nobody answers my emails.",
                        "This is useless, I'm really disappointed and fed up with you.")]
    events.append(cloudevent(interaction(customer, interaction_id=chat, kind="ended")))
    for n, ev in enumerate(events, start=1):
        assert post(ingest, ev).status_code == 202
        assert len(decisions_for(stack, [customer], n)) == n
    crm = {event_value(m)["id"]: event_value(m)["data"]
           for m in decisions_for(stack, [customer], 3, topic="crm")}
    ended = crm[events[2]["id"]]
    assert ended["summary"]["contact"]["sentiment"]["last"] <= -0.3, ended["summary"]
    recovery = [f for f in ended["follow_ups"] if f["type"] == "service_recovery"]
    assert recovery and recovery[0]["code"] == "ENDED_UNHAPPY", ended["follow_ups"]
    for ev in events[:2]:
        assert not [f for f in crm[ev["id"]]["follow_ups"] if f["type"] == "service_recovery"]


def test_a_line_with_no_need_of_its_own_keeps_the_contact_intent(stack, ingest, pipeline):
    """In a chat about a bill, "yes" and "I did." stay billing (the intent of
    the contact's record on the recent list), so the chat is not sent to
    another queue; a new need said later is read as itself."""
    customer = new_id("cust")
    chat = new_id("int")
    lines = ["I was charged twice for my subscription this month, please refund one of them.",
             "yes", "I did.",
             "Also my card was stolen yesterday, please block it"]
    decided = []
    for n, text in enumerate(lines, start=1):
        ev = cloudevent(interaction(customer, interaction_id=chat, text=text))
        assert post(ingest, ev).status_code == 202
        got = decisions_for(stack, [customer], n)
        assert len(got) == n
        decided = [event_value(m)["data"] for m in got]
        time.sleep(0.5)  # the record of this line is on the recent list
    intents = [d["situation"]["intent"] for d in decided]
    assert intents == ["billing", "billing", "billing", "fraud_security"], intents
    assert decided[1]["routing"]["queue"] == decided[0]["routing"]["queue"]
    assert decided[1]["situation"]["intent_confidence"] == 0.5
    classified = Records(stack.bootstrap, TOPICS["classified"])
    evidence = [event_value(m)["data"]["situation"]["evidence"] for m in
                classified.collect(lambda m: event_value(m)["data"]["customer_id"] == customer,
                                   len(lines), timeout=30)]
    classified.close()
    carried = [any(e["rule"] == "contact_intent" for e in ev) for ev in evidence]
    assert sorted(carried) == [False, False, True, True], carried


def test_recent_list_one_record_a_contact_in_a_batch_and_interleaved(stack, ingest, pipeline):
    """Lines of one chat posted in one batch (decided together) make one
    record; a contact whose lines interleave with another's keeps its own
    record, and the other's is not overwritten."""
    import redis

    customer = new_id("cust")
    chat_a, chat_b = new_id("int"), new_id("int")
    batch = [cloudevent(interaction(customer, interaction_id=chat_a, text=t))
             for t in ["hello", "my husband passed away last month", "the bill is in his name"]]
    r = post(ingest, batch, content_type="application/cloudevents-batch+json")
    assert r.status_code == 202, r.text
    assert len(decisions_for(stack, [customer], 3)) == 3
    b1 = cloudevent(interaction(customer, interaction_id=chat_b, text="my router is broken"))
    assert post(ingest, b1).status_code == 202
    assert len(decisions_for(stack, [customer], 4)) == 4
    a4 = cloudevent(interaction(customer, interaction_id=chat_a, text="thanks, that's all"))
    assert post(ingest, a4).status_code == 202
    decided = {event_value(m)["id"]: event_value(m)["data"]["decision_id"]
               for m in decisions_for(stack, [customer], 5)}
    time.sleep(0.5)
    red = redis.Redis.from_url(stack.redis_url)
    recent = [json.loads(x) for x in red.lrange(f"attune:customer:{customer}:recent", 0, -1)]
    assert [x["interaction_id"] for x in recent] == [chat_b, chat_a], recent
    assert recent[1]["vulnerable"] is True and recent[1]["decision_id"] == decided[a4["id"]]
    assert recent[0]["decision_id"] == decided[b1["id"]]
