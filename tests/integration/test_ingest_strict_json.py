"""attune-ingest and the stages behind it take JSON strictly: problem
documents stay valid UTF-8 and their pointers follow RFC 6901."""

import json

from conftest import cloudevent, interaction, new_id, post

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
