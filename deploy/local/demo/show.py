#!/usr/bin/env python3
"""Summarises attune CloudEvents (one JSON per line on stdin) for the demo:
the fields a person looks for, one line per event."""
import json
import sys


def summary(ev: dict) -> str:
    d = ev.get("data", {})
    parts = [f"{ev.get('type', '?')}", f"customer={d.get('customer_id')}",
             f"interaction={d.get('interaction_id')}"]
    ctx = d.get("context")
    if isinstance(ctx, dict):
        p = ctx.get("profile", {})
        parts.append(f"context={ctx.get('status')} tier={p.get('tier')} "
                     f"segment={p.get('segment')} consent={p.get('marketing_consent')} "
                     f"contacts_24h={ctx.get('contacts_24h')} prefs={ctx.get('preferences')}")
    s = d.get("situation")
    if isinstance(s, dict):
        parts.append("situation: " + " ".join(
            f"{k}={s[k].get('label', s[k].get('level'))}" for k in
            ("sentiment", "emotion", "intent", "urgency", "threat")
            if isinstance(s.get(k), dict)))
    return "  ".join(parts)


for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        print(summary(json.loads(line)))
    except (ValueError, AttributeError):
        print(line[:200])
