"""attune-classify as a Kafka stage: ingest -> enrich -> classify against the
real broker and Redis, the situation on every classified event, dead letters
for records it cannot read."""

import json
import os
import select
import shutil
import subprocess
import time

import pytest

from conftest import (BIN, TOPICS, Records, Service, cloudevent, event_value, for_customers,
                      interaction, new_id, post)
from stack import REPO_ROOT


@pytest.fixture(scope="module")
def classify(base_env, log_dir):
    svc = Service("classify", base_env, log_dir).start()
    yield svc
    assert svc.stop() == 0, svc.log_tail()


@pytest.fixture
def classified(stack):
    r = Records(stack.bootstrap, TOPICS["classified"])
    yield r
    r.close()


def test_situations_flow_through(ingest, enrich, classify, classified):
    angry, calm = new_id("cust"), new_id("cust")
    a = cloudevent(interaction(angry, text="This is the THIRD time I call, still no refund. "
                                            "Fix it right now!!", wait_seconds=900))
    b = cloudevent(interaction(calm, text="Thanks so much, that solved it. Have a lovely day :)",
                               channel="email"))
    for ce in (a, b):
        assert post(ingest, ce).status_code == 202
    got = {event_value(m)["id"]: event_value(m)
           for m in classified.collect(for_customers([angry, calm]), 2)}
    assert set(got) == {a["id"], b["id"]}
    sa, sb = got[a["id"]]["data"]["situation"], got[b["id"]]["data"]["situation"]
    assert got[a["id"]]["type"] == "attune.interaction.classified.v1"
    # The enriched fields travel along.
    assert got[a["id"]]["data"]["context"]["status"] in ("ok", "unknown_customer")
    assert sa["sentiment"]["label"] == "negative"
    assert sb["sentiment"]["label"] == "positive"
    assert sa["sentiment"]["score"] < sb["sentiment"]["score"]
    assert sa["urgency"]["level"] in ("high", "critical")
    assert sb["emotion"]["label"] == "joy"
    assert sa["threat"]["level"] == "none"
    assert sa["evidence"], "every label comes with evidence"


def test_no_context_carries_over_to_the_next_event(ingest, enrich, classify, classified):
    """A long wait on one customer's event must not show on the next event,
    which says no wait at all (the stage reuses its context per event)."""
    first, second = new_id("cust"), new_id("cust")
    a = cloudevent(interaction(first, text="I need to update my address please.",
                               channel="voice", wait_seconds=3600))
    assert post(ingest, a).status_code == 202
    sa = event_value(classified.collect(for_customers([first]), 1)[0])["data"]["situation"]
    assert any(e["rule"] == "context_wait" for e in sa["evidence"])
    b = cloudevent(interaction(second, text="What are your opening hours on Saturday?"))
    assert post(ingest, b).status_code == 202
    sb = event_value(classified.collect(for_customers([second]), 1)[0])["data"]["situation"]
    assert not any(e["rule"] in ("context_wait", "context_repeat") for e in sb["evidence"]), \
        sb["evidence"]
    assert sb["urgency"]["effort"] == 0
    assert sb["urgency"]["level"] == "normal"


def test_unreadable_enriched_record_is_dead_lettered(stack, classify):
    key = new_id("bad")
    raw = json.dumps({"specversion": "1.0", "id": "x", "source": "/t",
                      "type": "attune.interaction.v1", "data": {}})
    subprocess.run(["kcat", "-b", stack.bootstrap, "-P", "-t", TOPICS["enriched"], "-k", key],
                   input=raw.encode(), check=True, timeout=30)
    dlq = Records(stack.bootstrap, TOPICS["deadletter"])
    dead = dlq.collect(lambda m: m.key() == key.encode(), 1)
    dlq.close()
    assert len(dead) == 1
    h = {k: v.decode() for k, v in dead[0].headers()}
    assert h["attune-dlq-service"] == "classify"
    assert "/type" in h["attune-dlq-reason"]


def test_classified_events_match_the_schema(ingest, enrich, classify, classified):
    from test_schemas import errors, validator_for

    customer = new_id("cust")
    texts = ["", "please email me after 5pm, in Spanish if possible",
             "I will find you and hurt you", "where is my parcel??? ordered 2 weeks ago"]
    events = [cloudevent(interaction(customer, text=t)) for t in texts]
    events.append(cloudevent(interaction(customer, kind="started")))  # no text at all
    for ce in events:
        assert post(ingest, ce).status_code == 202
    got = classified.collect(for_customers([customer]), len(events))
    assert len(got) == len(events)
    v = validator_for("classified.schema.json")
    for m in got:
        assert errors(v, event_value(m)) == []
    by_text = {event_value(m)["data"].get("text"): event_value(m)["data"]["situation"]
               for m in got}
    assert by_text["I will find you and hurt you"]["threat"]["level"] == "threat"
    prefs = by_text["please email me after 5pm, in Spanish if possible"]["preferences"]
    assert prefs["channel"] == "email" and prefs["language"] == "es"


