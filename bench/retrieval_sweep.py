"""Offline sweep of hybrid rankings on a question set (issue 15): fetch each side's candidates once, rank offline.

    .venv/bin/python bench/retrieval_splits.py --out /work/scratch/retr          # the dev and held-out questions
    .venv/bin/python bench/retrieval_sweep.py --index DIR --questions /work/scratch/retr/squad-dev.jsonl

DIR is an index of the set's corpus built with the default settings (e.g. the one `rag eval --corpus ... --index
DIR` builds, under DIR/eval-indexes/...: pass that folder). Per question: the query vector (the index's own
embedder), the dense and BM25 top `--pool`, and the vectors of every candidate (so a passage only BM25 found
gets its true cosine). Then each ranking below is computed offline, scored at document level (recall@1/5/10,
MRR@10) and compared with the old default (RRF, k 60, 50 candidates) by paired bootstrap:

- rrf: reciprocal rank fusion (rag's `RAG_FUSION=rrf`);
- convex w: rag.retrieval.convex, min-max-normalised scores, dense weight w, 50 candidates a side;
- convex+fill w: the same, a candidate only BM25 found scored by its true cosine instead of 0;
- zscore w: each side's scores standardised (mean 0, sd 1 over its candidates) instead of min-max;
- adaptive w0 g: convex with the dense weight moved by how peaked each side is (gap of the first two normalised
  scores, to the power g);
- title t: convex 0.x plus t x a BM25 score of the document's title alone (title as its own field);
- siblings b: convex plus b x the best score of another chunk of the same document (document aggregation);
- distinct docs: the ranking's first chunk of each document before any second chunk of one (a diversity reorder);
- sentences l (with --sentences): each candidate's dense score is (1 - l) x its cosine + l x the best cosine of
  one of its sentences (title-prefixed, embedded here: what ingestion stores), then convex 0.4 (or w);
- ... distinct docs (floor f): then rag.retrieval.distinct_first, promotion stopping at a document whose best
  chunk scores under f x the top score (rag's default: sentences 0.7, convex 0.5, distinct, floor 0.5).
- shipped + title in question t (with a --sentences cache): rag's default ranking, plus t for a candidate
  whose document title (less a trailing "(...)") has all its words in the question;
- shipped, BM25 k1 x b y (with --bm25-params and a --sentences cache): rag's default ranking over a BM25 top
  `--pool` from bm25s with those parameters (same tokenisation; rag's tantivy index fixes k1 1.2, b 0.75). A
  candidate that only the new BM25 list holds has no cosine: the count of those is printed.

The BM25 side searches each question as rag does, less its question words (rag.keywords); caches made before
2026-11-26 searched the whole question, the default of their day.

`--cache FILE` keeps the fetched candidates (and sentence cosines) in a pickle, so the rankings can be run again
without searching or embedding.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import clear_rag_environment, read_jsonl, table  # noqa: E402

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pickle  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import numpy as np  # noqa: E402

K = 10
METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10")


def minmax(pairs: dict[str, float]) -> dict[str, float]:
    if not pairs:
        return {}
    low, high = min(pairs.values()), max(pairs.values())
    return {c: (s - low) / (high - low) if high > low else 1.0 for c, s in pairs.items()}


def zscore(pairs: dict[str, float]) -> dict[str, float]:
    if not pairs:
        return {}
    values = np.array(list(pairs.values()))
    sd = values.std() or 1.0
    return {c: (s - values.mean()) / sd for c, s in pairs.items()}


def rrf_rank(q: dict, k: int = 60, pool: int = 50) -> dict[str, float]:
    fused: dict[str, float] = {}
    for side in (q["dense"][:pool], q["lexical"][:pool]):
        for rank, (c, _) in enumerate(side, start=1):
            fused[c] = fused.get(c, 0.0) + 1.0 / (k + rank)
    return fused


def convex_scores(q: dict, w: float, pool: int = 50, fill: bool = False, norm=minmax) -> dict[str, float]:  # type: ignore[no-untyped-def]
    dense, lexical = dict(q["dense"][:pool]), dict(q["lexical"][:pool])
    d, lx = norm(dense), norm(lexical)
    if fill and dense:
        values = np.array(list(dense.values()))
        low, high, mean, sd = values.min(), values.max(), values.mean(), values.std() or 1.0
        for c in lexical:
            if c not in d and c in q["cos"]:
                if norm is zscore:
                    d[c] = (q["cos"][c] - mean) / sd
                else:
                    d[c] = max((q["cos"][c] - low) / (high - low), 0.0) if high > low else 0.0
    floor_d = min(d.values(), default=0.0) if norm is zscore else 0.0
    floor_l = min(lx.values(), default=0.0) if norm is zscore else 0.0
    return {c: w * d.get(c, floor_d) + (1 - w) * lx.get(c, floor_l) for c in d.keys() | lx.keys()}


def peak(scores: list[float]) -> float:
    """How far the first score stands out: (s1 - s2) / (s1 - s_last), 0 with fewer than 2."""
    if len(scores) < 2 or scores[0] == scores[-1]:
        return 0.0
    return (scores[0] - scores[1]) / (scores[0] - scores[-1])


def adaptive_scores(q: dict, w0: float, g: float, pool: int = 50) -> dict[str, float]:
    pd = (1e-3 + peak([s for _, s in q["dense"][:pool]])) ** g
    pl = (1e-3 + peak([s for _, s in q["lexical"][:pool]])) ** g
    return convex_scores(q, w0 * pd / (w0 * pd + (1 - w0) * pl), pool, fill=True)


def with_title(q: dict, base: dict[str, float], t: float) -> dict[str, float]:
    titles = q["title_bm25"]
    top = max(titles.values(), default=0.0) or 1.0
    return {c: s + t * titles.get(c, 0.0) / top for c, s in base.items()}


def with_siblings(q: dict, base: dict[str, float], b: float) -> dict[str, float]:
    best: dict[str, list[float]] = {}
    for c, s in base.items():
        best.setdefault(q["doc_of"][c], []).append(s)
    out = {}
    for c, s in base.items():
        others = sorted(best[q["doc_of"][c]], reverse=True)
        other = others[1] if others[0] == s and len(others) > 1 else (others[0] if others[0] != s else 0.0)
        out[c] = s + b * other
    return out


def sentence_scores(q: dict, lam: float, w: float = 0.4) -> dict[str, float]:
    mixed = dict(q)
    best = q["best_sentence"]
    mixed["dense"] = sorted(((c, (1 - lam) * q["cos"][c] + lam * best.get(c, q["cos"][c])) for c in q["cos"]),
                            key=lambda pair: -pair[1])[:50]
    return convex_scores(mixed, w)


def sentence_evidence(store, embedder, data: list[dict], query_vectors: list) -> None:  # type: ignore[no-untyped-def]
    """Fill each question's "best_sentence": candidate chunk id -> best cosine of one of its sentences."""
    from rag.sentence_vectors import sentence_texts

    ids = sorted({c for q in data for c in q["cos"]})
    started, sentence_vectors = time.perf_counter(), {}
    for i in range(0, len(ids), 256):
        chunks, _ = store.get(ids[i:i + 256])
        for cid, chunk in chunks.items():
            sentence_vectors[cid] = sentence_texts(chunk)
    flat = [(cid, t) for cid, texts in sentence_vectors.items() for t in texts]
    embedded = np.concatenate([embedder.embed([t for _, t in flat[i:i + 256]]) for i in range(0, len(flat), 256)])
    by_chunk: dict[str, list[int]] = {}
    for row, (cid, _) in enumerate(flat):
        by_chunk.setdefault(cid, []).append(row)
    print(f"  sentences: {len(flat)} of {len(by_chunk)} chunks embedded in {time.perf_counter() - started:.0f}s",
          flush=True)
    for q, vector in zip(data, query_vectors):
        q["sentence_cos"] = {c: (embedded[by_chunk[c]] @ vector).tolist() for c in q["cos"] if c in by_chunk}
        q["best_sentence"] = {c: max(v) for c, v in q["sentence_cos"].items()}


