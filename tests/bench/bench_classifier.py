#!/usr/bin/env python3
"""Throughput of the attune classifier against VADER, on the same messages,
in the same run (ratios, never absolute targets: machines differ).

  library      attune-classify --bench-lib: classify_text() alone over texts
               held in memory (no JSON, no I/O), one thread; with the intent
               model and without it (lexicon stages only, the work VADER does)
  all cores    the same with one thread per online core (--bench-threads 0),
               every thread on the one classifier, counted together; VADER
               stays one thread, so this line is not the headline ratio
  --batch      attune-classify --batch end to end: JSON lines in and out,
               process start and model load included; one thread, and one
               worker per online core (--threads 0, output still in order)
  VADER        vaderSentiment's polarity_scores() over the same texts

Messages: every text of the shared data (VADER's review and editorial
snippets, banking77), from $ATTUNE_SHARED_DATA, else <repo>/../shared/data.
Usage: .venv/bin/python tests/bench/bench_classifier.py [--passes N]
       [--vader-limit N] [--json FILE]
"""
import argparse
import csv
import json
import os
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("ATTUNE_SHARED_DATA", os.path.join(REPO, "..", "shared", "data"))
CLASSIFY = os.path.join(REPO, "build", "bin", "attune-classify")


def load_texts():
    texts = []
    sdir = os.path.join(DATA, "sentiment")
    for name in sorted(os.listdir(sdir)):
        if name.endswith(".tsv"):
            with open(os.path.join(sdir, name), encoding="utf-8") as f:
                for line in f:
                    parts = line.rstrip("\n").split("\t", 2)
                    if len(parts) == 3:
                        texts.append(parts[2])
    with open(os.path.join(DATA, "intent", "train.csv"), encoding="utf-8", newline="") as f:
        texts += [r["text"] for r in csv.DictReader(f)]
    return texts


def bench_lib(path, passes, model_args, threads=1):
    with open(path, "rb") as f:
        out = subprocess.run([CLASSIFY, "--bench-lib", str(passes), "--bench-threads",
                              str(threads), *model_args], stdin=f,
                             stdout=subprocess.PIPE, check=True).stdout
    j = json.loads(out)
    return j["per_second"], j["threads"]


def bench_batch(path, n, threads=1):
    best = None
    for _ in range(2):
        with open(path, "rb") as f:
            t0 = time.perf_counter()
            subprocess.run([CLASSIFY, "--batch", "--threads", str(threads)], stdin=f,
                           stdout=subprocess.DEVNULL, check=True)
            dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return n / best


def bench_vader(texts, limit):
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    sample = texts[:limit] if limit else texts
    t0 = time.perf_counter()
    for t in sample:
        analyzer.polarity_scores(t)
    return len(sample) / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--passes", type=int, default=3, help="library passes over the texts")
    ap.add_argument("--vader-limit", type=int, default=0,
                    help="time VADER on the first N texts only (0: all)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if not os.access(CLASSIFY, os.X_OK):
        raise SystemExit("build first: make")
    texts = load_texts()
    chars = sum(len(t) for t in texts) / len(texts)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "input.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for i, t in enumerate(texts):
                f.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
        vader = bench_vader(texts, args.vader_limit)
        lib_all, _ = bench_lib(path, args.passes, [])
        lib_lex, _ = bench_lib(path, args.passes, ["--intent-model", ""])
        lib_cores, n_threads = bench_lib(path, args.passes, [], threads=0)
        batch = bench_batch(path, len(texts))
        batch_cores = bench_batch(path, len(texts), threads=0)
    print(f"messages: {len(texts)} (mean {chars:.0f} characters), one thread each "
          f"unless said; {os.cpu_count()} cores")
    print(f"{'':46} {'msg/s':>12} {'x VADER':>9}")
    rows = [
        ("VADER polarity_scores (Python)", vader),
        ("library, all stages incl. intent", lib_all),
        ("library, lexicon stages (no intent)", lib_lex),
        (f"library, all stages, {n_threads} threads (all cores)", lib_cores),
        ("attune-classify --batch (JSON in/out)", batch),
        (f"attune-classify --batch --threads 0 ({os.cpu_count()} workers)", batch_cores),
    ]
    for name, v in rows:
        print(f"{name:46} {v:12,.0f} {v / vader:9.1f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"messages": len(texts), "vader": vader, "library_all": lib_all,
                       "library_lexicon": lib_lex, "library_all_cores": lib_cores,
                       "all_cores_threads": n_threads, "batch": batch,
                       "batch_all_cores": batch_cores}, f, indent=2)


if __name__ == "__main__":
    main()
