"""How the hybrid ranking depends on the fusion settings (rrf_k, candidates), on an index that already exists.

    .venv/bin/python bench/ingest_retrieval.py --keep-index /tmp/rag-bench     # builds /tmp/rag-bench/<set>
    .venv/bin/python bench/fusion_sweep.py --index /tmp/rag-bench/squad-v1.1-dev --set squad-v1.1-dev

For each question it fetches the dense and the BM25 candidate lists once (the largest pool swept), then fuses
them offline exactly as rag.retrieval.retrieve does (reciprocal rank fusion, ties to the higher cosine, then the
higher BM25 score), for every (rrf_k, candidates) pair, plus a few fusion variants that rag does not offer
(weighted RRF, min-max score fusion) to see what would help. A few settings are re-run through the real API,
`rag.open_index(DIR, fusion="rrf", rrf_k=..., candidates=...).search(q, k=10)`, to check the offline fusion matches it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, clear_rag_environment, data_dir, read_jsonl, table  # noqa: E402

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

K = 10
RRF_KS = (1, 5, 10, 20, 30, 60, 100, 200)
CANDIDATES = (10, 20, 30, 50, 100, 200)
METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def fuse(dense: list[tuple[str, float]], lexical: list[tuple[str, float]], rrf_k: float, pool: int,
         w_dense: float = 1.0, w_lexical: float = 1.0) -> list[str]:
    """rag.retrieval's hybrid ranking (weights 1, 1), over the first `pool` candidates of each side."""
    dense, lexical = dense[:pool], lexical[:pool]
    ds, ls = dict(dense), dict(lexical)
    fused: dict[str, float] = {}
    for weight, ranking in ((w_dense, dense), (w_lexical, lexical)):
        for rank, (cid, _) in enumerate(ranking, start=1):
            fused[cid] = fused.get(cid, 0.0) + weight / (rrf_k + rank)
    return sorted(fused, key=lambda c: (-fused[c], -ds.get(c, -1.0), -ls.get(c, 0.0)))[:K]


