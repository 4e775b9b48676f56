"""The BM25 side's query on a dev split (issue 15): question words left out or not, pseudo-relevance feedback, and
the fusion weights again, each against the whole question through the shipped ranking. bm25s stands in for the
tantivy index (same tokenisation, k1 1.2, b 0.75; it reproduces the shipped ranking within a question).

    .venv/bin/python bench/question_words.py --index DIR --questions $S/squad-dev.jsonl --cache $S/dev.pkl

DIR and the cache as for bench/retrieval_sweep.py (a `--sentences` cache of the same questions). A candidate that a
new BM25 list brings and the cache lacks gets its true cosine and sentence cosines (embedded here), so that it
competes on the dense side as it would in rag. As in retrieval_sweep.py, the dense side ranks every candidate the
cache (and these fills) hold for the question, so the variants share one dense pool and differ in their BM25 lists.

- queries: the whole question; rag.keywords (what ships); its first version (cc14e6b: 25 words, "many", "much",
  "name", "called", "type", "kind" among them, dropped in lower case or as the first word); scikit-learn's English
  stopwords dropped wherever they stand;
- PRF (RM3-like, over what ships): the ten best terms (frequency x IDF) of the first 3 or 5 passages of BM25 or
  of the fused ranking, added at 0.5, 1 or 2 times one query term;
- weights (over what ships): sentence weight 0.5 / 0.7 / 0.85 by dense weight 0.4 to 0.6.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import clear_rag_environment, read_jsonl  # noqa: E402

import argparse  # noqa: E402
import math  # noqa: E402
import pickle  # noqa: E402
import re  # noqa: E402
from collections import Counter  # noqa: E402

import numpy as np  # noqa: E402

from bench.learned_fusion import evaluate  # noqa: E402
from bench.retrieval_sweep import METRICS, sentence_scores  # noqa: E402

FIRST_VERSION = frozenset((
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do", "was", "were",
    "is", "are", "has", "have", "had", "many", "much", "name", "called", "type", "kind",
))


def dropping(words: frozenset[str], names_stay: bool = False):  # type: ignore[no-untyped-def]
    """A query filter: `words` out wherever they stand, or (`names_stay`, the first version of rag.keywords, cc14e6b)
    only in lower case or as the query's first word."""
    def run(q: str) -> str:
        found = re.search(r"\w+", q)
        first = found.start() if found else -1
        kept = re.sub(r"\w+", lambda m: "" if m.group().lower() in words and (
            not names_stay or m.group().islower() or m.start() == first) else m.group(), q)
        return kept if re.search(r"\w", kept) else q

    return run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--questions", type=Path, required=True)
    p.add_argument("--cache", type=Path, required=True, help="retrieval_sweep.py --sentences cache of --questions")
    args = p.parse_args(argv)
    clear_rag_environment()
    import bm25s
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    import rag
    from rag.eval.metrics import paired_bootstrap_diff
    from rag.keywords import keywords
    from rag.lexical import tokenize
    from rag.sentence_vectors import sentence_texts

    data = pickle.loads(args.cache.read_bytes())
    questions = [q["question"] for q in read_jsonl(args.questions) if q.get("sources")]
    index = rag.open_index(args.index, chroma_url=None)
    ids, texts = list(data[0]["doc_of"]), {}
    for i in range(0, len(ids), 500):
        texts.update({c: chunk.lexical_text for c, chunk in index.store.get(ids[i:i + 500])[0].items()})
    ids = [c for c in ids if c in texts]
    corpus = tokenize([texts[c] for c in ids])
    position = {c: i for i, c in enumerate(ids)}
    df = Counter(t for tokens in corpus for t in set(tokens))
    idf = {t: math.log(1 + (len(ids) - f + 0.5) / (f + 0.5)) for t, f in df.items()}
    bm25 = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    bm25.index(corpus, show_progress=False)
    vectors = index.embedder.embed(questions)
    rows: dict[str, tuple] = {}  # type: ignore[type-arg]
    term_scores: dict[str, np.ndarray] = {}

    def scores_of(tokens: list[str]) -> np.ndarray:
        for t in tokens:
            if t not in term_scores:
                term_scores[t] = bm25.get_scores([t])
        return sum((term_scores[t] for t in tokens), np.zeros(len(ids)))

    def listed(scores: np.ndarray) -> list[tuple[str, float]]:
        return [(ids[j], float(scores[j])) for j in np.argsort(-scores)[:100] if scores[j] > 0]

    def lexical(name: str, lists: list[list[tuple[str, float]]]) -> None:
        """Each question's BM25 list under `name`; its new candidates given their cosines."""
        new = sorted({c for q, side in zip(data, lists) for c, _ in side[:50] if c not in q["cos"]} - set(rows))
        for i in range(0, len(new), 256):
            chunks, chunk_vectors = index.store.get(new[i:i + 256], embeddings=True)
            for c, chunk in chunks.items():
                rows[c] = (chunk_vectors[c], index.embedder.embed(sentence_texts(chunk)))
        for q, side, vector in zip(data, lists, vectors):
            q[name] = side
            for c, _ in side[:50]:
                if c not in q["cos"] and c in rows:
                    q["cos"][c] = float(rows[c][0] @ vector)
                    q["sentence_cos"][c] = (rows[c][1] @ vector).tolist()
                    q["best_sentence"][c] = max(q["sentence_cos"][c])

    def ranking(name: str, lam: float = 0.7, w: float = 0.5):  # type: ignore[no-untyped-def]
        return lambda q: sentence_scores({**q, "lexical": q[name]}, lam, w)

    queries = {"whole question": lambda q: q, "rag.keywords (ships)": keywords,
               "first version (25 words, cc14e6b)": dropping(FIRST_VERSION, names_stay=True),
               "scikit-learn English stopwords": dropping(frozenset(ENGLISH_STOP_WORDS))}
    tokens = {name: tokenize([f(q) for q in questions]) for name, f in queries.items()}
    for name in queries:
        lexical(name, [listed(scores_of(t)) for t in tokens[name]])
    shipped = "rag.keywords (ships)"
    results = {name: evaluate(data, ranking(name), 0.5) for name in queries}
    for source in ("bm25", "fused"):
        for m in (3, 5):
            expansions = []
            for q, query_tokens in zip(data, tokens[shipped]):
                if source == "bm25":
                    feedback = [c for c, _ in q[shipped][:m]]
                else:
                    fused = ranking(shipped)(q)
                    feedback = sorted(fused, key=lambda c: -fused[c])[:m]
                weights: Counter = Counter()
                for c in feedback:
                    doc = corpus[position[c]]
                    for t, f in Counter(doc).items():
                        if t not in query_tokens:
                            weights[t] += f / len(doc) * idf[t]
                best = weights.most_common(10)
                total = sum(v for _, v in best) or 1.0
                expansions.append([(t, v / total) for t, v in best])
            for lam in (0.5, 1.0, 2.0):
                name = f"PRF from {source}'s first {m}, x{lam}"
                lexical(name, [listed(scores_of(t) + lam * sum((v * scores_of([e]) for e, v in expansion),
                                                               np.zeros(len(ids))))
                               for t, expansion in zip(tokens[shipped], expansions)])
                results[name] = evaluate(data, ranking(name), 0.5)
    for lam in (0.5, 0.7, 0.85):
        for w in (0.4, 0.45, 0.5, 0.55, 0.6):
            if (lam, w) != (0.7, 0.5):
                results[f"ships, sentences {lam}, dense {w}"] = evaluate(data, ranking(shipped, lam, w), 0.5)
    base = results["whole question"]
    print(f"{args.questions.name}: {len(data)} questions; each against the whole question, then (after |) against "
          "what ships (paired 95%)")
    for name, v in results.items():
        line = f"{name}: " + " ".join(f"{m} {np.mean(v[m]):.3f}" for m in METRICS)
        for ref in (base, results[shipped]):
            if v is not ref:
                gains = (paired_bootstrap_diff(ref[m], v[m]) for m in METRICS)
                line += " | " + ", ".join(f"{m[-2:]} {d[0]:+.3f} [{d[1][0]:+.3f}, {d[1][1]:+.3f}]"
                                          for m, d in zip(METRICS, gains))
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
