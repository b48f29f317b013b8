"""The published contracts (docs/schemas/*.json, docs/openapi.yaml) against
what the services really accept and emit, on the real broker and Redis."""

from __future__ import annotations

import copy
import json

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conftest import (TOPICS, Records, admin, cloudevent, event_value, for_customers,
                      interaction, new_id, post)
from stack import REPO_ROOT

DOCS = REPO_ROOT / "docs"
SCHEMA_DIR = DOCS / "schemas"
SCHEMA_FILES = sorted(SCHEMA_DIR.glob("*.schema.json"))
# Relative references in the OpenAPI document resolve against this base, to
# the same URIs as the schemas' own $id.
OPENAPI_BASE = "https://attune.example/openapi.yaml"


def load_schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text())


def registry() -> Registry:
    resources = []
    for path in SCHEMA_FILES:
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=registry())


def validator_for(name: str) -> Draft202012Validator:
    return validator(load_schema(name))


def errors(v: Draft202012Validator, instance) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in v.iter_errors(instance)]


def openapi() -> dict:
    return yaml.safe_load((DOCS / "openapi.yaml").read_text())


def openapi_validator(*path: str) -> Draft202012Validator:
    """A validator for the schema at path inside the OpenAPI document, whose
    references resolve as they do for an OpenAPI tool."""
    pointer = "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)
    doc = Resource.from_contents(openapi(), default_specification=DRAFT202012)
    return Draft202012Validator({"$ref": f"{OPENAPI_BASE}#/{pointer}"},
                                registry=registry().with_resource(OPENAPI_BASE, doc))


def event_response(doc: dict, status: str) -> dict:
    return doc["paths"]["/v1/events"]["post"]["responses"][status]


# --- the documents themselves ---------------------------------------------------


