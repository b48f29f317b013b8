"""attune-ingest and the stages behind it take JSON strictly: the escape
\\u0000 is rejected (cJSON would cut the string there, so what is validated
would not be what is stored); problem documents stay valid UTF-8 and their
pointers follow RFC 6901."""

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


def test_stage_dead_letters_an_escaped_nul(stack, ingest, enrich, enriched):
    key = new_id("cust")
    produce_raw(stack, key, raw(cloudevent(interaction(key + "\x00evil"))))
    good = new_id("cust")
    assert post(ingest, cloudevent(interaction(good))).status_code == 202
    reasons = dead_letter_reasons(stack, key, 1)
    assert "\\u0000" in reasons[0], reasons
    assert len(enriched.collect(for_customers([good]), 1)) == 1
    assert enriched.collect(for_customers([key]), 1, timeout=2) == []
