"""A learned fusion against the shipped ranking (issue 15): measured, not built. Fits rankers over 15 features of
each candidate on a training split's cached candidates and compares them with rag's ranking on other caches.

    .venv/bin/python bench/retrieval_splits.py --out /work/scratch/retr
    .venv/bin/python bench/retrieval_sweep.py --index DIR --questions /work/scratch/retr/squad-train.jsonl \
        --sentences --cache /work/scratch/retr/squad-train.pkl      # and the same for squad-dev (and held out)
    .venv/bin/python bench/learned_fusion.py --train /work/scratch/retr/squad-train.pkl \
        --eval dev=/work/scratch/retr/squad-dev.pkl

Candidates: the dense top 50 and the BM25 top 50, as rag fuses them. Features: the cosine, the best and second
sentence cosines, the shipped ranking's two normalised sides and its fused score, BM25 over the top BM25 score,
whether BM25 found it, the gaps to the best cosine and best sentence, the number of sentences, a BM25 of the
title, the reciprocal ranks on each side and the min-max cosine. Rankers: a pairwise logistic regression (linear,
scikit-learn, one answering against up to 30 other candidates per question) and gradient-boosted trees
(HistGradientBoostingClassifier, pointwise). Each ranking then puts distinct documents first as rag does (floor
0.5 on the min-max-normalised score, or 0), and is scored at document level against the shipped ranking
(sentences 0.7, convex 0.5, distinct documents, floor 0.5) with paired 95% intervals.

The candidate lists are the caches' (a cache made before 2026-11-26, as for the figures in eval/README.md, holds
BM25 lists of the whole question; a new one, lists less question words, as rag searches). Not here: the name cover.
The training split shares no question with the others but shares paragraphs: 707 of the dev split's 1,000 questions
have a training question on the same paragraph. No feature names a document, so a ranker cannot learn paragraphs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import math  # noqa: E402
import pickle  # noqa: E402

import numpy as np  # noqa: E402

from bench.retrieval_sweep import METRICS, minmax, sentence_scores  # noqa: E402

FEATURES = ("cos", "sent", "sent2", "mix_mm", "lex_mm", "lex_rel", "in_lex", "cos_gap", "sent_gap", "shipped",
            "nsent", "title", "dense_rr", "lex_rr", "cos_mm")


def features(q: dict) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(candidates, their feature rows, 1 for a candidate of a gold document else 0)."""
    dense, lexical = q["dense"][:50], q["lexical"][:50]
    union = [c for c in dict.fromkeys([c for c, _ in dense] + [c for c, _ in lexical]) if c in q["cos"]]
    cos, best, sentences = q["cos"], q["best_sentence"], q["sentence_cos"]
    mixed = {c: 0.3 * cos[c] + 0.7 * best.get(c, cos[c]) for c in union}
    mixed_mm = minmax(dict(sorted(mixed.items(), key=lambda p: -p[1])[:50]))
    lexical_mm, lexical_raw = minmax(dict(lexical)), dict(lexical)
    lexical_top = max(lexical_raw.values(), default=1.0) or 1.0
    cos_top, sentence_top = max(cos[c] for c in union), max(best.get(c, cos[c]) for c in union)
    cos_mm = minmax(dict(dense))
    dense_rank = {c: r for r, (c, _) in enumerate(dense)}
    lexical_rank = {c: r for r, (c, _) in enumerate(lexical)}
    title_top = max(q["title_bm25"].values(), default=0.0) or 1.0
    rows = []
    for c in union:
        s = sorted(sentences.get(c, [cos[c]]), reverse=True)
        rows.append([
            cos[c], s[0], s[1] if len(s) > 1 else s[0], mixed_mm.get(c, 0.0), lexical_mm.get(c, 0.0),
            lexical_raw.get(c, 0.0) / lexical_top, float(c in lexical_raw), cos[c] - cos_top, s[0] - sentence_top,
            0.5 * mixed_mm.get(c, 0.0) + 0.5 * lexical_mm.get(c, 0.0), math.log(len(s)),
            q["title_bm25"].get(c, 0.0) / title_top, 1 / (1 + dense_rank.get(c, 100)),
            1 / (1 + lexical_rank.get(c, 100)), cos_mm.get(c, 0.0),
        ])
    return union, np.array(rows), np.array([float(q["doc_of"][c] in q["gold"]) for c in union])


