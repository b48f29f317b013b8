#!/usr/bin/env python3
"""Evaluates attune-classify --batch on the labelled public data and puts the
VADER package (vaderSentiment, PyPI) beside it on the same lines.

  sentiment  Pearson r and 3-class accuracy on VADER's human-rated review and
             editorial snippets (positive >= 0.5, negative <= -0.5 on the human
             mean, neutral otherwise)
  intent     accuracy on banking77: attune-train on 80% of train.csv, tested
             on the other 20% (a fixed split by hash of the text); and the
             shipped model on tests/bench/intent_probe.tsv (hand-written
             messages across industries, kept out of training)
  emotions   F1 of emotion.label per emotion on GoEmotions dev: gold = the
             Ekman group (anger: anger, annoyance, disapproval; fear;
             sadness; joy), and GoEmotions' own confusion label; VADER has
             no emotions, so its anger stand-in is "compound <= -0.05"
  polarity   accuracy and macro F1 of sentiment.label on the GoEmotions dev
             comments whose emotions all fall in one of GoEmotions' sentiment
             groups, or are neutral (social text, beside the review snippets)
  social     Pearson r and 3-class accuracy on tests/bench/social_probe.tsv
             (400 tweet-style posts written and rated without sight of
             attune: a dev set and a held-out set), VADER beside
  probe      sentiment.label on tests/bench/sentiment_probe.tsv (hand-written
             service messages: a dev set and a held-out set)
  langsent   sentiment.label on tests/bench/language_sentiment_probe.tsv (240
             messages in six languages, written without sight of attune)
  service    intent, sentiment and emotion labels on
             tests/bench/service_probe.tsv (700 service messages written
             without sight of attune: dev and held-out sets)
  handling   threat level, urgency level and stated preferences (channel,
             channel to avoid, language, pace, whether a contact time is
             given) on tests/bench/handling_probe.tsv (820 messages written
             without sight of attune: dev and held-out sets); for
             threat also recall and precision of "abuse or threat", what a
             router acts on
  threat     how often calm messages that hold a threat phrase in a harmless
             sense are read as threats, and how often hostile messages in
             other words are caught (tests/bench/threat_probe.tsv)
  staff      threat level, recall and precision of threats and of "abuse or
             threat" on tests/bench/staff_probe.tsv (400 messages to staff
             written without sight of attune: dev3 and held-out3 sets)
  languages  intent label on tests/bench/language_probe.tsv (120 messages in
             German, Spanish, French, Portuguese, Italian and Dutch, held
             out from a blind-written batch)
  social intent  intent label on tests/bench/social_intent_probe.tsv (94 posts
             to brands on social media, held out from a blind-written batch)
  turns      intent label on tests/bench/turns_probe.tsv (77 short turns in
             the middle of a chat or thread, held out from a blind batch)
  thread     intent label on tests/bench/thread_probe.tsv (90 posts to
             brands' support accounts, follow-ups on faults among them,
             held out from a blind batch)

Data: $ATTUNE_SHARED_DATA, else <repo>/../shared/data.
Usage: .venv/bin/python tests/bench/eval_classifier.py [--skip-intent]
       [--skip-vader] [--json FILE]
"""
import argparse
import csv
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("ATTUNE_SHARED_DATA", os.path.join(REPO, "..", "shared", "data"))
BIN = os.path.join(REPO, "build", "bin")

SENTIMENT_FILES = [
    ("amazon", "amazonReviewSnippets_GroundTruth.tsv"),
    ("movie", "movieReviewSnippets_GroundTruth.tsv"),
    ("nyt", "nytEditorialSnippets_GroundTruth.tsv"),
]


def pearson(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


def human_class(mean):
    return "positive" if mean >= 0.5 else "negative" if mean <= -0.5 else "neutral"


def vader_class(compound):
    return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"


def run_batch(lines, extra_args=()):
    """Runs attune-classify --batch over dicts; returns the output dicts."""
    payload = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in lines)
    proc = subprocess.run(
        [os.path.join(BIN, "attune-classify"), "--batch", *extra_args],
        input=payload.encode("utf-8"),
        stdout=subprocess.PIPE,
        check=True)
    out = [json.loads(l) for l in proc.stdout.decode("utf-8").splitlines()]
    if len(out) != len(lines):
        raise SystemExit(f"batch returned {len(out)} lines for {len(lines)}")
    return out


def load_vader():
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    return SentimentIntensityAnalyzer()


