#!/usr/bin/env python3
"""Derives valence_corpus.tsv and emotion_corpus.tsv from the GoEmotions
*train* split (Demszky et al., ACL 2020; Apache-2.0 repository, Reddit
comments). These widen the hand-written lexicons (valence.tsv, emotion.tsv),
which always win where both have a word.

For each word seen in at least MIN_DF comments:
  valence  = smoothed log-odds of positive vs negative comments (GoEmotions'
             sentiment grouping) times the share of polar comments, scaled
             to about [-2.5, 2.5]
  emotion  = lift of each attune emotion group among comments with the word,
             kept when clearly above 1

It also writes valence_forms.tsv: the regular inflections of valence.tsv's
single words (destroy -> destroys, destroyed, destroying; brilliant ->
brilliantly) with their word's valence, and the un- forms of its good words
(friendly -> unfriendly) with a share of it, negated, kept only when the form is an English
word of the Debian word list (package wamerican) and not an entry of its own
anywhere in the lexicon. FORM_EXCLUDE lists forms whose meaning moved away
from their word ("likely", "kinds", "lately").

Usage: python3 deploy/data/derive_lexicons.py [--check-forms]
(--check-forms: exit 1 if valence_forms.tsv is not what valence.tsv gives;
otherwise data from $ATTUNE_SHARED_DATA,
else <repo>/../shared/data; word list from $ATTUNE_WORDS, else
/usr/share/dict/words; writes next to this script)
"""
import json
import math
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.environ.get("ATTUNE_SHARED_DATA", os.path.join(REPO, "..", "shared", "data"))
MIN_DF = 10
SMOOTH = 10
# Function words and names of things carry topic, not feeling, in any corpus.
STOP = set("""a an the and or but if then so of to in on at by for with from as is are was
were be been being it its this that these those he she they we you i me my our your their his
her them us who whom which what when where why how will would shall should can could may might
must do does did have has had not no new york city state states people government law public
day days year years time man men woman women one two three four five first last next
even because keep anyone anything children kids job running response try morning traffic
driving also just well really still yet some any every all
am i'm im i'll i'd i've ive you're youre you'll you've you'd he's she's it's we're we'll we've
they're they'll they've that's there's here's what's let's each saw ask makes away side legs link
input early due tomorrow tonight username btw birthday cake
""".split())
# Words that Reddit's subjects, or a phrase around them, give a feeling they
# do not carry in a customer's message: topics ("media", "animals", "video"),
# service words ("support", "info", "feedback", "provide", "experience",
# "bot"), discourse words ("sure", "know", "question", "wait"), boosters ("incredibly", "seriously") and words whose feeling
# lives in a phrase the hand lexicons have ("no worries", "sorry to hear",
# "not sure", "thanks for sharing"; "kindly refund me" is no joy).
NOT_FELT = set("""ads album animals art episode media mouth stomach laws reality pm mine journey
therapy sexual socially anybody actual complete felt tried cakeday info feedback support help
suggest suggestion recommendation clarification clarifying explaining sharing soon stay sure yes
worries incredibly seriously utter behavior bot video sounds feeling happen imagine myself adults
anyways business decided facts flying fully instagram itself jail judge lawyer liberals opinion
pointing politics provide purpose relevant removed science teach useful country different either
themselves talking
seem thought wait know question guess maybe idea meant means anymore biggest english experience
extremely family majority society soul spent turned ways won worked ended ends hear happened
drugs feel feels feelings advice alot answering careful concern correcting correction detailed
hardcore informative kindly patience someday tips vibes props
""".split())

WORDS = os.environ.get("ATTUNE_WORDS", "/usr/share/dict/words")
# Forms that do not carry their word's feeling: another sense ("kinds",
# "goods", "odds", "lately", "contents"), a discourse word ("honestly",
# "clearly", "surely"), a measure ("roughly", "sharply"), a neutral noun of
# people ("pedestrians", "justices"), a service word ("charging", "later",
# "lowest", "issued", "rewards", "secured", "prompts", "emptied"), another word
# ("stranger", "cooler", "novels", "tenders", "panning" from French
# "panne", "danker" from Dutch "dank je") or a hope let down ("hoped",
# "promised").
# un- forms that do not undo their word ("unlike" is a comparison) or
# that tell no feeling ("unassisted", "undetermined").
UN_EXCLUDE = set("""unlike unassisted unlearned uncleaner undetermined unsubtle unprivileged
unmoral unsupported unprotected unavailable unexceptional""".split())
UN_SHARE = 0.6
UN_MAX = 2.0
FORM_EXCLUDE = set("""likely simply clearly surely honestly strictly practically roughly
historically fundamentally fundamentals importantly notably purely sharply loosely lately kindly
kinds goods odds feed contents prompted dynamics justices pedestrians jokes joking charging
landmarks wondering wondered sounds sounded sounding originally normally equally potentially
quietly fairly finely prettily dearly coolly cooling cooled tops topped freed frees wells
later latest stranger strangers liker likest sounder soundest lowest fitter
issued issuing refunding rewards rewarded greater sincerely ideally interestingly substantially
realistically truthfully respectfully promised prompts prompting secured securing supporting
supports cleaning cleaned opposed hyped emptied emptying empties fining values valued occupations
fasted fasting tendered tenders appropriated appropriating doped doping cooler dragged dragging
hoped blowing novels sweets crisps fairs safes solids vitals sharps stables lighters orderlies
danker dankest panned panning
""".split())
VOWELS = set("aeiou")
# adjective endings that take -ly (other words' -ly forms are rare or
# another word: "lovely", "kindly")
LY_ENDINGS = ("ful", "ous", "ive", "ent", "ant", "ic", "al", "able", "ible", "less", "ing",
              "ate", "id", "ile", "ure", "ere", "ane", "ute", "ant")


