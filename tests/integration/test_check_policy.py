"""attune-decide --check-policy: every error with its JSON pointer, exit 0
valid, 1 invalid, 2 usage; the shipped policy is valid and matches
docs/schemas/policy.schema.json."""

import json
import subprocess

from jsonschema import Draft202012Validator

from stack import REPO_ROOT

DECIDE = REPO_ROOT / "build" / "bin" / "attune-decide"
DEFAULT = REPO_ROOT / "deploy" / "policies" / "default.json"


def check(path):
    return subprocess.run([str(DECIDE), "--check-policy", str(path)], capture_output=True,
                          text=True, timeout=30)


def test_default_policy_is_valid():
    r = check(DEFAULT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "valid" in r.stdout


def test_default_policy_matches_schema():
    schema = json.loads((REPO_ROOT / "docs" / "schemas" / "policy.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    errors = list(Draft202012Validator(schema).iter_errors(json.loads(DEFAULT.read_text())))
    assert not errors, [e.message for e in errors]
    # The learning section and a rule's own success definition are in the
    # schema as well as in the loader.
    doc = json.loads(DEFAULT.read_text())
    doc["learning"] = {"bucket": ["situation.intent.label"], "control_share": 0.1,
                       "success": {"path": "outcome.csat", "op": "ge", "value": 4}}
    assert any("success" in r for r in doc["rules"])
    assert not list(Draft202012Validator(schema).iter_errors(doc))
    doc["learning"]["window"] = 3
    assert list(Draft202012Validator(schema).iter_errors(doc))


def test_every_error_with_its_pointer(tmp_path):
    doc = json.loads(DEFAULT.read_text())
    doc["floor"]["min_agent_tier"] = "intern"
    repeat = next(i for i, r in enumerate(doc["rules"]) if r["id"] == "repeat_contact")
    doc["rules"][repeat]["when"] = {"path": "situation.emotion.scores.anger", "op": "ge",
                                    "value": 0.5}
    doc["rules"][1]["set"]["routing.channel"] = "fax"
    doc["rules"][2]["when"] = {"path": "situation.urgency.level", "op": "eq", "value": "critcal"}
    doc["offers"][0]["type"] = "bribe"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    r = check(bad)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert f"{bad}: /floor/min_agent_tier: must be one of the agent_tiers" in out
    assert f"/rules/{repeat}/when: this rule sets guidance.compensation and its condition " \
           "reads situation.emotion.scores.anger" in out
    # the same rule sets a priority boost: a place in the queue is no reward for anger either
    assert f"/rules/{repeat}/when: this rule sets routing.priority_boost and its condition " \
           "reads situation.emotion.scores.anger: a place in the queue" in out
    assert "/rules/1/set/routing.channel: must be one of: stay, callback" in out
    assert "/rules/2/when/value: 'critcal' is not a value of situation.urgency.level" in out
    assert "/offers/0/type: must be one of: cross_sell, upsell, retention" in out
    assert "invalid (6 errors)" in out


def test_unknown_intent_label_is_a_warning(tmp_path):
    """An intent label the model lacks ("biling") is valid JSON of the right
    type that never matches: --check-policy names it, with the model's
    labels, and the policy stays valid (a model of one's own may have
    labels of its own, which --intent-model checks against)."""
    doc = json.loads(DEFAULT.read_text())
    doc["rules"][0]["when"] = {"any": [
        {"path": "situation.intent.label", "op": "in", "value": ["billing", "biling"]},
        {"not": {"path": "situation.intent.second", "op": "eq", "value": "cancle"}}]}
    bad = tmp_path / "typo.json"
    bad.write_text(json.dumps(doc))
    r = check(bad)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (f"{bad}: /rules/0/when/any/0/value/1: warning: intent 'biling' is no label of the "
            "intent model, so this never matches; its labels: account_access, billing,") in r.stdout
    assert f"{bad}: /rules/0/when/any/1/not/value: warning: intent 'cancle'" in r.stdout
    assert "'billing' is no label" not in r.stdout
    assert "valid (version default-1), 2 warnings" in r.stdout
    # no model: nothing to check against, said on stderr
    r = subprocess.run([str(DECIDE), "--check-policy", str(bad), "--intent-model", ""],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "warning" not in r.stdout
    assert "intent labels not checked: no intent model" in r.stderr
    # --intent-model alone is a usage error
    r = subprocess.run([str(DECIDE), "--intent-model", "x"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "goes with --check-policy" in r.stderr


def test_not_json_and_usage(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{\"version\": ")
    r = check(bad)
    assert r.returncode == 1
    assert f"{bad}: /:" in r.stdout
    assert check(tmp_path / "missing.json").returncode == 2
    r = subprocess.run([str(DECIDE), "--check-policy"], capture_output=True, text=True)
    assert r.returncode == 2
    r = subprocess.run([str(DECIDE), "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr
