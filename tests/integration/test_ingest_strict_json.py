"""attune-ingest and the stages behind it take JSON strictly: a member name
twice in one object and the escape \\u0000 are rejected (with either, what
is validated would not be what is published); problem documents stay valid
UTF-8 and their pointers follow RFC 6901."""

import json
import subprocess

from conftest import (TOPICS, Records, cloudevent, event_value, for_customers, interaction,
                      new_id, post)

OUTCOMES = "/v1/outcomes"


def problem(resp, status, slug):
    """The problem document of resp, read as strict UTF-8."""
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    doc = json.loads(resp.content.decode("utf-8"))  # raises on invalid UTF-8
    assert doc["type"] == f"urn:attune:problem:{slug}", doc
    assert doc["status"] == status
    return doc


def outcome(customer, **facts):
    data = {"decision_id": new_id("dec"), "interaction_id": new_id("int"), "customer_id": customer}
    data.update(facts)
    return data


# 63 x "a" then "é" (2 bytes): a name one byte over the 64 bytes a problem
# document quotes, so a cut by bytes would leave half a character.
LONG_NAME = "a" * 63 + "é"


def test_long_attribute_name_is_cut_on_a_character_boundary(ingest):
    ce = cloudevent(interaction(new_id("cust"), attributes={LONG_NAME: 1}))
    doc = problem(post(ingest, ce), 400, "invalid-event")
    err = doc["errors"][0]
    assert err["pointer"] == "/data/attributes/" + "a" * 63
    assert err["field"] == "data.attributes." + "a" * 63
    assert err["detail"] == "attribute names are at most 64 bytes"
    assert doc["detail"] == "data.attributes." + "a" * 63 + ": " + err["detail"]


def test_long_unknown_field_is_cut_on_a_character_boundary(ingest):
    data = interaction(new_id("cust"))
    data[LONG_NAME] = 1
    doc = problem(post(ingest, data, content_type="application/json"), 400, "invalid-event")
    assert doc["errors"][0]["pointer"] == "/" + "a" * 63
    doc = problem(post(ingest, outcome(new_id("cust"), resolved=True, **{LONG_NAME: 1}),
                       content_type="application/json", path=OUTCOMES), 400, "invalid-outcome")
    assert doc["errors"][0]["pointer"] == "/" + "a" * 63


def test_pointer_tokens_are_escaped(ingest):
    ce = cloudevent(interaction(new_id("cust"), attributes={"a/b~c": {"x": 1}}))
    doc = problem(post(ingest, ce), 400, "invalid-event")
    assert doc["errors"][0]["pointer"] == "/data/attributes/a~1b~0c"
    assert doc["errors"][0]["field"] == "data.attributes.a/b~c"
    data = interaction(new_id("cust"))
    data["x/y"] = 1
    doc = problem(post(ingest, cloudevent(data)), 400, "invalid-event")
    assert doc["errors"][0]["pointer"] == "/data/x~1y"
    doc = problem(post(ingest, outcome(new_id("cust"), resolved=True, **{"~": 1}),
                       content_type="application/json", path=OUTCOMES), 400, "invalid-outcome")
    assert doc["errors"][0]["pointer"] == "/~0"


class Pairs(list):
    """A JSON object as a list of (name, value): it can repeat a name."""


def dumps(value) -> bytes:
    def enc(v):
        if isinstance(v, dict):
            v = Pairs(v.items())
        if isinstance(v, Pairs):
            return "{" + ",".join(json.dumps(k) + ":" + enc(x) for k, x in v) + "}"
        if isinstance(v, list):
            return "[" + ",".join(enc(x) for x in v) + "]"
        return json.dumps(v)
    return enc(value).encode()


def repeated(data: dict, name: str, value) -> Pairs:
    return Pairs(list(data.items()) + [(name, value)])


def test_repeated_customer_id_is_400(stack, ingest):
    customer = new_id("cust")
    ce = cloudevent(repeated(interaction(customer), "customer_id", 5))
    body = dumps(ce)
    assert body.count(b'"customer_id"') == 2
    doc = problem(post(ingest, None, raw=body), 400, "malformed-json")
    assert doc["detail"] == "duplicate member name at /data/customer_id"
    records = Records(stack.bootstrap, TOPICS["interactions"])
    assert records.collect(for_customers([customer]), 1, timeout=5) == []
    records.close()


def test_repeated_text_does_not_pass_the_text_limit(ingest):
    data = repeated(interaction(new_id("cust"), text="a"), "text", "x" * 9000)
    doc = problem(post(ingest, None, raw=dumps(cloudevent(data))), 400, "malformed-json")
    assert doc["detail"] == "duplicate member name at /data/text"
    doc = problem(post(ingest, None, raw=dumps(data), content_type="application/json"), 400,
                  "malformed-json")
    assert doc["detail"] == "duplicate member name at /text"