def word_forms(w):
    """The regular inflections of a word (which may not be English words)."""
    out = set()
    if not re.fullmatch(r"[a-z]{3,}", w):
        return out
    if w.endswith(("s", "x", "z", "ch", "sh")):
        out.add(w + "es")
    elif w.endswith("y") and w[-2] not in VOWELS:
        out.add(w[:-1] + "ies")
    else:
        out.add(w + "s")
    # consonant-vowel-consonant at the end of a short word doubles: stop, stopped
    cvc = (len(w) <= 5 and w[-1] not in VOWELS | set("wxy") and w[-2] in VOWELS
           and w[-3] not in VOWELS)
    if w.endswith("e"):
        out.add(w + "d")
        out.add(w + "ing" if w.endswith(("ee", "ye", "oe")) else w[:-1] + "ing")
    elif w.endswith("y") and w[-2] not in VOWELS:
        out.update((w[:-1] + "ied", w + "ing"))
    elif cvc:
        out.update((w + w[-1] + "ed", w + w[-1] + "ing"))
    else:
        out.update((w + "ed", w + "ing"))
    # comparative and superlative (kept only for adjectives, see derive_forms)
    if w.endswith("e"):
        out.update((w + "r", w + "st"))
    elif w.endswith("y") and w[-2] not in VOWELS:
        out.update((w[:-1] + "ier", w[:-1] + "iest"))
    elif cvc:
        out.update((w + w[-1] + "er", w + w[-1] + "est"))
    else:
        out.update((w + "er", w + "est"))
    if w.endswith(("able", "ible")):
        out.add(w[:-1] + "y")
    elif w.endswith("ic"):
        out.add(w + "ally")
    elif w.endswith(LY_ENDINGS):
        out.add(w + "ly")
    return out


def derive_forms(write=True):
    terms = {}
    for name in ("valence.tsv", "valence_corpus.tsv", "modifiers.tsv", "abuse.tsv",
                 "emotion.tsv", "urgency.tsv", "preferences.tsv"):
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    terms.setdefault(line.split("\t")[0].lower(), name)
    if not os.path.exists(WORDS):
        raise SystemExit(f"no word list at {WORDS}: install Debian's wamerican (make deps) "
                         "or set ATTUNE_WORDS")
    with open(WORDS, encoding="utf-8") as f:
        english = {w.strip() for w in f if w.strip().islower()}
    forms, un_forms = {}, {}
    with open(os.path.join(HERE, "valence.tsv"), encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            term, val = line.rstrip("\n").split("\t")
            if float(val) == 0:
                continue  # a word kept neutral on purpose ("yeah"): its forms too
            all_forms = word_forms(term)
            # -er and -est belong to adjectives: a word whose -est form is a
            # word ("great", "greatest"), not a verb's doer ("charge",
            # "charger")
            degrees = {f for f in all_forms if f.endswith(("er", "est"))}
            if not any(f.endswith("est") and f in english for f in degrees):
                all_forms -= degrees
            for form in sorted(all_forms):
                if (form in english and form not in terms and form not in FORM_EXCLUDE
                        and form not in forms):
                    forms[form] = val
            # a good word's un- form says its lack ("unfriendly", "uncaring",
            # "unimpressed"), weaker than the word, never strongly; taken
            # after every inflection ("unhappier" is unhappy's, not happier's)
            un = "un" + term
            if (float(val) > 0 and re.fullmatch(r"[a-z]{3,}", term) and un in english
                    and un not in terms and un not in UN_EXCLUDE and un not in un_forms):
                un_forms[un] = f"{-min(round(UN_SHARE * float(val), 1), UN_MAX):g}"
    for un, val in un_forms.items():
        forms.setdefault(un, val)
    head = ("# Derived by derive_lexicons.py: regular forms of valence.tsv's words, and\n"
            "# the un- forms of its good ones, that are English words (Debian's\n"
            "# wamerican list). Do not edit by hand: add the form to valence.tsv (which\n"
            "# wins) or to FORM_EXCLUDE or UN_EXCLUDE, and rerun.\n")
    text = head + "".join(f"{w}\t{v}\n" for w, v in sorted(forms.items()))
    path = os.path.join(HERE, "valence_forms.tsv")
    if not write:
        with open(path, encoding="utf-8") as f:
            if f.read() != text:
                raise SystemExit("valence_forms.tsv is stale: run "
                                 "python3 deploy/data/derive_lexicons.py")
        return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"valence_forms.tsv: {len(forms)} forms")