def latency(folder: Path, questions: list[str]) -> int:
    """Search p50 / p95 of both fusions on the same index, each question searched by both in turn."""
    import rag

    indexes = {f: rag.open_index(folder, chroma_url=None, fusion=f) for f in ("rrf", "convex")}
    indexes["convex, names not covered"] = rag.open_index(folder, chroma_url=None, cover_names=False)
    indexes["convex, BM25 searching question words too"] = rag.open_index(folder, chroma_url=None,
                                                                          question_words=True)
    times: dict[str, list[float]] = {f: [] for f in indexes}
    for f, index in indexes.items():
        index.search(questions[0], k=K)  # warm
    for question in questions:
        for f, index in indexes.items():
            started = time.perf_counter()
            index.search(question, k=K)
            times[f].append(1000 * (time.perf_counter() - started))
    for f, values in times.items():
        print(f"{f}: search p50 {np.percentile(values, 50):.1f} ms, p95 {np.percentile(values, 95):.1f} ms "
              f"over {len(values)} questions")
    return 0


class TitleBM25:
    """BM25 (k1 1.2, b 0.75) over the documents' titles alone, rag.lexical's tokenisation."""

    def __init__(self, titles: dict[str, str]) -> None:
        from rag.lexical import tokenize

        self.tokenize = tokenize
        self.terms = {d: Counter(toks) for d, toks in zip(titles, tokenize(list(titles.values())))}
        self.length = {d: sum(c.values()) for d, c in self.terms.items()}
        self.avg = sum(self.length.values()) / max(len(self.length), 1)
        df: Counter = Counter()
        for c in self.terms.values():
            df.update(c.keys())
        n = len(self.terms)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def score(self, query_tokens: list[str], doc: str) -> float:
        tf, length, total = self.terms.get(doc, Counter()), self.length.get(doc, 0), 0.0
        for t in set(query_tokens):
            if t in tf:
                f = tf[t]
                total += self.idf[t] * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * length / self.avg))
        return total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--index", type=Path, required=True, help="an index folder built from the set's corpus")
    p.add_argument("--questions", type=Path, required=True)
    p.add_argument("--pool", type=int, default=100, help="candidates fetched per side")
    p.add_argument("--out", type=Path, default=None, help="JSON of every ranking's figures")
    p.add_argument("--sentences", action="store_true", help="also embed every candidate's sentences (slow)")
    p.add_argument("--cache", type=Path, default=None, help="pickle of the fetched candidates: written once, "
                   "then read instead of searching again")
    p.add_argument("--bm25-params", default="", help="k1:b pairs, comma-separated (e.g. 1.2:0.75,0.9:0.75): "
                   "the shipped ranking over bm25s with each")
    p.add_argument("--latency", type=int, default=0, help="only time index.search (k 10) of the first N questions, "
                   "RAG_FUSION rrf, convex, convex without RAG_COVER_NAMES and with RAG_QUESTION_WORDS interleaved, "
                   "and stop")
    args = p.parse_args(argv)
    clear_rag_environment()

    import rag

    if args.latency:
        return latency(args.index, [q["question"] for q in read_jsonl(args.questions)][: args.latency])
    if args.cache and args.cache.exists():
        data = pickle.loads(args.cache.read_bytes())
    else:
        data = fetch(args, rag)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(data))
    questions = [q for q in read_jsonl(args.questions) if q.get("sources")]
    if len(questions) != len(data):
        raise SystemExit(f"{args.cache} holds {len(data)} questions, {args.questions} {len(questions)}: not its cache")
    if data and "best_sentence" in data[0]:
        other_sides(args, rag, data, questions)
    elif args.bm25_params:
        print("--bm25-params needs --sentences (or a cache made with it): not ranked")
    rank_all(args, data)
    return 0