def eval_sentiment(vader, results):
    print("sentiment (VADER ground truth)           attune            VADER")
    print("  file     rows    Pearson r  3-class acc   Pearson r  3-class acc")
    for name, fname in SENTIMENT_FILES:
        rows = []
        with open(os.path.join(DATA, "sentiment", fname), encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 3:
                    continue
                rows.append((parts[0], float(parts[1]), "\t".join(parts[2:])))
        out = run_batch([{"id": r[0], "text": r[2]} for r in rows])
        gold = [r[1] for r in rows]
        ours = [o["sentiment"]["score"] for o in out]
        acc = sum(human_class(g) == o["sentiment"]["label"] for g, o in zip(gold, out)) / len(rows)
        r = pearson(ours, gold)
        entry = {"rows": len(rows), "attune_r": r, "attune_acc": acc}
        line = f"  {name:<7} {len(rows):>5}    {r:9.3f}  {acc:11.3f}"
        if vader:
            vs = [vader.polarity_scores(t)["compound"] for _, _, t in rows]
            vr = pearson(vs, gold)
            vacc = sum(human_class(g) == vader_class(v) for g, v in zip(gold, vs)) / len(rows)
            entry.update(vader_r=vr, vader_acc=vacc)
            line += f"   {vr:9.3f}  {vacc:11.3f}"
        print(line)
        results["sentiment_" + name] = entry


def split_of(text):
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 5 == 0


def eval_intent(results, solver, C):
    rows = []
    with open(os.path.join(DATA, "intent", "train.csv"), encoding="utf-8", newline="") as f:
        for rec in csv.DictReader(f):
            rows.append((rec["text"], rec["category"]))
    train = [r for r in rows if not split_of(r[0])]
    test = [r for r in rows if split_of(r[0])]
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "train.jsonl")
        model = os.path.join(tmp, "banking77.model")
        with open(data, "w", encoding="utf-8") as f:
            for text, label in train:
                f.write(json.dumps({"text": text, "label": label}) + "\n")
        t0 = time.time()
        subprocess.run(
            [os.path.join(BIN, "attune-train"), "--data", data, "--out", model,
             "--solver", solver, "--C", str(C)],
            check=True)
        t1 = time.time()
        out = run_batch([{"id": i, "text": t} for i, (t, _) in enumerate(test)],
                        ("--intent-model", model))
    acc = sum(o["intent"]["label"] == lab for o, (_, lab) in zip(out, test)) / len(test)
    print(f"intent (banking77, 77 labels)  train {len(train)}  held-out {len(test)}  "
          f"solver {solver} C={C}  train time {t1 - t0:.1f}s")
    print(f"  accuracy {acc:.3f}   (reference: word 1-2 gram logistic regression ~0.89)")
    results["intent_banking77"] = {"train": len(train), "test": len(test), "accuracy": acc,
                                   "solver": solver, "C": C}