def score_fusion(dense: list[tuple[str, float]], lexical: list[tuple[str, float]], pool: int,
                 alpha: float) -> list[str]:
    """rag.retrieval.convex (`RAG_FUSION=convex`, dense weight alpha) over the first `pool` candidates of each side."""
    from rag.retrieval import convex

    fused = convex(dense[:pool], lexical[:pool], alpha)
    return sorted(fused, key=lambda c: -fused[c])[:K]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--index", type=Path, required=True, help="an index folder built from the set's corpus")
    p.add_argument("--set", default="squad-v1.1-dev")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--skip", type=int, default=0, help="skip the first N questions (e.g. to check on held-out ones)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fusion_sweep.json")
    args = p.parse_args(argv)
    clear_rag_environment()
    questions_path = data_dir() / args.set / "questions.jsonl"
    if not questions_path.is_file() or not (args.index / "manifest.json").is_file():
        print(f"SKIP: need {questions_path} and an index in {args.index} "
              "(build it with ingest_retrieval.py --keep-index)")
        return 0

    import rag
    from rag.embeddings import SentenceTransformerEmbedder
    from rag.eval.metrics import mrr_at_k, ndcg_at_k, paired_bootstrap_diff, recall_at_k

    embedder = SentenceTransformerEmbedder()
    index = rag.open_index(args.index, embedder=embedder, chroma_url=None)
    store = index.store
    doc_of = {cid: doc for doc in store.documents() for cid in store.lexical.ids_of([doc])}
    questions = [q for q in read_jsonl(questions_path) if q.get("sources")][args.skip:]
    questions = questions[: args.limit or None]
    top = max(CANDIDATES)
    print(f"{args.set}: {len(questions)} questions, {len(doc_of)} chunks; fetching {top} candidates per side ...",
          flush=True)
    started = time.perf_counter()
    lists = []
    for q in questions:
        vector = embedder.embed([q["question"]])[0]
        lists.append((store.dense_search(vector, top), store.lexical_search(q["question"], top)))
    print(f"  {time.perf_counter() - started:.0f}s", flush=True)

    def per_question(rank_fn) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
        values: dict[str, list[float]] = {m: [] for m in METRICS}
        for q, (dense, lexical) in zip(questions, lists):
            docs, gold = [doc_of[c] for c in rank_fn(dense, lexical)], set(q["sources"])
            values["recall@1"].append(recall_at_k(docs, gold, 1))
            values["recall@5"].append(recall_at_k(docs, gold, 5))
            values["recall@10"].append(recall_at_k(docs, gold, 10))
            values["mrr@10"].append(mrr_at_k(docs, gold, 10))
            values["ndcg@10"].append(ndcg_at_k(docs, gold, 10))
        return values

    def evaluate(rank_fn) -> dict[str, float]:  # type: ignore[no-untyped-def]
        return {m: round(sum(v) / len(v), 4) for m, v in per_question(rank_fn).items()}

    results: dict = {"set": args.set, "questions": len(questions), "skip": args.skip,
                     "single": {}, "rrf": [], "variants": []}
    results["single"]["dense"] = evaluate(lambda d, lx: [c for c, _ in d[:K]])
    results["single"]["lexical"] = evaluate(lambda d, lx: [c for c, _ in lx[:K]])
    for rrf_k in RRF_KS:
        for pool in CANDIDATES:
            results["rrf"].append({"rrf_k": rrf_k, "candidates": pool,
                                   **evaluate(lambda d, lx, r=rrf_k, n=pool: fuse(d, lx, r, n))})
    for w in (1.5, 2.0, 3.0):
        for rrf_k in (10, 60):
            results["variants"].append({"variant": f"weighted RRF, lexical x{w}, rrf_k={rrf_k}, candidates=50",
                                        **evaluate(lambda d, lx, r=rrf_k, w=w: fuse(d, lx, r, 50, 1.0, w))})
    for alpha in (0.2, 0.3, 0.4, 0.5):
        results["variants"].append({"variant": f"min-max score fusion, dense weight {alpha}, candidates=50",
                                    **evaluate(lambda d, lx, a=alpha: score_fusion(d, lx, 50, a))})

    # paired bootstrap: a few candidate rankings against the better single mode and the current default
    named = {
        "dense": lambda d, lx: [c for c, _ in d[:K]],
        "lexical": lambda d, lx: [c for c, _ in lx[:K]],
        "hybrid default (rrf_k=60, candidates=50)": lambda d, lx: fuse(d, lx, 60, 50),
        "hybrid rrf_k=5, candidates=100": lambda d, lx: fuse(d, lx, 5, 100),
        "weighted RRF lexical x1.5, rrf_k=10": lambda d, lx: fuse(d, lx, 10, 50, 1.0, 1.5),
        "min-max score fusion, dense weight 0.4": lambda d, lx: score_fusion(d, lx, 50, 0.4),
    }
    vectors = {name: per_question(fn) for name, fn in named.items()}
    best_single = {m: max(("dense", "lexical"), key=lambda s: sum(vectors[s][m])) for m in METRICS}
    paired = []
    for name in list(named)[2:]:
        row = {"ranking": name}
        for m in ("recall@1", "mrr@10", "ndcg@10"):
            for ref in (best_single[m], "hybrid default (rrf_k=60, candidates=50)"):
                if ref == name:
                    continue
                diff = paired_bootstrap_diff(vectors[ref][m], vectors[name][m])
                tag = "default" if ref.startswith("hybrid default") else ref
                row[f"{m} vs {tag}"] = f"{diff[0]:+.3f} [{diff[1][0]:+.3f}, {diff[1][1]:+.3f}]"
        paired.append(row)
    results["paired_bootstrap"] = paired

    # complementarity: where is the gold at rank 1?
    both = d_only = l_only = neither = 0
    for q, (dense, lexical) in zip(questions, lists):
        gold = set(q["sources"])
        d1 = bool(dense) and doc_of[dense[0][0]] in gold
        l1 = bool(lexical) and doc_of[lexical[0][0]] in gold
        both += d1 and l1
        d_only += d1 and not l1
        l_only += l1 and not d1
        neither += not d1 and not l1
    results["top1_agreement"] = {"both": both, "dense_only": d_only, "lexical_only": l_only, "neither": neither}

    # check the offline fusion against the real API for a few settings
    checks = []
    for rrf_k, pool in ((60, 50), (10, 50), (60, 20)):
        api = rag.open_index(args.index, embedder=embedder, chroma_url=None, fusion="rrf", rrf_k=rrf_k,
                              candidates=pool)
        same = 0
        for q, (dense, lexical) in zip(questions[:200], lists[:200]):
            same += [p.id for p in api.search(q["question"], k=K)] == fuse(dense, lexical, rrf_k, pool)
        checks.append({"rrf_k": rrf_k, "candidates": pool, "identical_rankings": f"{same}/{min(200, len(questions))}"})
    results["api_check"] = checks

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    rows = [[m, "-", "-", *v.values()] for m, v in results["single"].items()]
    rows += [["hybrid RRF", r["rrf_k"], r["candidates"], *(r[m] for m in METRICS)] for r in results["rrf"]]
    print(table(rows, ["ranking", "rrf_k", "candidates", *METRICS]))
    print()
    print(table([[v["variant"], *(v[m] for m in METRICS)] for v in results["variants"]], ["variant", *METRICS]))
    print()
    for row in paired:
        print(row)
    print(f"\ngold at rank 1: {results['top1_agreement']}")
    print(f"offline fusion vs index.search: {checks}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
