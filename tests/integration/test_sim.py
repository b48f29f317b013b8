"""attune-sim over a fixture mix of interactions: the floor is met for every
customer, no sales offer reaches a distressed, vulnerable or non-consenting
customer, anger does not buy compensation, threats get protection, the
decisions match docs/schemas/decision-routing.schema.json and carry no text,
and --compare reports the differences between two policies."""

import json
import os
import subprocess

from jsonschema import Draft202012Validator

from stack import REPO_ROOT

SIM = REPO_ROOT / "build" / "bin" / "attune-sim"
DEFAULT = REPO_ROOT / "deploy" / "policies" / "default.json"

PROFILES = [
    {"tier": "standard", "segment": "leisure", "payer": "self", "marketing_consent": True},
    {"tier": "gold", "segment": "business", "payer": "employer", "marketing_consent": True},
    {"tier": "platinum", "segment": "key_account", "payer": "employer", "value": 98000},
    {"tier": "standard", "segment": "leisure", "payer": "self", "marketing_consent": True,
     "vulnerable": True},
    {"tier": "silver", "segment": "leisure", "payer": "self", "marketing_consent": False},
]
TEXTS = [
    "This is the THIRD time I call, still no refund. Fix it right now!!",
    "Hi! Just wondering what upgrades you offer for my plan, no rush :)",
    "I'm really worried, I think someone used my card without permission",
    "Thanks so much, that solved it. Have a lovely day :)",
    "I want to cancel my subscription, it is too expensive",
    "you are a useless idiot",
    "I will find you and hurt you",
    "My flight was cancelled and I need a new one asap",
    "Please don't call me, email is better. How do I change my address?",
    "I am furious, this is a disgrace, I want compensation",
    "Could you explain the charges on my bill? I'm confused",
]


def fixture_events(path):
    n = 0
    with open(path, "w") as f:
        for i, text in enumerate(TEXTS):
            for j, prof in enumerate(PROFILES):
                ev = {"interaction_id": f"i-{i}-{j}", "customer_id": f"c-{j}", "channel":
                      ["chat", "voice", "email"][(i + j) % 3], "kind": "message", "text": text,
                      "wait_seconds": (i * 97 + j * 131) % 900,
                      "context": {"status": "ok", "profile": prof,
                                  "contacts_24h": 1 + (i + j) % 3, "contacts_7d": 1 + (i * j) % 5}}
                f.write(json.dumps(ev) + "\n")
                n += 1
    return n


