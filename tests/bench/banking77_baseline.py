"""The issue's banking77 reference, measured on attune's own split: plain
logistic regression over word 1-2 grams (counts, and tf-idf), and a strong
linear baseline (tf-idf word 1-2 grams and character 2-5 grams, linear
SVM), trained on the same 80% of train.csv that eval_classifier.py trains
attune on and scored on the same held-out 20%.

Needs scikit-learn, which attune itself does not use (a reference only):
    python3 -m venv .venv-sk && .venv-sk/bin/pip install scikit-learn
    .venv-sk/bin/python tests/bench/banking77_baseline.py
"""

import csv
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eval_classifier import DATA, split_of  # noqa: E402  (the same split)

try:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_union
    from sklearn.svm import LinearSVC
except ImportError:
    raise SystemExit("needs scikit-learn: pip install scikit-learn (see the docstring)")


def main():
    with open(os.path.join(DATA, "intent", "train.csv"), encoding="utf-8", newline="") as f:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(f)]
    train = [r for r in rows if not split_of(r[0])]
    test = [r for r in rows if split_of(r[0])]
    x_train, y_train = [t for t, _ in train], [y for _, y in train]
    x_test, y_test = [t for t, _ in test], [y for _, y in test]
    print(f"banking77 reference baselines  train {len(train)}  held-out {len(test)}")
    runs = [
        ("logistic regression, word 1-2 gram counts, C=1",
         CountVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=2000)),
        ("logistic regression, word 1-2 gram tf-idf, C=10",
         TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=2000, C=10)),
        ("linear SVM, tf-idf word 1-2 + character 2-5 grams, C=0.5",
         make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
         LinearSVC(C=0.5)),
    ]
    for name, vec, clf in runs:
        t0 = time.time()
        clf.fit(vec.fit_transform(x_train), y_train)
        pred = clf.predict(vec.transform(x_test))
        acc = sum(p == y for p, y in zip(pred, y_test)) / len(y_test)
        print(f"  {acc:.3f}  {name}  ({time.time() - t0:.0f}s)")


if __name__ == "__main__":
    main()