def other_sides(args, rag, data: list[dict], questions: list[dict]) -> None:  # type: ignore[no-untyped-def]
    """Fill each question's "titled" (document -> its title's words all in the question) and, for each
    --bm25-params pair, "bm25 k1 b" (a bm25s top --pool over the index's chunks)."""
    import re

    from rag.keywords import keywords
    from rag.lexical import tokenize

    index = rag.open_index(args.index, chroma_url=None)
    bare = {d: re.sub(r"\s*\([^)]*\)\s*$", "", r.title) for d, r in index.store.documents().items()}
    titles = {d: set(tokenize([t])[0]) for d, t in bare.items()}
    for q, question in zip(data, questions, strict=True):
        words = set(tokenize([question["question"]])[0])
        q["titled"] = {d: bool(titles.get(d)) and titles[d] <= words for d in set(q["doc_of"][c] for c in q["cos"])}
    pairs = [tuple(float(x) for x in pair.split(":")) for pair in args.bm25_params.split(",") if pair]
    if not pairs:
        return
    import bm25s

    ids = list(data[0]["doc_of"])  # every chunk of the index, as fetch() listed them
    texts: dict[str, str] = {}
    for i in range(0, len(ids), 500):
        chunks, _ = index.store.get(ids[i:i + 500])
        texts.update({c: chunk.lexical_text for c, chunk in chunks.items()})
    ids = [c for c in ids if c in texts]
    corpus, queries = tokenize([texts[c] for c in ids]), tokenize([keywords(q["question"]) for q in questions])
    for k1, b in pairs:
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        retriever.index(corpus, show_progress=False)
        rows, scores = retriever.retrieve(queries, k=args.pool, show_progress=False, n_threads=1)
        for q, row, score in zip(data, rows, scores):
            q[f"bm25 {k1} {b}"] = [(ids[j], float(s)) for j, s in zip(row, score) if s > 0]
        unknown = sum(c not in q["cos"] for q in data for c, _ in q[f"bm25 {k1} {b}"][:50])
        print(f"  bm25s k1 {k1} b {b}: {unknown} of the new top-50 candidates have no cosine (scored 0 dense)")