def run_batch(lines, *args):
    return subprocess.run([str(BIN / "attune-classify"), "--batch", *args],
                          input="\n".join(lines).encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120)


def test_batch_threads_answer_in_input_order():
    """--batch --threads N: one answer per line, in input order, the same
    bytes as one thread, bad lines answered where they stand."""
    lines = []
    for i in range(1500):
        if i % 300 == 0:
            lines.append("   ")  # blank: skipped, no answer
        if i == 700:
            lines.append(json.dumps({"id": "big", "text": "x" * 70000}))  # over the cap
        if i == 900:
            lines.append("not json")
        lines.append(json.dumps({"id": i, "text": f"my card was charged twice, order {i}"}))
    one = run_batch(lines)
    many = run_batch(lines, "--threads", "3")
    assert one.returncode == 0 and many.returncode == 0, many.stderr
    assert many.stdout == one.stdout
    out = [json.loads(x) for x in many.stdout.decode().splitlines()]
    assert len(out) == 1502
    assert [o["id"] for o in out if "error" not in o] == list(range(1500))
    errors = [o["error"] for o in out if "error" in o]
    assert errors == ["line longer than 65536 bytes", "malformed JSON near byte 0"]
    assert out[0]["intent"]["label"] == "billing"


def run_batch_bytes(data, *args):
    return subprocess.run([str(BIN / "attune-classify"), "--batch", *args], input=data,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_batch_nul_byte_is_an_error_of_its_own_line(threads):
    """A raw NUL is refused on its line; the next line is still answered
    (fgets once took the NUL for the line's end and skipped the next)."""
    data = b'{"id":"a","text":"x\0y"}\n{"id":"b","text":"lost?"}\n{"id":"c","text":"ok"}\n'
    r = run_batch_bytes(data, "--threads", threads)
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [o["id"] for o in out] == [None, "b", "c"]
    assert out[0]["error"] == "NUL byte in JSON text"
    assert "error" not in out[1] and "error" not in out[2]


@pytest.mark.parametrize("threads", ["1", "2"])
def test_batch_answers_a_waiting_pipe(threads):
    """A caller that writes a line and waits for its answer gets it, with
    one thread or several (the output was held until stdin closed)."""
    proc = subprocess.Popen([str(BIN / "attune-classify"), "--batch", "--threads", threads],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    fd = proc.stdout.fileno()

    def answers(want, timeout=10.0):
        got, deadline = 0, time.monotonic() + timeout
        while got < want:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            got += chunk.count(b"\n")
        return got

    try:
        for i in range(3):
            proc.stdin.write((json.dumps({"id": i, "text": "is my parcel coming today?"}) +
                              "\n").encode())
            assert answers(1) == 1, f"no answer to line {i} while stdin stays open"
        burst = "".join(json.dumps({"id": i, "text": "refund please"}) + "\n"
                        for i in range(1100))
        proc.stdin.write(burst.encode())
        assert answers(1100) == 1100
        # a burst that fills a block exactly, then blank lines
        burst = "".join(json.dumps({"id": i, "text": "refund please"}) + "\n"
                        for i in range(512))
        proc.stdin.write((burst + "\n\n").encode())
        assert answers(512) == 512
        # a line, then half of the next: the first is answered at once
        proc.stdin.write(b'{"id":"whole","text":"hello"}\n{"id":"half","te')
        assert answers(1) == 1
        proc.stdin.write(b'xt":"there"}\n')
        assert answers(1) == 1
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_batch_echoes_ids_and_refuses_odd_input():
    """Numeric ids keep every digit a double holds; inf is refused; CRLF does
    not count against the line limit; control bytes outside strings, wrong
    context types and a numeric interaction_id are errors naming the line."""
    at_limit = json.dumps({"id": "max", "text": "a"})
    at_limit = json.dumps({"id": "max", "text": "a" * (65536 - len(at_limit) + 1)})
    assert len(at_limit) == 65536
    lines = [
        '{"id":9007199254740991,"text":"x"}',
        '{"id":6338035485622269,"text":"x"}',
        '{"id":1.5,"text":"x"}',
        '{"id":1e400,"text":"x"}',
        at_limit + "\r",
        '\x01{"id":"ctl","text":"x"}',
        '{"id":"p","text":"x","context":{"profile":"x"}}',
        '{"id":"r","text":"x","context":{"recent":"x"}}',
        '{"id":"i","text":"x","interaction_id":5}',
        " \r ",
        '{"id":"ch","text":"waiting","channel":"CHAT"}',
        '{"id":"ch2","text":"waiting","channel":"chat"}',
    ]
    r = run_batch_bytes(("\n".join(lines) + "\n").encode())
    assert r.returncode == 0, r.stderr
    raw = r.stdout.decode().splitlines()
    assert raw[0].startswith('{"id":9007199254740991,')
    assert raw[1].startswith('{"id":6338035485622269,')
    assert raw[2].startswith('{"id":1.5,')
    out = [json.loads(x) for x in raw]
    assert len(out) == 11  # the blank line is skipped
    assert out[3] == {"id": None, "error": "id must be a string or a finite number"}
    assert out[4]["id"] == "max" and "error" not in out[4]
    assert out[5]["error"].startswith("control character outside a JSON string")
    assert out[6] == {"id": "p", "error": "context.profile must be an object"}
    assert out[7] == {"id": "r", "error": "context.recent must be an array"}
    assert out[8] == {"id": "i", "error": "interaction_id must be a string"}
    assert out[9]["urgency"] == out[10]["urgency"]  # a channel in any case


@pytest.mark.parametrize("args,message", [
    (["--threads", "2"], b"--threads goes with --batch"),
    (["--bench-threads", "2"], b"--bench-threads goes with --bench-lib"),
    (["--batch", "--bench-lib", "1"], b"--batch and --bench-lib are two modes"),
    (["--batch", "--threads", "+2"], b"--threads wants a number in [0, 256]"),
])
def test_classify_refuses_options_of_another_mode(args, message):
    r = subprocess.run([str(BIN / "attune-classify"), *args], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 2
    assert message in r.stderr


@pytest.mark.parametrize("value", ["x", "-1", "257", ""])
def test_batch_threads_refuses_a_bad_count(value):
    r = run_batch([], "--threads", value)
    assert r.returncode == 2
    assert b"--threads wants a number in [0, 256]" in r.stderr


@pytest.mark.parametrize("threads", ["1", "2"])
def test_batch_output_error_exits_1(threads, tmp_path):
    """A full disk (/dev/full) is an error, not a hang, with any thread count."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": "refund please"}) + "\n"
                           for i in range(3000)))
    with open(src, "rb") as f, open("/dev/full", "wb") as full:
        r = subprocess.run([str(BIN / "attune-classify"), "--batch", "--threads", threads],
                           stdin=f, stdout=full, stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 1
    assert b"input or output error" in r.stderr


@pytest.mark.parametrize("fname,line", [
    ("modifiers.tsv", "very\tinterjection\t0"),  # "very" is a booster already
    ("valence.tsv", "Refund\t2"),                 # written twice once normalised
    ("emotion.tsv", "hmmm\tconfusion\t1"),         # "hmm" once elongation is undone
    ("urgency.tsv", "ASAP\turgency\t1"),
    ("urgency.tsv", "third time\teffort\t1"),
])
def test_data_file_term_written_twice_is_refused(tmp_path, fname, line):
    """A term given two values in one data file stops start-up with the file
    and line, instead of the last value silently winning."""
    data = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "deploy" / "data", data)
    with open(data / fname, "a", encoding="utf-8") as f:
        f.write(line + "\n")
    n = sum(1 for _ in open(data / fname, encoding="utf-8"))
    r = run_batch(['{"id": 1, "text": "hi"}'], "--data-dir", str(data))
    assert r.returncode != 0
    assert f"{fname}:{n}:".encode() in r.stderr
    assert b"already" in r.stderr


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps({"text": t, "label": l}) + "\n" for t, l in rows))


def staff_rows():
    """Staff examples over two made-up words, so that what the heads learn
    is plain: "grimthorn" in threats, "blorvak" in abuse, neither in calm
    and swearing lines."""
    rows = []
    for i in range(40):
        rows.append((f"grimthorn is coming for the engineer number {i}", "threat"))
        rows.append((f"you are a blorvak, agent {i}", "abuse"))
        rows.append((f"my order {i} is late again, please check", "none"))
        rows.append((f"the damn router broke again on day {i}", "profanity"))
    return rows


def train(*args):
    return subprocess.run([str(BIN / "attune-train"), *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=300)


def test_train_heads_end_to_end(tmp_path):
    """attune-train --staff writes a model of version 4 whose heads raise
    the threat reading of attune-classify, with their evidence; the intent
    labels are those of the same model trained without --staff."""
    intent = tmp_path / "intent.jsonl"
    lines = (REPO_ROOT / "deploy" / "data" / "intent_train.jsonl").read_text().splitlines()
    intent.write_text("\n".join(lines[::20]) + "\n")
    staff = tmp_path / "staff.jsonl"
    write_jsonl(staff, staff_rows())
    plain, heads = tmp_path / "plain.model", tmp_path / "heads.model"
    r = train("--data", intent, "--out", plain)
    assert r.returncode == 0, r.stderr
    r = train("--data", intent, "--staff", staff, "--out", heads, "--threat-at", "0.6",
              "--hostile-at", "0.55")
    assert r.returncode == 0, r.stderr
    assert plain.read_text().startswith("attune-intent-model 3\n")
    head = heads.read_text().splitlines()
    assert head[0] == "attune-intent-model 4"
    assert "heads 2" in head and "head threat 0.6" in head and "head hostile 0.55" in head
    texts = ["grimthorn is coming for the engineer tonight", "you are a blorvak, agent",
             "where is my parcel, it is late", "I want to cancel my subscription"]
    lines = [json.dumps({"id": i, "text": t}) for i, t in enumerate(texts)]
    with_heads = [json.loads(x) for x in
                  run_batch(lines, "--intent-model", str(heads)).stdout.decode().splitlines()]
    without = [json.loads(x) for x in
               run_batch(lines, "--intent-model", str(plain)).stdout.decode().splitlines()]
    assert [o["threat"]["level"] for o in with_heads] == ["threat", "abuse", "none", "none"]
    assert [o["threat"]["level"] for o in without] == ["none"] * 4
    ev = [(e["rule"], e["text"]) for e in with_heads[0]["evidence"] if e["for"] == "threat"]
    assert ("threat_model", "threat") in ev and ("threat_model_feature", "w:grimthorn") in ev
    assert with_heads[0]["threat"]["confidence"] >= 0.6
    assert [o["intent"]["label"] for o in with_heads] == [o["intent"]["label"] for o in without]


@pytest.mark.parametrize("rows,message", [
    ([("you are vile", "rude")], b"staff.jsonl:1: want a label none, profanity, abuse or threat"),
    ([("you are a blorvak", "abuse"), ("late again", "none")],
     b"the staff file wants examples in and out of head threat (0 and 2)"),
])
def test_train_refuses_bad_staff_files(tmp_path, rows, message):
    intent = tmp_path / "intent.jsonl"
    write_jsonl(intent, [("where is my parcel", "order_delivery"), ("refund me", "billing")])
    staff = tmp_path / "staff.jsonl"
    write_jsonl(staff, rows)
    r = train("--data", intent, "--staff", staff, "--out", tmp_path / "m.model")
    assert r.returncode == 1
    assert message in r.stderr
    assert not (tmp_path / "m.model").exists()


def test_train_keeps_a_threshold_exactly(tmp_path):
    """A threshold is written as given (0.9996 once came out as 1, which the
    loader refuses), and the model loads."""
    intent = tmp_path / "intent.jsonl"
    write_jsonl(intent, [("where is my parcel", "order_delivery"), ("refund me", "billing")])
    staff = tmp_path / "staff.jsonl"
    write_jsonl(staff, staff_rows())
    model = tmp_path / "m.model"
    r = train("--data", intent, "--staff", staff, "--out", model, "--threat-at", "0.9996",
              "--hostile-at", "0.12345")
    assert r.returncode == 0, r.stderr
    lines = model.read_text().splitlines()
    assert "head threat 0.9996" in lines and "head hostile 0.12345" in lines
    r = run_batch(['{"id": 1, "text": "hi"}'], "--intent-model", str(model))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("arg", ["--threat-at", "--hostile-at"])
@pytest.mark.parametrize("value", ["0", "1", "x", "1.5"])
def test_train_refuses_a_bad_threshold(tmp_path, arg, value):
    r = train("--data", tmp_path / "none.jsonl", "--out", tmp_path / "m.model", arg, value)
    assert r.returncode == 2
    assert f"{arg} wants a probability between 0 and 1".encode() in r.stderr
