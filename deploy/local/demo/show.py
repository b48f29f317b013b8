#!/usr/bin/env python3
"""Summarises attune CloudEvents (one JSON per line on stdin) for the demo:
the fields a person looks for, one line per event.

  show.py [--ids FILE] [--ended] [--count | --raw]
  --ids FILE  only the events of these ingest ids (one a line): the event's
              own id, or a decision's data.event_id (a topic read again holds
              an earlier run's records too, in no order across partitions)
  --ended     only CRM decisions of ended events, with their contact summary
  --count     print how many there are
  --raw       print them as they came, not summarised"""
import argparse
import json
import sys


def summary(ev: dict) -> str:
    d = ev.get("data", {})
    parts = [f"{ev.get('type', '?')}", f"customer={d.get('customer_id')}",
             f"interaction={d.get('interaction_id')}"]
    ctx = d.get("context")
    if isinstance(ctx, dict) and "routing" in d:
        parts.append(f"tier={ctx.get('tier')} segment={ctx.get('segment')}")
    elif isinstance(ctx, dict):
        p = ctx.get("profile", {})
        parts.append(f"context={ctx.get('status')} tier={p.get('tier')} "
                     f"segment={p.get('segment')} consent={p.get('marketing_consent')} "
                     f"contacts_24h={ctx.get('contacts_24h')} prefs={ctx.get('preferences')}")
    c = (d.get("summary") or {}).get("contact")
    if isinstance(c, dict):
        s = c.get("sentiment") or {}
        parts.append(f"contact: lines={c.get('lines')} intents={','.join(c.get('intents', []))} "
                     f"sentiment first={s.get('first')} last={s.get('last')} "
                     f"lowest={s.get('lowest')} highest_urgency={c.get('highest_urgency')} "
                     f"highest_threat={c.get('highest_threat')} ended={c.get('ended')} "
                     f"duration_s={c.get('duration_s')}")
        return "  ".join(parts)
    r, g = d.get("routing"), d.get("guidance")
    if isinstance(r, dict) and isinstance(g, dict):
        offer = (g.get("offer") or {}).get("type")
        comp = g.get("compensation") or {}
        parts.append(f"queue={r.get('queue')} priority={r.get('priority')} "
                     f"agent={r.get('agent_tier')} channel={r.get('channel')} "
                     f"max_wait={r.get('max_wait_seconds')}s pace={g.get('pace')} "
                     f"apology={g.get('apology')} offer={offer} "
                     f"compensation={comp.get('cap') if comp.get('eligible') else 'no'} "
                     f"protection={g.get('protection')}")
        # a code gives one reason per field it set: each code once, in order
        codes = dict.fromkeys(x.get("code", "?") for x in d.get("reasons", []))
        parts.append("reasons=" + ",".join(codes))
        return "  ".join(parts)
    s = d.get("situation")
    if isinstance(s, dict):
        parts.append("situation: " + " ".join(
            f"{k}={s[k].get('label', s[k].get('level'))}" for k in
            ("sentiment", "emotion", "intent", "urgency", "threat")
            if isinstance(s.get(k), dict)))
    return "  ".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids")
    ap.add_argument("--count", action="store_true")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--ended", action="store_true")
    args = ap.parse_args()
    ids = None
    if args.ids:
        with open(args.ids, encoding="utf-8") as f:
            ids = {x.strip() for x in f if x.strip()}
    n = 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            ev = None
        if ids is not None:
            d = ev.get("data") if isinstance(ev, dict) else None
            if not (isinstance(ev, dict) and (ev.get("id") in ids or
                                              (isinstance(d, dict) and d.get("event_id") in ids))):
                continue
        if args.ended and not (isinstance(ev, dict) and isinstance(ev.get("data"), dict) and
                               (ev["data"].get("summary") or {}).get("kind") == "ended"):
            continue
        n += 1
        if args.count:
            continue
        if args.raw:
            print(line)
            continue
        try:
            print(summary(ev))
        except (AttributeError, TypeError):
            print(line[:200])
    if args.count:
        print(n)


main()