def run(*args):
    env = dict(os.environ, ATTUNE_DATA_DIR=str(REPO_ROOT / "deploy" / "data"))
    r = subprocess.run([str(SIM), *map(str, args)], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_sim_report_on_fixture_mix(tmp_path):
    events = tmp_path / "events.jsonl"
    n = fixture_events(events)
    out = tmp_path / "decisions.jsonl"
    rep = run("--policy", DEFAULT, "--events", events, "--decisions-out", out)
    assert rep["events"] == n and rep["errors"] == 0
    p = rep["policy"]
    assert p["decisions"] == n
    assert p["floor"]["met_share"] == 1
    for group in list(p["by_tier"].values()) + list(p["by_segment"].values()):
        assert group["floor_met_share"] == 1
        assert group["max_wait_seconds"]["max"] <= p["floor"]["max_wait_seconds"]
        assert group["priority"]["min"] >= p["floor"]["min_priority"]
    assert set(p["by_tier"]) == {"standard", "gold", "platinum", "silver"}
    offers = p["offers"]
    assert offers["sales_to_distressed"] == 0
    assert offers["sales_to_vulnerable"] == 0
    assert offers["sales_to_non_consenting"] == 0
    assert p["protection"]["threats"] >= 1
    assert p["protection"]["threats_protected_share"] == 1
    assert p["protection"]["abuse_protected_share"] == 1
    rho = p["anger_compensation_spearman"]
    assert rho is None or rho < 0.3
    for field in ("routing.queue", "guidance.pace", "guidance.offer.type", "guidance.protection"):
        assert sum(p["counts"][field].values()) == n
    assert len(p["counts"]["guidance.pace"]) >= 2

    schema = json.loads((REPO_ROOT / "docs" / "schemas" /
                         "decision-routing.schema.json").read_text())
    validator = Draft202012Validator(schema)
    lines = out.read_text().splitlines()
    assert len(lines) == n
    for line in lines:
        d = json.loads(line)
        errors = list(validator.iter_errors(d))
        assert not errors, [e.message for e in errors]
        for text in TEXTS:
            assert text not in line
        assert d["routing"]["max_wait_seconds"] <= 300


def test_sim_is_deterministic_and_compares(tmp_path):
    events = tmp_path / "events.jsonl"
    fixture_events(events)
    strict = json.loads(DEFAULT.read_text())
    strict["version"] = "strict-1"
    strict["floor"]["max_wait_seconds"] = 120
    for rule in strict["rules"]:
        if rule["set"].get("routing.max_wait_seconds", 0) > 120:
            rule["set"]["routing.max_wait_seconds"] = 120
    other = tmp_path / "strict.json"
    other.write_text(json.dumps(strict))
    a = run("--policy", DEFAULT, "--events", events)
    b = run("--policy", DEFAULT, "--events", events)
    assert a == b
    # a replayed decision is dated at its event, not at 1970 or at now
    out = tmp_path / "dated.jsonl"
    run("--policy", DEFAULT, "--events", events, "--decisions-out", out)
    occurred = {}
    for line in events.read_text().splitlines():
        ev = json.loads(line)
        occurred[ev.get("interaction_id")] = ev.get("occurred_at")
    dated = [json.loads(x) for x in out.read_text().splitlines()]
    assert dated
    from datetime import datetime

    def at(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    for d in dated:
        want = occurred.get(d["interaction_id"])
        if want:
            assert at(d["decided_at"]) == at(want), (d["decided_at"], want)
    rep = run("--policy", DEFAULT, "--events", events, "--compare", other)
    cmp = rep["compare"]
    assert cmp["policy"]["version"] == "strict-1"
    assert cmp["policy"]["floor"]["met_share"] == 1
    assert cmp["counts_delta"]["routing.queue"] == {}
    assert cmp["decisions_changed"] > 0
    assert 0 < cmp["fields_changed"]["routing.max_wait_seconds"] <= cmp["decisions_changed"]
    assert cmp["counts_delta"]["routing.max_wait_seconds"]["120"] > 0
    by_tier = cmp["policy"]["by_tier"]
    assert all(g["max_wait_seconds"]["max"] <= 120 for g in by_tier.values())


def test_sim_replays_outcomes_and_learning_converges(tmp_path):
    """--learn: variant direct succeeds 70% of the time and warm 40%;
    Thompson sampling moves most picks to direct, the control share keeps
    picking both, and the floor still holds for every decision."""
    policy = json.loads(DEFAULT.read_text())
    policy["version"] = "trial-1"
    policy["rules"].append({
        "id": "tone_trial", "code": "TONE_TRIAL", "reason": "which tone works", "priority": 900,
        "variants": [{"name": "warm", "set": {"guidance.tone": "warm"}},
                     {"name": "direct", "set": {"guidance.tone": "direct"}}]})
    policy["learning"] = {"control_share": 0.1,
                          "bucket": ["channel"]}  # one bucket per channel: all chat here
    ppath = tmp_path / "trial.json"
    ppath.write_text(json.dumps(policy))
    events = tmp_path / "events.jsonl"
    with open(events, "w") as f:
        for i, text in enumerate(TEXTS * 10):
            f.write(json.dumps({"interaction_id": f"i-{i}", "customer_id": f"c-{i % 13}",
                                "channel": "chat", "text": text,
                                "context": {"profile": PROFILES[i % len(PROFILES)]}}) + "\n")
    out = tmp_path / "decisions.jsonl"
    rep = run("--policy", str(ppath), "--events", str(events), "--learn",
              "warm=0.4,direct=0.7", "--rounds", "4", "--seed", "5",
              "--decisions-out", str(out))
    learning = rep["learning"]
    assert learning["decisions_with_variants"] == 4 * len(TEXTS) * 10
    tenths = learning["picks_per_tenth"]
    assert len(tenths) == 10
    late = sum(t.get("direct", 0) for t in tenths[-3:])
    total = sum(sum(t.values()) for t in tenths[-3:])
    assert late / total > 0.75, tenths
    assert sum(t.get("warm", 0) for t in tenths[-3:]) > 0  # the control group
    assert rep["policy"]["floor"]["met_share"] == 1.0
    # Same seed, same run.
    again = run("--policy", str(ppath), "--events", str(events), "--learn",
                "warm=0.4,direct=0.7", "--rounds", "4", "--seed", "5")
    assert again["learning"] == learning
    for line in out.read_text().splitlines():
        d = json.loads(line)
        choice = d["policy"]["choices"][0]
        assert choice["rule"] == "tone_trial" and choice["method"] in ("thompson", "control")


def test_sim_refuses_a_variant_the_policy_does_not_have(tmp_path):
    """A misspelt variant would be a coin (0.5) without a word."""
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"interaction_id": "i-1", "customer_id": "c-1",
                                  "channel": "chat", "text": "hi"}) + "\n")
    env = dict(os.environ, ATTUNE_DATA_DIR=str(REPO_ROOT / "deploy" / "data"))
    for spec, said in (("direct=0.7", "no rule of"),
                       ("relaxed_positive:direct=0.7", "rule 'relaxed_positive' of")):
        r = subprocess.run([str(SIM), "--policy", str(DEFAULT), "--events", str(events),
                            "--learn", spec], capture_output=True, text=True, env=env,
                           timeout=120)
        assert r.returncode == 2 and said in r.stderr and "'direct'" in r.stderr, r.stderr
    run("--policy", DEFAULT, "--events", events, "--learn",
        "relaxed_positive:upgrade_first=0.7,cross_sell_only=0.4")