def test_schema_files_are_valid_2020_12_schemas():
    names = {p.name for p in SCHEMA_FILES}
    assert {"interaction.schema.json", "cloudevent-interaction.schema.json",
            "enriched.schema.json", "problem.schema.json"} <= names
    ids = set()
    for path in SCHEMA_FILES:
        schema = json.loads(path.read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", path.name
        Draft202012Validator.check_schema(schema)
        assert schema["$id"].endswith("/" + path.name), path.name
        ids.add(schema["$id"])
        v = validator(schema)
        for example in schema.get("examples", []):
            assert not errors(v, example), (path.name, errors(v, example))
    assert len(ids) == len(SCHEMA_FILES)


def test_openapi_parses_and_references_resolve():
    doc = openapi()
    assert doc["openapi"].startswith("3.1")
    assert {"/v1/events", "/healthz", "/readyz", "/metrics"} <= set(doc["paths"])
    post_op = doc["paths"]["/v1/events"]["post"]
    assert set(post_op["requestBody"]["content"]) == {
        "application/cloudevents+json", "application/cloudevents-batch+json",
        "application/json"}
    assert {"202", "400", "401", "413", "415", "503"} <= set(post_op["responses"])
    assert "Retry-After" in post_op["responses"]["503"]["headers"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"

    refs = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    refs.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    assert refs
    for ref in refs:
        target, _, fragment = ref.partition("#")
        node = doc if not target else json.loads((DOCS / target).read_text())
        for part in filter(None, fragment.split("/")):
            node = node[part]
        assert node, ref
    for status, resp in post_op["responses"].items():
        for media, content in resp.get("content", {}).items():
            Draft202012Validator.check_schema(content["schema"])
            if "example" in content:
                v = openapi_validator("paths", "/v1/events", "post", "responses", status,
                                      "content", media, "schema")
                assert not errors(v, content["example"]), (status, media)


# --- what ingest writes to attune.interactions.v1 ----------------------------------


def test_records_on_interactions_topic_match_the_cloudevent_schema(stack, ingest):
    v = validator_for("cloudevent-interaction.schema.json")
    accepted = openapi_validator("components", "schemas", "Accepted")
    customer = new_id("cust")
    full = cloudevent(interaction(customer, text="where is my refund?", wait_seconds=12.5,
                                  queue="billing", language="en",
                                  attributes={"order": "A-1", "items": 2, "vip": False,
                                              "note": None}),
                      time="2026-11-22T10:00:00.250+01:00", subject="order/A-1")
    minimal = cloudevent(interaction(customer))
    del minimal["datacontenttype"]
    batch = [cloudevent(interaction(customer, kind="started")),
             cloudevent(interaction(customer, kind="ended", text=None))]
    bare = interaction(customer, channel="voice", kind="transcript", text="it broke again")

    bodies = []
    for body, ctype, headers in [
            (full, "application/cloudevents+json", None),
            (minimal, "application/cloudevents+json", None),
            (batch, "application/cloudevents-batch+json", None),
            (bare, "application/json", {"Idempotency-Key": new_id("idem")}),
            (full, "application/cloudevents+json", None)]:  # a duplicate
        resp = post(ingest, body, content_type=ctype, headers=headers)
        assert resp.status_code == 202, resp.text
        assert resp.headers["Content-Type"].startswith("application/json")
        assert not errors(accepted, resp.json()), resp.json()
        bodies.append(resp.json())
    assert bodies[-1]["duplicate_ids"] == [full["id"]]
    assert bodies[2]["accepted"] == 2 and bodies[2]["duplicates"] == 0

    records = Records(stack.bootstrap, TOPICS["interactions"])
    try:
        got = records.collect(for_customers([customer]), 5)
    finally:
        records.close()
    assert len(got) == 5
    for m in got:
        value = event_value(m)
        assert not errors(v, value), (value, errors(v, value))
        assert m.key() == value["data"]["customer_id"].encode()
        assert dict(m.headers())["content-type"] == b"application/cloudevents+json"
    wrapped = [event_value(m) for m in got if event_value(m)["source"] == "/attune/ingest"]
    assert len(wrapped) == 1 and wrapped[0]["id"] == bodies[3]["ids"][0]


# --- what enrich writes to attune.interactions.enriched.v1 ------------------------------


def test_enriched_records_match_the_enriched_schema(base_env, ingest, enrich, enriched):
    v = validator_for("enriched.schema.json")
    known, unknown = new_id("cust"), new_id("cust")
    line = {"customer_id": known,
            "profile": {"tier": "gold", "value": 1200.5, "segment": "business",
                        "payer": "employer", "marketing_consent": True, "vulnerable": False,
                        "language": "en", "crm_owner": "team-7"},
            "preferences": {"channel": "email", "contact_time": "after 17:00"}}
    res = admin(base_env, "load-profiles", "-", stdin=json.dumps(line) + "\n")
    assert res.returncode == 0, res.stderr
    events = [cloudevent(interaction(known, text="hello", attributes={"k": 1}),
                         subject="ticket/9"),
              cloudevent(interaction(unknown, channel="email", kind="started"))]
    for ce in events:
        assert post(ingest, ce).status_code == 202
    got = enriched.collect(for_customers([known, unknown]), 2)
    assert len(got) == 2
    by_id = {event_value(m)["id"]: event_value(m) for m in got}
    for ce in events:
        value = by_id[ce["id"]]
        assert not errors(v, value), (value, errors(v, value))
        assert value["source"] == ce["source"]
    ctx = by_id[events[0]["id"]]["data"]["context"]
    assert ctx["status"] == "ok"
    assert ctx["profile"]["value"] == 1200.5 and ctx["profile"]["crm_owner"] == "team-7"
    assert by_id[events[0]["id"]]["subject"] == "ticket/9"
    assert by_id[events[1]["id"]]["data"]["context"]["status"] == "unknown_customer"


def test_enriched_schema_describes_the_unavailable_context():
    v = validator_for("enriched.schema.json")
    data = dict(interaction("cust-x"), context={
        "status": "unavailable",
        "profile": {"tier": "standard", "value": 0, "segment": "unknown", "payer": "unknown",
                    "marketing_consent": False, "vulnerable": False},
        "preferences": {}, "recent": [], "contacts_24h": None, "contacts_7d": None})
    event = {"specversion": "1.0", "id": "e1", "source": "/s",
             "type": "attune.interaction.enriched.v1", "time": "2026-11-22T10:00:00.000Z",
             "datacontenttype": "application/json",
             "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
             "data": data}
    assert not errors(v, event)
    wrong = copy.deepcopy(event)
    wrong["data"]["context"]["contacts_24h"] = 3
    assert errors(v, wrong)
    wrong = copy.deepcopy(event)
    wrong["data"]["context"]["status"] = "ok"
    assert errors(v, wrong)  # counters are integers unless unavailable
    wrong = copy.deepcopy(event)
    wrong["data"]["surprise"] = 1
    assert errors(v, wrong)


# --- problem documents ------------------------------------------------------------


def test_problem_documents_match_the_problem_schema(ingest):
    v = validator_for("problem.schema.json")
    doc = openapi()
    bad = cloudevent(interaction(new_id("cust"), channel="fax"))
    cases = [
        (post(ingest, bad), 400, "/data/channel"),
        (post(ingest, None, raw=b'{"specversion": '), 400, None),
        (post(ingest, bad, key=None), 401, None),
        (post(ingest, bad, content_type="text/plain"), 415, None),
        (post(ingest, [bad] * 501, content_type="application/cloudevents-batch+json"), 413,
         None),
        (post(ingest, cloudevent(interaction("c", text="x" * 9000))), 413, "/data/text"),
    ]
    for resp, status, pointer in cases:
        assert resp.status_code == status, resp.text
        assert resp.headers["Content-Type"].startswith("application/problem+json")
        body = resp.json()
        assert not errors(v, body), (body, errors(v, body))
        assert body["status"] == status
        if pointer:
            assert body["errors"][0]["pointer"] == pointer
        assert "application/problem+json" in event_response(doc, str(status))["content"]
        assert not errors(openapi_validator("paths", "/v1/events", "post", "responses",
                                            str(status), "content", "application/problem+json",
                                            "schema"), body)
    assert cases[2][0].headers["WWW-Authenticate"].startswith("Bearer")


# --- the schemas reject what ingest rejects ------------------------------------------


def _data_cases():
    """(name, mutate) pairs: mutate(data) changes a valid interaction in place."""
    def setter(field, value):
        return lambda d: d.__setitem__(field, value)

    def deleter(field):
        return lambda d: d.pop(field)

    return [
        ("valid", lambda d: None),
        ("missing customer_id", deleter("customer_id")),
        ("missing interaction_id", deleter("interaction_id")),
        ("missing channel", deleter("channel")),
        ("missing kind", deleter("kind")),
        ("missing occurred_at", deleter("occurred_at")),
        ("bad channel", setter("channel", "fax")),
        ("channel wrong case", setter("channel", "Chat")),
        ("bad kind", setter("kind", "hangup")),
        ("unknown field", setter("sentiment", 0.4)),
        ("empty customer_id", setter("customer_id", "")),
        ("customer_id with a space", setter("customer_id", "cust 1")),
        ("customer_id with a quote", setter("customer_id", 'cust"1')),
        ("customer_id not ASCII", setter("customer_id", "cüst")),
        ("customer_id 128 chars", setter("customer_id", "c" * 128)),
        ("customer_id 129 chars", setter("customer_id", "c" * 129)),
        ("customer_id a number", setter("customer_id", 42)),
        ("occurred_at with offset and fraction",
         setter("occurred_at", "2026-11-22T10:00:00.123456789-05:30")),
        ("occurred_at without zone", setter("occurred_at", "2026-11-22T10:00:00")),
        ("occurred_at a date", setter("occurred_at", "2026-11-22")),
        ("occurred_at month 13", setter("occurred_at", "2026-13-01T10:00:00Z")),
        ("occurred_at 10 fraction digits", setter("occurred_at", "2026-11-22T10:00:00.1234567890Z")),
        ("occurred_at a number", setter("occurred_at", 1763805600)),
        ("text null", setter("text", None)),
        ("text a number", setter("text", 5)),
        ("text at the limit", setter("text", "x" * 8192)),
        ("text over the limit", setter("text", "x" * 8193)),
        ("wait_seconds zero", setter("wait_seconds", 0)),
        ("wait_seconds a week", setter("wait_seconds", 604800)),
        ("wait_seconds negative", setter("wait_seconds", -1)),
        ("wait_seconds over a week", setter("wait_seconds", 604801)),
        ("wait_seconds a string", setter("wait_seconds", "30")),
        ("wait_seconds a boolean", setter("wait_seconds", True)),
        ("queue empty", setter("queue", "")),
        ("queue 129 chars", setter("queue", "q" * 129)),
        ("language empty", setter("language", "")),
        ("language 36 chars", setter("language", "l" * 36)),
        ("language pt-BR", setter("language", "pt-BR")),
        ("language zh-Hant-TW", setter("language", "zh-Hant-TW")),
        ("language x-klingon", setter("language", "x-klingon")),
        ("language en_US", setter("language", "en_US")),
        ("language English please", setter("language", "English please")),
        ("language trailing dash", setter("language", "en-")),
        ("language one letter", setter("language", "e")),
        ("language digits first", setter("language", "12")),
        ("attributes null", setter("attributes", None)),
        ("attributes nested object", setter("attributes", {"a": {"b": 1}})),
        ("attributes array value", setter("attributes", {"a": [1]})),
        ("attributes a list", setter("attributes", ["a"])),
        ("attributes 64 entries", setter("attributes", {f"k{i}": i for i in range(64)})),
        ("attributes 65 entries", setter("attributes", {f"k{i}": i for i in range(65)})),
        ("attribute name 65 chars", setter("attributes", {"n" * 65: 1})),
        ("attribute value 1024 chars", setter("attributes", {"a": "v" * 1024})),
        ("attribute value 1025 chars", setter("attributes", {"a": "v" * 1025})),
    ]


def _envelope_cases():
    def setter(field, value):
        return lambda ce: ce.__setitem__(field, value)

    def deleter(field):
        return lambda ce: ce.pop(field)

    return [
        ("missing id", deleter("id")),
        ("empty id", setter("id", "")),
        ("id 257 chars", setter("id", "i" * 257)),
        ("missing source", deleter("source")),
        ("missing specversion", deleter("specversion")),
        ("specversion 0.3", setter("specversion", "0.3")),
        ("wrong type", setter("type", "attune.interaction.v2")),
        ("missing data", deleter("data")),
        ("data a string", setter("data", "{}")),
        ("data_base64", setter("data_base64", "e30=")),
        ("datacontenttype text/plain", setter("datacontenttype", "text/plain")),
        ("datacontenttype with charset", setter("datacontenttype",
                                                "application/json; charset=utf-8")),
        ("time bad", setter("time", "yesterday")),
        ("time good", setter("time", "2026-11-22T10:00:00Z")),
        ("traceparent bad", setter("traceparent", "00-abc-def-01")),
        ("traceparent zero trace id",
         setter("traceparent", "00-" + "0" * 32 + "-b7ad6b7169203331-01")),
        ("traceparent upper case",
         setter("traceparent", "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01")),
        ("traceparent good",
         setter("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")),
        ("extension attribute", setter("tenant", "eu-1")),
        ("extension attribute with digits", setter("tenant2", "eu-1")),
        ("extension attribute upper case", setter("Tenant", "eu-1")),
        ("extension attribute underscore", setter("tenant_id", "eu-1")),
        ("extension attribute dash", setter("tenant-id", "eu-1")),
    ]


def _agree(ingest, schema_v, body, content_type, headers=None):
    schema_errors = errors(schema_v, body)
    resp = post(ingest, body, content_type=content_type, headers=headers)
    assert resp.status_code in (202, 400, 413), resp.text
    return not schema_errors, resp.status_code == 202, schema_errors, resp


def test_schemas_and_ingest_agree_on_interactions(ingest):
    ce_v = validator_for("cloudevent-interaction.schema.json")
    data_v = validator_for("interaction.schema.json")
    disagreements = []
    for name, mutate in _data_cases():
        data = interaction(new_id("cust"))
        mutate(data)
        for body, v, ctype in [(cloudevent(copy.deepcopy(data)), ce_v,
                                "application/cloudevents+json"),
                               (data, data_v, "application/json")]:
            schema_ok, service_ok, why, resp = _agree(ingest, v, body, ctype)
            if schema_ok != service_ok:
                disagreements.append((name, ctype, why, resp.status_code, resp.text[:200]))
    assert not disagreements, disagreements


def test_schemas_and_ingest_agree_on_envelopes(ingest):
    v = validator_for("cloudevent-interaction.schema.json")
    disagreements = []
    for name, mutate in _envelope_cases():
        ce = cloudevent(interaction(new_id("cust")))
        mutate(ce)
        schema_ok, service_ok, why, resp = _agree(ingest, v, ce,
                                                  "application/cloudevents+json")
        if schema_ok != service_ok:
            disagreements.append((name, why, resp.status_code, resp.text[:200]))
    assert not disagreements, disagreements


def test_batch_schema_from_openapi_and_ingest_agree(ingest):
    v = openapi_validator("paths", "/v1/events", "post", "requestBody", "content",
                          "application/cloudevents-batch+json", "schema")
    customer = new_id("cust")
    good = [cloudevent(interaction(customer)) for _ in range(3)]
    one_bad = copy.deepcopy(good)
    del one_bad[1]["data"]["customer_id"]
    cases = [("good", good, True), ("empty", [], False), ("one bad", one_bad, False),
             ("an object", good[0], False)]
    for name, body, want in cases:
        schema_ok, service_ok, why, resp = _agree(ingest, v, body,
                                                  "application/cloudevents-batch+json")
        assert schema_ok == want, (name, why)
        assert service_ok == want, (name, resp.text)