def fetch(args, rag) -> list[dict]:  # type: ignore[no-untyped-def]
    from rag.keywords import keywords

    index = rag.open_index(args.index, chroma_url=None)
    store, embedder = index.store, index.embedder
    docs = store.documents()
    doc_of = {cid: d for d in docs for cid in store.lexical.ids_of([d])}
    title_bm25 = TitleBM25({d: r.title for d, r in docs.items()})
    questions = [q for q in read_jsonl(args.questions) if q.get("sources")]
    print(f"{args.questions.name}: {len(questions)} questions, {len(doc_of)} chunks; fetching {args.pool} a side",
          flush=True)
    started, data = time.perf_counter(), []
    for q in questions:
        vector = embedder.embed([q["question"]])[0]
        dense, lexical = store.dense_search(vector, args.pool), store.lexical_search(keywords(q["question"]), args.pool)
        union = list({c for c, _ in dense} | {c for c, _ in lexical})
        _, vectors = store.get(union, embeddings=True)
        tokens = title_bm25.tokenize([q["question"]])[0]
        data.append({"dense": dense, "lexical": lexical, "doc_of": doc_of, "gold": set(q["sources"]),
                     "cos": {c: float(v @ vector) for c, v in vectors.items()},
                     "title_bm25": {c: title_bm25.score(tokens, doc_of[c]) for c in union}})
    print(f"  {time.perf_counter() - started:.0f}s", flush=True)
    if args.sentences:
        sentence_evidence(store, embedder, data, [embedder.embed([q["question"]])[0] for q in questions])
    return data