def evaluate(data: list[dict], score, floor: float | None) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    from rag.eval.metrics import mrr_at_k, recall_at_k
    from rag.retrieval import distinct_first

    out: dict[str, list[float]] = {m: [] for m in METRICS}
    for q in data:
        scores = score(q)
        # ties as rag.retrieval breaks them (the closer meaning first), then by id: the same order on every run
        ranked = sorted(scores, key=lambda c: (-scores[c], -q["cos"].get(c, -1.0), c))
        if floor is not None:
            ranked = distinct_first(ranked, q["doc_of"], minmax(scores), floor=floor)
        ids = [q["doc_of"][c] for c in ranked[:10]]
        for m, k in (("recall@1", 1), ("recall@5", 5), ("recall@10", 10)):
            out[m].append(recall_at_k(ids, q["gold"], k))
        out["mrr@10"].append(mrr_at_k(ids, q["gold"], 10))
    return out


def fit(train: list[dict], seed: int = 0) -> dict:  # type: ignore[type-arg]
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    differences, labels, rows, ys = [], [], [], []
    for q in train:
        _, x, y = features(q)
        rows.append(x)
        ys.append(y)
        positive, negative = np.where(y == 1)[0], np.where(y == 0)[0]
        for p in positive:
            for n in (negative if len(negative) <= 30 else rng.choice(negative, 30, replace=False)):
                differences += [x[p] - x[n], x[n] - x[p]]
                labels += [1, 0]
    linear = LogisticRegression(C=1.0, fit_intercept=False, max_iter=2000).fit(np.array(differences), labels)
    print("pairwise logistic weights: " + ", ".join(f"{n} {w:+.2f}" for n, w in zip(FEATURES, linear.coef_[0])))
    x, y = np.concatenate(rows), np.concatenate(ys)
    models = {"pairwise logistic": lambda m: m @ linear.coef_[0]}
    for depth, rounds in ((3, 200), (4, 400)):
        trees = HistGradientBoostingClassifier(max_depth=depth, max_iter=rounds, learning_rate=0.05,
                                               random_state=seed).fit(x, y)
        models[f"boosted trees, depth {depth}, {rounds} rounds"] = lambda m, t=trees: t.predict_proba(m)[:, 1]
    return models


def main(argv: list[str] | None = None) -> int:
    from rag.eval.metrics import paired_bootstrap_diff

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train", type=Path, required=True, help="retrieval_sweep --sentences cache of the training split")
    p.add_argument("--eval", action="append", required=True, help="NAME=CACHE, a cache to compare on (repeatable)")
    args = p.parse_args(argv)
    models = fit(pickle.loads(args.train.read_bytes()))
    for name, path in (e.split("=", 1) for e in args.eval):
        data = pickle.loads(Path(path).read_bytes())
        shipped = evaluate(data, lambda q: sentence_scores(q, 0.7, 0.5), 0.5)
        print(f"\n{name} ({len(data)} questions)\n  shipped: " + " ".join(
            f"{m} {np.mean(shipped[m]):.3f}" for m in METRICS))
        for model, predict in models.items():
            for floor in (0.5, 0.0):
                def score(q: dict, predict=predict) -> dict[str, float]:  # type: ignore[no-untyped-def]
                    candidates, x, _ = features(q)
                    return dict(zip(candidates, predict(x)))

                v = evaluate(data, score, floor)
                gains = (paired_bootstrap_diff(shipped[m], v[m]) for m in METRICS)
                print(f"  {model}, floor {floor}: " + ", ".join(
                    f"{m} {np.mean(v[m]):.3f} ({d[0]:+.3f} [{d[1][0]:+.3f}, {d[1][1]:+.3f}])"
                    for m, d in zip(METRICS, gains)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