# The same need said calmly and said in anger (swearing, insults, shouting,
# exclamation marks): the anger must buy nothing, not a place in the queue,
# not a better agent, not more compensation (policy.md, "Anger is not
# rewarded"; classifier.md, urgency).
CALM_ANGRY = [
    ("my flight is tomorrow and the e-ticket has not arrived",
     "you useless idiots, my flight is tomorrow and the e-ticket has not arrived!!!"),
    ("the app crashed again, I need it for work today",
     "the bloody app crashed again, I need it for work today, for fuck's sake"),
    ("my internet has been down since Monday",
     "I am absolutely furious, my internet has been down since Monday!!! This is a disgrace"),
    ("the parcel was marked delivered but it is not here",
     "what a joke, the parcel was marked delivered but it is not here, are you all brain dead?"),
    ("I was charged twice for the same order, please refund one of them",
     "I was charged twice for the same order, refund one of them you thieving morons!!!"),
    ("the engineer did not turn up this morning, can you rebook him",
     "the damn engineer did not turn up this morning, can you rebook him, pathetic"),
    ("my card was declined at the till although there is money in the account",
     "FFS my card was declined at the till although there is money in the account!!!"),
    ("the rent is due on Friday and my salary payment is stuck as pending",
     "Shut up and listen. The rent is due on Friday and my salary payment is stuck as "
     "pending. Are you too thick to understand?"),
    # insisting is no reason either
    ("the refund for the jacket I returned has not arrived, could you look into it please",
     "the refund for the jacket I returned has not arrived. Refund it immediately. "
     "Sort it out NOW."),
    ("the car rental app will not unlock the car at the pickup bay, could someone help",
     "your crap app will not unlock the car at the pickup bay. Fix it right now!!!"),
]