def rank_all(args, data: list[dict]) -> None:  # type: ignore[no-untyped-def]
    from rag.eval.metrics import mrr_at_k, paired_bootstrap_diff, recall_at_k
    from rag.retrieval import distinct_first

    def per_question(rank_fn) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
        values: dict[str, list[float]] = {m: [] for m in METRICS}
        for q in data:
            scores = rank_fn(q)
            cos = q["cos"]
            ranked = sorted(scores, key=lambda c: (-scores[c], -cos.get(c, -1.0)))
            if getattr(rank_fn, "distinct", False):  # rag's own reorder, with the ranking's floor
                ranked = distinct_first(ranked, q["doc_of"], scores, floor=getattr(rank_fn, "floor", 0.0))
            ranked = ranked[:K]
            ids = [q["doc_of"][c] for c in ranked]
            for m, k in (("recall@1", 1), ("recall@5", 5), ("recall@10", 10)):
                values[m].append(recall_at_k(ids, q["gold"], k))
            values["mrr@10"].append(mrr_at_k(ids, q["gold"], 10))
        return values

    rankings = {
        "dense": lambda q: dict(q["dense"][:50]),
        "lexical": lambda q: dict(q["lexical"][:50]),
        "rrf k60 (old default)": lambda q: rrf_rank(q),
        "rrf k10": lambda q: rrf_rank(q, 10),
    }
    for w in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        rankings[f"convex {w}"] = lambda q, w=w: convex_scores(q, w)
        rankings[f"convex+fill {w}"] = lambda q, w=w: convex_scores(q, w, fill=True)
    for w in (0.4, 0.5):
        rankings[f"convex {w}, 100 candidates"] = lambda q, w=w: convex_scores(q, w, pool=100)
        rankings[f"zscore {w}"] = lambda q, w=w: convex_scores(q, w, norm=zscore)
        rankings[f"zscore+fill {w}"] = lambda q, w=w: convex_scores(q, w, fill=True, norm=zscore)
    for w0 in (0.4, 0.5):
        for g in (0.25, 0.5, 1.0):
            rankings[f"adaptive {w0} g{g}"] = lambda q, w0=w0, g=g: adaptive_scores(q, w0, g)
    for w in (0.4, 0.5):
        for t in (0.05, 0.1, 0.2, 0.3):
            rankings[f"convex+fill {w} + title {t}"] = lambda q, w=w, t=t: with_title(
                q, convex_scores(q, w, fill=True), t)
        for b in (0.05, 0.1, 0.2):
            rankings[f"convex+fill {w} + siblings {b}"] = lambda q, w=w, b=b: with_siblings(
                q, convex_scores(q, w, fill=True), b)

    for w in (0.4,):
        fn = lambda q, w=w: convex_scores(q, w)  # noqa: E731
        fn.distinct = True  # type: ignore[attr-defined]
        rankings[f"convex {w} + distinct docs"] = fn
    if "best_sentence" in data[0]:
        for lam in (0.3, 0.5, 0.7, 1.0):
            rankings[f"convex 0.4 + sentences {lam}"] = lambda q, lam=lam: sentence_scores(q, lam)
        for lam in (0.5, 0.7, 1.0):  # the dense weight again, with sentence evidence; then distinct documents
            for w in (0.4, 0.5, 0.6):
                rankings[f"sentences {lam}, convex {w}"] = lambda q, lam=lam, w=w: sentence_scores(q, lam, w)
                for floor in (0.0, 0.5):
                    fn = lambda q, lam=lam, w=w: sentence_scores(q, lam, w)  # noqa: E731
                    fn.distinct, fn.floor = True, floor  # type: ignore[attr-defined]
                    rankings[f"sentences {lam}, convex {w}, distinct docs (floor {floor})"] = fn
    if "titled" in data[0]:
        def shipped(q: dict, t: float = 0.0, lexical: str = "lexical") -> dict[str, float]:
            scores = sentence_scores({**q, "lexical": q[lexical]}, 0.7, 0.5)
            return {c: s + (t if q["titled"].get(q["doc_of"].get(c), False) else 0.0) for c, s in scores.items()}

        variants = {f"shipped + title in question {t}": {"t": t} for t in (0.02, 0.05, 0.1, 0.2)}
        variants.update({f"shipped, BM25 k1 {k[5:].replace(' ', ' b ')}": {"lexical": k} for k in data[0]
                         if k.startswith("bm25 ")})
        for name, kwargs in {"shipped (sentences 0.7, convex 0.5, distinct docs, floor 0.5)": {}, **variants}.items():
            fn = lambda q, kwargs=kwargs: shipped(q, **kwargs)  # noqa: E731
            fn.distinct, fn.floor = True, 0.5  # type: ignore[attr-defined]
            rankings[name] = fn
    vectors = {name: per_question(fn) for name, fn in rankings.items()}
    base, ref = vectors["rrf k60 (old default)"], vectors["convex 0.4"]
    rows, results = [], []
    for name, v in vectors.items():
        means = {m: round(sum(v[m]) / len(v[m]), 4) for m in METRICS}
        gain = paired_bootstrap_diff(base["recall@1"], v["recall@1"])
        gain_mrr = paired_bootstrap_diff(base["mrr@10"], v["mrr@10"])
        over_convex = paired_bootstrap_diff(ref["recall@1"], v["recall@1"])
        results.append({"ranking": name, **means, "recall@1 gain": gain, "mrr@10 gain": gain_mrr,
                        "recall@1 vs convex 0.4": over_convex})
        rows.append([name, *means.values(), *(f"{d[0]:+.3f} [{d[1][0]:+.3f}, {d[1][1]:+.3f}]"
                                              for d in (gain, gain_mrr, over_convex))])
    print(table(rows, ["ranking", *METRICS, "recall@1 vs rrf", "mrr@10 vs rrf", "recall@1 vs convex 0.4"]))
    shipped = next((v for name, v in vectors.items() if name.startswith("shipped (")), None)
    if shipped is not None:
        print("\nagainst the shipped ranking (paired 95%):")
        for name, v in vectors.items():
            if name.startswith("shipped") and v is not shipped:
                gains = (paired_bootstrap_diff(shipped[m], v[m]) for m in METRICS)
                print(f"  {name}: " + ", ".join(f"{m} {d[0]:+.3f} [{d[1][0]:+.3f}, {d[1][1]:+.3f}]"
                                              for m, d in zip(METRICS, gains)))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"questions": str(args.questions), "n": len(data), "results": results},
                                       indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
