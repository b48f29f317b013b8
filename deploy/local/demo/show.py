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
    if isinstance(ctx, dict) and "routing" in d:
        parts.append(f"tier={ctx.get('tier')} segment={ctx.get('segment')}")
    elif isinstance(ctx, dict):
        p = ctx.get("profile", {})
        parts.append(f"context={ctx.get('status')} tier={p.get('tier')} "
                     f"segment={p.get('segment')} consent={p.get('marketing_consent')} "
                     f"contacts_24h={ctx.get('contacts_24h')} prefs={ctx.get('preferences')}")
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
        parts.append("reasons=" + ",".join(x.get("code", "?") for x in d.get("reasons", [])))
        return "  ".join(parts)
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
