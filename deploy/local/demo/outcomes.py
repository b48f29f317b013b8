#!/usr/bin/env python3
"""make demo: reads routing decisions (CloudEvent JSON lines) on stdin and
writes a CloudEvents batch of outcomes for them on stdout, as a CRM would
report them: resolved, a CSAT score, the handle time, and whether an offer
the decision made was taken (what the shipped policy's offer mix learns
from)."""
import json
import sys
import uuid

outcomes = []
for i, line in enumerate(sys.stdin):
    try:
        d = json.loads(line)["data"]
    except (ValueError, KeyError):
        continue
    resolved = i % 3 != 2
    data = {"decision_id": d["decision_id"], "interaction_id": d["interaction_id"],
            "customer_id": d["customer_id"], "resolved": resolved,
            "csat": 5 if resolved else 2, "handle_time_seconds": 180 + 30 * i}
    offer = (d.get("guidance") or {}).get("offer") or {}
    if offer.get("type", "none") != "none":  # (no offer made: nothing to take)
        data["offer_accepted"] = i % 2 == 0
    outcomes.append({
        "specversion": "1.0", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, d["decision_id"])),
        "source": "/demo/crm", "type": "attune.outcome.v1", "data": data})
json.dump(outcomes or [], sys.stdout)