def test_repeated_members_are_400_at_any_depth(ingest):
    many = {f"m{i}": i for i in range(40)}  # past the pairwise check: names are sorted
    batch = [cloudevent(interaction(new_id("cust"))),
             cloudevent(repeated(interaction(new_id("cust")), "kind", "ended"))]
    cases = [
        (repeated(cloudevent(interaction(new_id("cust"))), "id", "other"), "/id"),
        (batch, "/1/data/kind"),
        (cloudevent(interaction(new_id("cust"), attributes=repeated(many, "m7", 0))),
         "/data/attributes/m7"),
        (cloudevent(interaction(new_id("cust")), ext={"a": [0, repeated({"b": 1}, "b", 2)]}),
         "/ext/a/1/b"),
        (cloudevent(interaction(new_id("cust"), attributes=repeated({"a/b~": 1}, "a/b~", 2))),
         "/data/attributes/a~1b~0"),
    ]
    for body, where in cases:
        is_batch = isinstance(body, list) and not isinstance(body, Pairs)
        ct = "application/cloudevents-batch+json" if is_batch else "application/cloudevents+json"
        doc = problem(post(ingest, None, raw=dumps(body), content_type=ct), 400, "malformed-json")
        assert doc["detail"] == "duplicate member name at " + where, doc
    # the same name spelt with an escape is the same name
    body = dumps(cloudevent(interaction(new_id("cust"))))
    body = body.replace(b'"kind"', b'"kind": "ended", "\\u006bind"', 1)
    doc = problem(post(ingest, None, raw=body), 400, "malformed-json")
    assert doc["detail"] == "duplicate member name at /data/kind", doc
    out = repeated(outcome(new_id("cust"), csat=1), "csat", 5)
    doc = problem(post(ingest, None, raw=dumps(out), content_type="application/json",
                       path=OUTCOMES), 400, "malformed-json")
    assert doc["detail"] == "duplicate member name at /csat"


def test_same_name_in_different_objects_is_fine(ingest):
    # "id" in the envelope and in data.attributes, "text" in data and in
    # data.attributes (extension attributes hold no objects to nest in)
    ce = cloudevent(interaction(new_id("cust"), text="hi", attributes={"id": "x", "text": "y"}))
    assert post(ingest, ce).status_code == 202


def raw(body) -> bytes:
    # json.dumps writes "\x00" as the escape \u0000
    return json.dumps(body).encode()


def test_escaped_nul_in_a_value_is_400(stack, ingest):
    customer = new_id("cust")
    ce = cloudevent(interaction(customer + "\x00evil"))
    body = raw(ce)
    assert b"\\u0000evil" in body
    doc = problem(post(ingest, None, raw=body), 400, "malformed-json")
    assert "\\u0000" in doc["detail"], doc
    # nothing produced under the part before the NUL either
    records = Records(stack.bootstrap, TOPICS["interactions"])
    assert records.collect(for_customers([customer]), 1, timeout=5) == []
    records.close()


def test_escaped_nul_anywhere_is_400(ingest):
    cases = [
        cloudevent(interaction(new_id("cust"), text="before\x00after")),
        cloudevent(interaction(new_id("cust"), attributes={"a\x00b": 1})),
        cloudevent(interaction(new_id("cust")), id="evt\x00"),
        cloudevent(interaction(new_id("cust")), ext={"deep": ["\x00"]}),
    ]
    for ce in cases:
        problem(post(ingest, None, raw=raw(ce)), 400, "malformed-json")
    bare = interaction(new_id("cust"), queue="q\x00")
    problem(post(ingest, None, raw=raw(bare), content_type="application/json"), 400,
            "malformed-json")
    out = outcome(new_id("cust"), resolved=True, decision_id="d\x00")
    problem(post(ingest, None, raw=raw(out), content_type="application/json", path=OUTCOMES),
            400, "malformed-json")
    # a backslash, then the escape
    ce = cloudevent(interaction(new_id("cust"), text="\\\x00"))
    problem(post(ingest, None, raw=raw(ce)), 400, "malformed-json")


def test_escaped_backslash_before_u0000_is_text(stack, ingest):
    customer = new_id("cust")
    text = "a\\u0000b \\\\u0000"  # backslashes, no NUL
    ce = cloudevent(interaction(customer, text=text))
    assert post(ingest, ce).status_code == 202
    records = Records(stack.bootstrap, TOPICS["interactions"])
    got = records.collect(for_customers([customer]), 1)
    records.close()
    assert len(got) == 1
    assert event_value(got[0])["data"]["text"] == text


def produce_raw(stack, key: str, value: bytes):
    subprocess.run(["kcat", "-b", stack.bootstrap, "-P", "-t", TOPICS["interactions"], "-k", key],
                   input=value, check=True, timeout=30)


def dead_letter_reasons(stack, key: str, want: int):
    dlq = Records(stack.bootstrap, TOPICS["deadletter"])
    dead = dlq.collect(lambda m: m.key() == key.encode(), want)
    dlq.close()
    assert len(dead) == want
    reasons = []
    for m in dead:
        h = {k: v.decode("utf-8") for k, v in m.headers()}
        assert h["attune-dlq-service"] == "enrich"
        reasons.append(h["attune-dlq-reason"])
    return reasons


def test_stage_dead_letters_escaped_nul_and_repeated_members(stack, ingest, enrich, enriched):
    key = new_id("cust")
    produce_raw(stack, key, raw(cloudevent(interaction(key + "\x00evil"))))
    produce_raw(stack, key, dumps(cloudevent(repeated(interaction(key), "customer_id", 5))))
    good = new_id("cust")
    assert post(ingest, cloudevent(interaction(good))).status_code == 202
    reasons = sorted(dead_letter_reasons(stack, key, 2))
    assert "\\u0000" in reasons[0], reasons
    assert reasons[1] == "duplicate member name at /data/customer_id", reasons
    assert len(enriched.collect(for_customers([good]), 1)) == 1
    assert enriched.collect(for_customers([key]), 1, timeout=2) == []