def test_anger_buys_no_priority(tmp_path):
    events = tmp_path / "events.jsonl"
    prof = {"tier": "standard", "segment": "leisure", "payer": "self", "marketing_consent": True}
    with open(events, "w") as f:
        for i, pair in enumerate(CALM_ANGRY):
            for c, (channel, wait) in enumerate((("chat", 0), ("email", 0), ("voice", 200))):
                for k, text in enumerate(pair):
                    f.write(json.dumps({
                        "interaction_id": f"p{i}-{c}-{k}", "customer_id": f"c-{i}",
                        "channel": channel, "kind": "message", "text": text,
                        "wait_seconds": wait,
                        "context": {"status": "ok", "profile": prof, "contacts_24h": 1,
                                    "contacts_7d": 1}}) + "\n")
    out = tmp_path / "decisions.jsonl"
    run("--policy", DEFAULT, "--events", events, "--decisions-out", out)
    got = {}
    for line in out.read_text().splitlines():
        d = json.loads(line)
        got[d["interaction_id"]] = d
    assert len(got) == len(CALM_ANGRY) * 3 * 2
    boosted = 0
    for i in range(len(CALM_ANGRY)):
        for c in range(3):
            calm, angry = got[f"p{i}-{c}-0"], got[f"p{i}-{c}-1"]
            for field in ("priority", "max_wait_seconds", "queue", "agent_tier"):
                assert angry["routing"][field] == calm["routing"][field], \
                    (CALM_ANGRY[i][1], field, calm["routing"], angry["routing"])
            # the same channel, except that abuse of staff gets no callback
            want = calm["routing"]["channel"]
            if angry["guidance"]["protection"] != "none" and want == "callback":
                want = "stay"
            assert angry["routing"]["channel"] == want, (CALM_ANGRY[i][1], angry["routing"])
            ca, cc = angry["guidance"]["compensation"], calm["guidance"]["compensation"]
            assert ca["cap"] <= cc["cap"] and (cc["eligible"] or not ca["eligible"])
            boosted += calm["routing"]["priority"] > 50
    # the pairs hold real time pressure: the test is not vacuous
    assert boosted >= 3


def decisions_for(tmp_path, events):
    path = tmp_path / "events.jsonl"
    with open(path, "w") as f:
        for ev in events:
            f.write(json.dumps(ev) + "\n")
    out = tmp_path / "decisions.jsonl"
    run("--policy", DEFAULT, "--events", path, "--decisions-out", out)
    return {d["interaction_id"]: d for d in map(json.loads, out.read_text().splitlines())}


def codes(d, field):
    return {r["code"] for r in d["reasons"] if r.get("field") == field}


def test_default_policy_honours_pace_channel_tier_and_danger(tmp_path):
    std = {"tier": "standard", "segment": "residential", "payer": "self",
           "marketing_consent": True}
    key = {"tier": "platinum", "segment": "key_account", "payer": "employer", "value": 90000}

    def ev(iid, text, channel="chat", wait=0, prof=std):
        return {"interaction_id": iid, "customer_id": "c-" + iid, "channel": channel,
                "kind": "message", "text": text, "wait_seconds": wait,
                "context": {"status": "ok", "profile": prof, "contacts_24h": 1,
                            "contacts_7d": 1}}
    got = decisions_for(tmp_path, [
        # a slow pace asked for wins over the brisk pace of time pressure
        ev("slow", "please slow down, I'm not good with computers and I need this sorted today",
           channel="voice", wait=400),
        # a written channel asked for: no callback however long the wait
        ev("written", "Any news on my refund? I need it by Friday at the latest. Please email me.",
           wait=400),
        ev("callback", "Any news on my refund? I need it by Friday at the latest.", wait=400),
        # a key account keeps its expert when a repeat contact asks for a senior
        ev("key", "I've been on hold for 45 minutes, this is the third time I'm calling, "
           "I just need my PIN reset.", channel="voice", wait=2700, prof=key),
        # danger first, by e-mail too
        ev("gas", "I can smell gas in my kitchen", channel="email"),
        ev("plain", "I would like to update my address", channel="email"),
    ])
    assert got["slow"]["guidance"]["pace"] == "unhurried"
    assert "PREFERENCE_SLOW_PACE" in codes(got["slow"], "guidance.pace")
    assert got["callback"]["routing"]["channel"] == "callback"
    assert got["written"]["routing"]["channel"] == "stay"
    assert got["key"]["routing"]["agent_tier"] == "expert"
    assert codes(got["key"], "routing.agent_tier") == {"KEY_ACCOUNT"}
    assert "REPEAT_CONTACT" in codes(got["key"], "guidance.apology")
    gas, plain = got["gas"], got["plain"]
    assert gas["situation"]["urgency"]["level"] == "critical"
    assert "DANGER_FIRST" in codes(gas, "routing.priority")
    assert "emergency" in gas["routing"]["skills"]
    assert gas["routing"]["priority"] >= plain["routing"]["priority"] + 30