def eval_emotions(vader, results):
    """emotion.label on GoEmotions dev, one F1 per attune emotion: the Ekman
    groups for anger, fear, sadness and joy, GoEmotions' own "confusion" for
    confusion (its Ekman group, surprise, mixes in curiosity and realization)."""
    names = open(os.path.join(DATA, "emotion", "emotions.txt"), encoding="utf-8").read().split()
    ekman = json.load(open(os.path.join(DATA, "emotion", "ekman_mapping.json"), encoding="utf-8"))
    groups = {"anger": ekman["anger"], "fear": ekman["fear"], "sadness": ekman["sadness"],
              "confusion": ["confusion"], "joy": ekman["joy"]}
    rows = []
    with open(os.path.join(DATA, "emotion", "dev.tsv"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            rows.append((parts[0], {names[int(x)] for x in parts[1].split(",") if x}))
    out = run_batch([{"id": i, "text": t} for i, (t, _) in enumerate(rows)])
    labels = [o["emotion"]["label"] for o in out]

    def f1(pred, gold):
        tp = sum(p and g for p, g in zip(pred, gold))
        fp = sum(p and not g for p, g in zip(pred, gold))
        fn = sum((not p) and g for p, g in zip(pred, gold))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        return (2 * prec * rec / (prec + rec) if prec + rec else 0.0), prec, rec

    print(f"emotions (GoEmotions dev, F1 of emotion.label per emotion)  rows {len(rows)}")
    per = {}
    for name, members in groups.items():
        gold = [bool(labs & set(members)) for _, labs in rows]
        ours = f1([lab == name for lab in labels], gold)
        per[name] = {"positives": sum(gold), "attune_f1": ours[0], "attune_precision": ours[1],
                     "attune_recall": ours[2]}
        print(f"  {name:<9} positives {sum(gold):5d}  attune F1 {ours[0]:.3f}  "
              f"precision {ours[1]:.3f}  recall {ours[2]:.3f}")
        if name == "anger" and vader:
            v = f1([vader.polarity_scores(t)["compound"] <= -0.05 for t, _ in rows], gold)
            per[name].update(vader_f1=v[0], vader_precision=v[1], vader_recall=v[2])
            print(f"  {'':<9} VADER F1 {v[0]:.3f}  precision {v[1]:.3f}  recall {v[2]:.3f}  "
                  "(negative compound as the anger stand-in: VADER has no emotions)")
    macro = sum(e["attune_f1"] for e in per.values()) / len(per)
    print(f"  macro F1 over the five {macro:.3f}")
    results["anger_goemotions_dev"] = per["anger"]
    results["emotions_goemotions_dev"] = dict(per, macro_f1=macro)


def eval_polarity(vader, results):
    """Sentiment labels on social text: GoEmotions dev comments whose emotions
    all fall in one of GoEmotions' own sentiment groups (positive, negative)
    or that are neutral; mixed and ambiguous comments are left out."""
    ed = os.path.join(DATA, "emotion")
    names = open(os.path.join(ed, "emotions.txt"), encoding="utf-8").read().split()
    groups = json.load(open(os.path.join(ed, "sentiment_dict.json"), encoding="utf-8"))
    pos, neg = set(groups["positive"]), set(groups["negative"])
    rows = []
    with open(os.path.join(ed, "dev.tsv"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            labels = {names[int(x)] for x in parts[1].split(",") if x}
            gold = ("neutral" if labels == {"neutral"} else "positive" if labels <= pos
                    else "negative" if labels <= neg else None)
            if gold:
                rows.append((parts[0], gold))
    out = run_batch([{"id": i, "text": t} for i, (t, _) in enumerate(rows)])

    def scores(pred):
        acc = sum(p == g for p, (_, g) in zip(pred, rows)) / len(rows)
        f1s = []
        for c in ("negative", "neutral", "positive"):
            tp = sum(p == c and g == c for p, (_, g) in zip(pred, rows))
            fp = sum(p == c and g != c for p, (_, g) in zip(pred, rows))
            fn = sum(p != c and g == c for p, (_, g) in zip(pred, rows))
            f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        return acc, sum(f1s) / 3

    ours = scores([o["sentiment"]["label"] for o in out])
    entry = {"rows": len(rows), "attune_accuracy": ours[0], "attune_macro_f1": ours[1]}
    print(f"polarity (GoEmotions dev, one sentiment group or neutral)  rows {len(rows)}")
    print(f"  attune  accuracy {ours[0]:.3f}  macro F1 {ours[1]:.3f}")
    if vader:
        v = scores([vader_class(vader.polarity_scores(t)["compound"]) for t, _ in rows])
        entry.update(vader_accuracy=v[0], vader_macro_f1=v[1])
        print(f"  VADER   accuracy {v[0]:.3f}  macro F1 {v[1]:.3f}")
    results["polarity_goemotions_dev"] = entry


def read_probe(name, fields):
    """The rows of tests/bench/<name>, a tab-separated file with # comments,
    each split into its fields (the last one, the text, may hold anything)."""
    rows = []
    with open(os.path.join(REPO, "tests", "bench", name), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                rows.append(tuple(line.rstrip("\n").split("\t", fields - 1)))
    return rows


def eval_social_probe(vader, results):
    """Pearson r and 3-class accuracy on tests/bench/social_probe.tsv,
    tweet-style posts written and rated without sight of attune."""
    rows = read_probe("social_probe.tsv", 3)
    out = run_batch([{"id": i, "text": t} for i, (_, _, t) in enumerate(rows)])
    print("social probe (tweet-style posts written and rated without sight of attune)")
    entry = {}
    for name in ("dev", "held_out"):
        idx = [i for i, r in enumerate(rows) if r[0] == name]
        gold = [float(rows[i][1]) for i in idx]
        ours = [out[i]["sentiment"]["score"] for i in idx]
        acc = sum(out[i]["sentiment"]["label"] == human_class(g)
                  for i, g in zip(idx, gold)) / len(idx)
        line = f"  {name:9s} rows {len(idx):3d}  attune r {pearson(ours, gold):.3f} acc {acc:.3f}"
        entry[name] = {"rows": len(idx), "attune_r": pearson(ours, gold), "attune_accuracy": acc}
        if vader:
            vs = [vader.polarity_scores(rows[i][2])["compound"] for i in idx]
            vacc = sum(vader_class(c) == human_class(g) for c, g in zip(vs, gold)) / len(idx)
            line += f"  VADER r {pearson(vs, gold):.3f} acc {vacc:.3f}"
            entry[name].update(vader_r=pearson(vs, gold), vader_accuracy=vacc)
        print(line)
    results["social_probe"] = entry


def print_label_accuracy(name, idx, rows, out, vader):
    """Prints and returns the sentiment label accuracy of attune (and VADER)
    on rows[idx], rows of (set, label, text)."""
    ours = sum(out[i]["sentiment"]["label"] == rows[i][1] for i in idx)
    line = f"  {name:9s} rows {len(idx):3d}  attune {ours / len(idx):.3f} ({ours}/{len(idx)})"
    entry = {"rows": len(idx), "attune_accuracy": ours / len(idx)}
    if vader:
        v = sum(vader_class(vader.polarity_scores(rows[i][2])["compound"]) == rows[i][1]
                for i in idx)
        line += f"  VADER {v / len(idx):.3f} ({v}/{len(idx)})"
        entry["vader_accuracy"] = v / len(idx)
    print(line)
    return entry


def eval_sentiment_probe(vader, results):
    """Sentiment labels on tests/bench/sentiment_probe.tsv, hand-written
    service messages: the dev set the service rules were built from and a
    held-out set written after them."""
    rows = read_probe("sentiment_probe.tsv", 3)
    out = run_batch([{"id": i, "text": t} for i, (_, _, t) in enumerate(rows)])
    print("sentiment probe (hand-written service messages, 3-class label)")
    entry = {}
    for name in ("dev", "held_out"):
        idx = [i for i, r in enumerate(rows) if r[0] == name]
        entry[name] = print_label_accuracy(name, idx, rows, out, vader)
    results["sentiment_probe"] = entry


def eval_language_sentiment_probe(vader, results):
    """Sentiment labels on tests/bench/language_sentiment_probe.tsv, service
    messages in six languages other than English."""
    rows = read_probe("language_sentiment_probe.tsv", 3)
    out = run_batch([{"id": i, "text": t} for i, (_, _, t) in enumerate(rows)])
    print("language sentiment probe (es, fr, de, it, pt, nl; 3-class label)")
    entry = {}
    for lang in ("es", "fr", "de", "it", "pt", "nl", "all"):
        idx = [i for i, r in enumerate(rows) if lang == "all" or r[0] == lang]
        entry[lang] = print_label_accuracy(lang, idx, rows, out, vader)
    results["language_sentiment_probe"] = entry


def eval_service_probe(vader, results):
    """Intent, sentiment and emotion labels on tests/bench/service_probe.tsv,
    service messages written without sight of attune: a dev set and a
    held-out set whose misses are not printed."""
    rows = read_probe("service_probe.tsv", 5)
    out = run_batch([{"id": i, "text": r[4]} for i, r in enumerate(rows)])
    print("service probe (written without sight of attune; intent / sentiment / emotion label)")
    entry = {}
    for name in ("dev", "held_out", "dev2", "held_out2"):
        idx = [i for i, r in enumerate(rows) if r[0] == name]
        n = len(idx)
        got = [sum(out[i][k]["label"] == rows[i][c] for i in idx)
               for k, c in (("intent", 1), ("sentiment", 2), ("emotion", 3))]
        line = (f"  {name:9s} rows {n:3d}  intent {got[0] / n:.3f}  sentiment {got[1] / n:.3f}"
                f"  emotion {got[2] / n:.3f}")
        entry[name] = {"rows": n, "intent_accuracy": got[0] / n,
                       "sentiment_accuracy": got[1] / n, "emotion_accuracy": got[2] / n}
        if vader:
            v = sum(vader_class(vader.polarity_scores(rows[i][4])["compound"]) == rows[i][2]
                    for i in idx)
            line += f"  (VADER sentiment {v / n:.3f})"
            entry[name]["vader_sentiment_accuracy"] = v / n
        print(line)
    results["service_probe"] = entry


def eval_support_probe(results):
    """Intent labels on tests/bench/support_probe.tsv: short support requests
    of the kind public support-chatbot data holds (orders, refunds, accounts,
    newsletters, reaching a person), written without sight of attune."""
    rows = read_probe("support_probe.tsv", 3)
    out = run_batch([{"id": i, "text": r[2]} for i, r in enumerate(rows)])
    print("support probe (short support requests written without sight of attune; intent label)")
    entry = {}
    for name in ("dev", "held_out"):
        idx = [i for i, r in enumerate(rows) if r[0] == name]
        got = sum(out[i]["intent"]["label"] == rows[i][1] for i in idx)
        print(f"  {name:9s} rows {len(idx):3d}  intent {got / len(idx):.3f} ({got}/{len(idx)})")
        entry[name] = {"rows": len(idx), "intent_accuracy": got / len(idx)}
    results["support_probe"] = entry


def eval_intent_groups(results, name, title, key):
    """Intent labels on tests/bench/<name>, rows "group<TAB>intent<TAB>text":
    accuracy per group and over all."""
    rows = read_probe(name, 3)
    out = run_batch([{"id": i, "text": r[2]} for i, r in enumerate(rows)])
    print(title)
    entry = {}
    for group in sorted({r[0] for r in rows}) + ["all"]:
        idx = [i for i, r in enumerate(rows) if group in (r[0], "all")]
        got = sum(out[i]["intent"]["label"] == rows[i][1] for i in idx)
        print(f"  {group:9s} rows {len(idx):3d}  intent {got / len(idx):.3f} ({got}/{len(idx)})")
        entry[group] = {"rows": len(idx), "intent_accuracy": got / len(idx)}
    results[key] = entry


HANDLING_FIELDS = ("threat", "urgency", "channel", "avoid_channel", "language", "pace",
                   "contact_time")


def handling_label(out, field):
    """attune's answer for one column of handling_probe.tsv ("-": none)."""
    if field in ("threat", "urgency"):
        return out[field]["level"]
    value = out["preferences"].get(field)
    if field == "contact_time":
        return "yes" if value else "-"
    return value or "-"


def recall_precision(gold, pred, positive):
    """Recall and precision of the labels in positive, gold against pred."""
    g = [x in positive for x in gold]
    p = [x in positive for x in pred]
    tp = sum(a and b for a, b in zip(g, p))
    return tp / max(1, sum(g)), tp / max(1, sum(p))


def eval_handling_probe(results):
    """Threat, urgency and preference labels on tests/bench/handling_probe.tsv,
    messages written without sight of attune: dev sets and held-out sets
    whose misses are not printed."""
    rows = read_probe("handling_probe.tsv", 9)
    out = run_batch([{"id": i, "text": r[8]} for i, r in enumerate(rows)])
    print("handling probe (written without sight of attune; accuracy per column)")
    entry = {}
    for name in ("dev", "held_out", "dev2", "held_out2"):
        idx = [i for i, r in enumerate(rows) if r[0] == name]
        n = len(idx)
        acc = {}
        for c, field in enumerate(HANDLING_FIELDS, start=1):
            acc[field] = sum(handling_label(out[i], field) == rows[i][c] for i in idx) / n
        recall, precision = recall_precision([rows[i][1] for i in idx],
                                             [handling_label(out[i], "threat") for i in idx],
                                             ("abuse", "threat"))
        print(f"  {name:9s} rows {n:3d}  " + "  ".join(f"{f} {acc[f]:.3f}" for f in HANDLING_FIELDS))
        print(f"  {'':9s} abuse-or-threat recall {recall:.3f} precision {precision:.3f}")
        entry[name] = {"rows": n, **{f + "_accuracy": acc[f] for f in HANDLING_FIELDS},
                       "hostile_recall": recall, "hostile_precision": precision}
    results["handling_probe"] = entry


def eval_threat_probe(results):
    """False alarms and catches on tests/bench/threat_probe.tsv: calm
    messages that hold a threat or abuse phrase in a harmless sense, and
    hostile ones that use no phrase of the list."""
    rows = read_probe("threat_probe.tsv", 2)
    out = run_batch([{"id": i, "text": t} for i, (_, t) in enumerate(rows)])
    print("threat probe (harmless senses of threat phrases; hostility in other words)")
    entry = {}
    for name in ("innocent", "hostile"):
        levels = [o["threat"]["level"] for o, (s, _) in zip(out, rows) if s == name]
        n = len(levels)
        threat = sum(v == "threat" for v in levels)
        hostile = sum(v in ("abuse", "threat") for v in levels)
        print(f"  {name:9s} rows {n:3d}  threat {threat / n:.3f} ({threat})  "
              f"abuse-or-threat {hostile / n:.3f} ({hostile})")
        entry[name] = {"rows": n, "threat": threat / n, "abuse_or_threat": hostile / n}
    results["threat_probe"] = entry


def eval_staff_probe(results):
    """Threat level on tests/bench/staff_probe.tsv, messages to staff written
    without sight of attune: threats and harassment in many forms and calm
    messages in the same words; held_out3's misses are not printed."""
    rows = read_probe("staff_probe.tsv", 3)
    out = run_batch([{"id": i, "text": t} for i, (_, _, t) in enumerate(rows)])
    print("staff probe (threats and harassment toward staff, and their look-alikes)")
    entry = {}
    for name in ("dev3", "held_out3"):
        gold = [r[1] for r in rows if r[0] == name]
        pred = [o["threat"]["level"] for o, r in zip(out, rows) if r[0] == name]
        acc = sum(g == p for g, p in zip(gold, pred)) / len(gold)
        t_rec, t_prec = recall_precision(gold, pred, ("threat",))
        h_rec, h_prec = recall_precision(gold, pred, ("abuse", "threat"))
        print(f"  {name:9s} rows {len(gold):3d}  level {acc:.3f}  threat recall {t_rec:.3f} "
              f"precision {t_prec:.3f}  abuse-or-threat recall {h_rec:.3f} precision {h_prec:.3f}")
        entry[name] = {"rows": len(gold), "level_accuracy": acc, "threat_recall": t_rec,
                       "threat_precision": t_prec, "hostile_recall": h_rec,
                       "hostile_precision": h_prec}
    results["staff_probe"] = entry


def eval_probe(results):
    """The shipped intent model on tests/bench/intent_probe.tsv, hand-written
    messages across industries kept out of training."""
    rows = read_probe("intent_probe.tsv", 2)
    out = run_batch([{"id": i, "text": t} for i, (_, t) in enumerate(rows)])
    right = sum(o["intent"]["label"] == g for o, (g, _) in zip(out, rows))
    print(f"intent probe (shipped model, {len(rows)} hand-written cross-industry messages)  "
          f"accuracy {right / len(rows):.3f} ({right}/{len(rows)})")
    for o, (g, t) in zip(out, rows):
        if o["intent"]["label"] != g:
            print(f"  {g} -> {o['intent']['label']}: {t}")
    results["intent_probe"] = {"rows": len(rows), "accuracy": right / len(rows)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-intent", action="store_true")
    ap.add_argument("--skip-vader", action="store_true")
    ap.add_argument("--solver", default="svm")
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if not os.path.isdir(DATA):
        raise SystemExit(f"no data at {DATA}: set ATTUNE_SHARED_DATA")
    if not os.access(os.path.join(BIN, "attune-classify"), os.X_OK):
        raise SystemExit("build first: make")
    vader = None if args.skip_vader else load_vader()
    if not args.skip_vader and vader is None:
        print("vaderSentiment not installed: VADER columns left out", file=sys.stderr)
    results = {}
    eval_sentiment(vader, results)
    eval_emotions(vader, results)
    eval_polarity(vader, results)
    eval_social_probe(vader, results)
    eval_sentiment_probe(vader, results)
    eval_language_sentiment_probe(vader, results)
    eval_handling_probe(results)
    eval_threat_probe(results)
    eval_staff_probe(results)
    if not args.skip_intent:
        eval_service_probe(vader, results)
        eval_support_probe(results)
        eval_intent_groups(results, "language_probe.tsv", "language probe (German, Spanish, "
                           "French, Portuguese, Italian, Dutch; held out; intent)", "language_probe")
        eval_intent_groups(results, "social_intent_probe.tsv", "social intent probe (posts to "
                           "brands on social media; held out; intent)", "social_intent_probe")
        eval_intent_groups(results, "turns_probe.tsv", "turns probe (short turns in the middle "
                           "of a chat or thread; held out; intent)", "turns_probe")
        eval_intent_groups(results, "thread_probe.tsv", "thread probe (posts to brands' support "
                           "accounts, in a thread's middle too; held out; intent)", "thread_probe")
        eval_probe(results)
        eval_intent(results, args.solver, args.C)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