GROUPS = {
    "anger": ["anger", "annoyance", "disapproval"],
    "fear": ["fear", "nervousness"],
    "sadness": ["sadness", "disappointment", "grief", "remorse"],
    "confusion": ["confusion"],
    "joy": ["joy", "amusement", "excitement", "gratitude", "love", "optimism", "relief",
            "pride", "admiration", "caring"],
}

WORD = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")


def texting_forms():
    """The tokenizer's texting spellings and the word each becomes
    (common/classify/tokenize.c): "dont" is read as "don't"."""
    src = open(os.path.join(REPO, "common", "classify", "tokenize.c"), encoding="utf-8").read()
    table = src[src.index("texting[][2] = {"):]
    table = table[:table.index("};")]
    return dict(re.findall(r'\{"([^"]+)", "([^"]+)"\}', table))


TEXTING = texting_forms()


def words(text):
    return {TEXTING.get(w, w) for w in WORD.findall(text.lower().replace("\u2019", "'"))}


def main():
    ed = os.path.join(DATA, "emotion")
    names = open(os.path.join(ed, "emotions.txt"), encoding="utf-8").read().split()
    senti = json.load(open(os.path.join(ed, "sentiment_dict.json"), encoding="utf-8"))
    pos_ids = {names.index(n) for n in senti["positive"]}
    neg_ids = {names.index(n) for n in senti["negative"]}
    neutral_id = names.index("neutral")
    group_ids = {g: {names.index(n) for n in ns} for g, ns in GROUPS.items()}

    df = Counter()
    df_pos, df_neg, df_neu = Counter(), Counter(), Counter()
    df_group = {g: Counter() for g in GROUPS}
    n_docs = 0
    n_group = Counter()
    n_pos = n_neg = 0
    with open(os.path.join(ed, "train.tsv"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            ids = {int(x) for x in parts[1].split(",") if x}
            ws = words(parts[0])
            n_docs += 1
            is_pos, is_neg = bool(ids & pos_ids), bool(ids & neg_ids)
            for w in ws:
                df[w] += 1
                if is_pos and not is_neg:
                    df_pos[w] += 1
                elif is_neg and not is_pos:
                    df_neg[w] += 1
                elif neutral_id in ids:
                    df_neu[w] += 1
            if is_pos and not is_neg:
                n_pos += 1
            elif is_neg and not is_pos:
                n_neg += 1
            for g, gids in group_ids.items():
                if ids & gids:
                    n_group[g] += 1
                    for w in ws:
                        df_group[g][w] += 1

    prior = n_pos / max(1, n_neg)
    val_lines, emo_lines = [], []
    for w, n in sorted(df.items()):
        if n < MIN_DF or len(w) < 2:
            continue
        p, q, u = df_pos[w], df_neg[w], df_neu[w]
        # log-odds against the corpus's own balance, shrunk by SMOOTH
        # pseudo-counts so that words seen a few times stay near zero
        lo = math.log((p + SMOOTH * prior) / (q + SMOOTH)) - math.log(prior)
        polar = (p + q) / max(1, p + q + u)
        v = max(-2.5, min(2.5, 1.3 * lo * polar))
        if abs(v) >= 0.5 and w not in STOP and w not in NOT_FELT:
            val_lines.append(f"{w}\t{v:.2f}")
        for g in GROUPS:
            if w in STOP or w in NOT_FELT:
                continue
            base = n_group[g] / n_docs
            k = df_group[g][w]
            if k < 8:
                continue
            lift = (k / n) / base
            if lift >= 2.0:
                weight = min(1.8, 0.75 * math.log2(lift))
                emo_lines.append(f"{w}\t{g}\t{weight:.2f}")
    head = ("# Derived by derive_lexicons.py from the GoEmotions train split\n"
            "# (Demszky et al. 2020, Apache-2.0). Do not edit by hand: rerun the script.\n")
    with open(os.path.join(HERE, "valence_corpus.tsv"), "w", encoding="utf-8") as f:
        f.write(head + "\n".join(val_lines) + "\n")
    with open(os.path.join(HERE, "emotion_corpus.tsv"), "w", encoding="utf-8") as f:
        f.write(head + "\n".join(emo_lines) + "\n")
    print(f"valence_corpus.tsv: {len(val_lines)} words, emotion_corpus.tsv: {len(emo_lines)} rows")
    derive_forms()


if __name__ == "__main__":
    if sys.argv[1:] == ["--check-forms"]:
        derive_forms(write=False)  # (make lint: the forms follow valence.tsv)
    else:
        main()
