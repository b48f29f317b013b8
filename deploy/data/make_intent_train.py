#!/usr/bin/env python3
"""Builds the training sets of the shipped intent model:

- intent_train.jsonl: attune's hand-written examples (intent_examples.tsv,
  every industry) plus banking77's train.csv (Casanueva et al. 2020, PolyAI,
  CC BY 4.0) with its 77 banking intents mapped onto attune's ten
  cross-industry labels. banking77 is capped per label so that the
  hand-written examples keep their weight.
- staff_train.jsonl, for the model's threat heads: the messages of
  staff_examples.tsv (threats, abuse, swearing and calm look-alikes, written
  blind) plus GoEmotions' train.tsv (Demszky et al. 2020, Google Research,
  Apache-2.0: Reddit comments) as general text that is neither: a fixed
  sample of the comments none of whose emotions is of anger, disgust or
  fear, so that insults and menace among them are not taught as calm.

Usage: python3 deploy/data/make_intent_train.py  (banking77 from
$ATTUNE_SHARED_DATA, else <repo>/../shared/data; writes next to this script)
Then: make model
"""
import csv
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.environ.get("ATTUNE_SHARED_DATA", os.path.join(REPO, "..", "shared", "data"))
CAP_PER_LABEL = 500
GENERAL_NEGATIVES = 20000
# GoEmotions ids (emotions.txt) of anger, annoyance, disapproval, disgust,
# fear and nervousness
NOT_CALM = {2, 3, 10, 11, 14, 19}

MAPPING = {
    "billing": """card_payment_wrong_exchange_rate extra_charge_on_statement pending_cash_withdrawal
        top_up_by_bank_transfer_charge pending_top_up card_payment_fee_charged
        transfer_not_received_by_recipient top_up_reverted
        balance_not_updated_after_cheque_or_cash_deposit pending_card_payment request_refund
        Refund_not_showing_up pending_transfer transaction_charged_twice reverted_card_payment?
        transfer_fee_charged wrong_exchange_rate_for_cash_withdrawal
        balance_not_updated_after_bank_transfer exchange_charge top_up_by_card_charge
        cash_withdrawal_charge cancel_transfer""",
    # cancel is churn: leaving. Cancelling one payment is a billing matter.
    "cancel": "terminate_account",
    "complaint": "wrong_amount_of_cash_received",
    "technical_issue": """card_not_working contactless_not_working declined_cash_withdrawal
        declined_transfer declined_card_payment card_swallowed beneficiary_not_allowed
        failed_transfer virtual_card_not_working top_up_failed""",
    "order_delivery": "card_arrival card_delivery_estimate",
    "account_access": """card_linking pin_blocked edit_personal_details why_verify_identity
        unable_to_verify_identity passcode_forgotten verify_source_of_funds change_pin
        verify_top_up activate_my_card verify_my_identity""",
    "fraud_security": """lost_or_stolen_card card_payment_not_recognised compromised_card
        direct_debit_payment_not_recognised lost_or_stolen_phone cash_withdrawal_not_recognised""",
    "purchase_upgrade": """getting_virtual_card get_physical_card getting_spare_card
        order_physical_card get_disposable_virtual_card""",
    "information": """exchange_rate fiat_currency_support automatic_top_up exchange_via_app
        age_limit top_up_limits supported_cards_and_currencies card_acceptance visa_or_mastercard
        topping_up_by_card disposable_card_limits atm_support transfer_timing receiving_money
        transfer_into_account top_up_by_cash_or_cheque card_about_to_expire
        apple_pay_or_google_pay country_support""",
}


def main():
    to_label = {}
    for label, cats in MAPPING.items():
        for c in cats.split():
            to_label[c] = label
    by_label = {}
    with open(os.path.join(DATA, "intent", "train.csv"), encoding="utf-8", newline="") as f:
        for rec in csv.DictReader(f):
            label = to_label.get(rec["category"])
            if label is None:
                raise SystemExit(f"unmapped banking77 category {rec['category']}")
            by_label.setdefault(label, []).append(rec["text"])
    rows = []
    for label, texts in sorted(by_label.items()):
        # a fixed, content-based sample: the same every run
        texts.sort(key=by_hash)
        rows += [(t, label) for t in texts[:CAP_PER_LABEL]]
    for label, text in read_examples("intent_examples.tsv"):
        # hand-written examples count three times: they carry the other industries
        rows += [(text, label)] * 3
    write_jsonl("intent_train.jsonl", rows)
    staff_train()


def by_hash(t):
    return hashlib.sha1(t.encode("utf-8")).hexdigest()


def read_examples(name):
    """The (label, text) lines of a tab-separated file next to this script."""
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                yield tuple(line.split("\t", 1))


def write_jsonl(name, rows):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        for text, label in rows:
            f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")
    print(f"{name}: {len(rows)} examples")


def staff_train():
    rows = [(text, label) for label, text in read_examples("staff_examples.tsv")]
    calm = []
    with open(os.path.join(DATA, "emotion", "train.tsv"), encoding="utf-8") as f:
        for line in f:
            text, ids, _ = line.rstrip("\n").split("\t")
            if not NOT_CALM & {int(x) for x in ids.split(",")}:
                calm.append(text)
    calm.sort(key=by_hash)
    rows += [(t, "none") for t in calm[:GENERAL_NEGATIVES]]
    write_jsonl("staff_train.jsonl", rows)


if __name__ == "__main__":
    main()