def test_default_policy_cares_for_the_vulnerable_and_rewards_no_threat(tmp_path):
    """A scenario review's findings: a bereaved customer closing an account,
    a customer in crisis who mentions cancelling, and one who names a
    vulnerability get care, not a retention pitch, a sale or a brisk pace; a
    threat to staff buys no place in the queue."""
    prof = {"tier": "standard", "segment": "leisure", "payer": "self",
            "marketing_consent": True}

    def ev(iid, text, channel="chat", wait=0):
        return {"interaction_id": iid, "customer_id": "c-" + iid, "channel": channel,
                "kind": "message", "text": text, "wait_seconds": wait,
                "context": {"status": "ok", "profile": prof, "contacts_24h": 1,
                            "contacts_7d": 1}}
    got = decisions_for(tmp_path, [
        ev("bereaved", "My husband passed away last week. Please close his account and stop "
           "the payments."),
        ev("crisis", "I've got the pills lined up. just wanted to cancel my account first so "
           "my family isn't billed"),
        ev("cancel", "Please close my account and stop the payments."),
        ev("thanks", "Thank you, the nurse on your helpline was wonderful. Sadly my husband "
           "died this morning."),
        ev("abuse", "you are a useless thick cow, put someone with a brain on"),
        ev("fraud", "you useless idiots, someone has emptied my account and you did nothing"),
        ev("calm", "if my refund isn't in by friday I'll be very disappointed", channel="voice"),
        ev("threat", "if my refund isn't in by friday I'm coming down there and I will hurt you",
           channel="voice"),
    ])
    b, c, plain = got["bereaved"], got["crisis"], got["cancel"]
    assert plain["routing"]["queue"] == "retention"  # the rule still works for others
    for d in (b, c):
        assert d["routing"]["queue"] != "retention", d["routing"]
        assert d["guidance"]["offer"]["type"] == "none", d["guidance"]
    assert b["situation"]["vulnerable"] is True
    assert b["guidance"]["pace"] == "unhurried"
    assert "vulnerability_trained" in b["routing"]["skills"]
    assert c["situation"]["urgency"]["level"] == "critical"
    assert "DANGER_FIRST" in codes(c, "routing.priority")
    assert got["thanks"]["guidance"]["offer"]["type"] not in ("cross_sell", "upsell")
    # abuse read as fraud by a word ("someone") wins no fraud desk; fraud
    # said with abuse still goes there
    assert got["abuse"]["routing"]["queue"] != "fraud"
    assert got["abuse"]["routing"]["priority"] == 50
    assert got["fraud"]["routing"]["queue"] == "fraud"
    calm, threat = got["calm"], got["threat"]
    assert threat["situation"]["threat"] == "threat"
    assert threat["guidance"]["protection"] == "protection_flow"
    assert threat["routing"]["priority"] <= calm["routing"]["priority"]
