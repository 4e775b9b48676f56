"""Ingestion cost, search latency and retrieval quality on public QA sets, in one run.

    .venv/bin/python bench/ingest_retrieval.py [--limit 1000] [--sets squad-v1.1-dev,hotpotqa-dev-500]
                                               [--out bench/results/ingest_retrieval.json]

Measures (see bench/README.md for what each figure means):
 1. ingest of the first set's corpus.jsonl into a fresh index, against a bare SentenceTransformer.encode of the
    exact texts the ingest embedded (same model object, same process, model warmed up first);
 2. re-ingest of the unchanged corpus (must embed nothing);
 3. warm index.search(q, k=10) latency per mode;
 4. document-level recall@1/5/10, MRR@10, nDCG@10 for hybrid, dense and lexical on each set.

Data is read from ../shared/data (or $RAG_BENCH_DATA); the benchmark skips, exit code 0, when it is absent.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402  (sets the offline environment before rag is imported)
    ROOT,
    Clock,
    RecordingEmbedder,
    Timed,
    clear_rag_environment,
    data_dir,
    machine,
    peak_rss_mb,
    read_jsonl,
    table,
)

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

MODES = ("hybrid", "dense", "lexical")
METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
K = 10
INGEST_SET = "squad-v1.1-dev"
# Plain BM25 over whole documents, from shared/data/README.md. Its Recall@5 is the share of a question's gold
# documents found in the top 5 documents (the BEIR definition), which we report as doc_recall@5.
REFERENCE = {
    "squad-v1.1-dev": {"doc_recall@5": 0.925, "mrr@10": 0.843, "ndcg@10": 0.869},
    "squad-v2.0-dev-5art": {"doc_recall@5": 0.962, "mrr@10": 0.892, "ndcg@10": 0.914},
    "hotpotqa-dev-500": {"doc_recall@5": 0.749, "mrr@10": 0.848, "ndcg@10": 0.772},
}
TARGET_OVERHEAD = 0.15
TARGET_REINGEST = 0.03
WARMUP_QUERIES = 5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--limit", type=int, default=1000, help="questions per set (default 1000; 0 = all)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest_retrieval.json")
    p.add_argument("--sets", default="squad-v1.1-dev,hotpotqa-dev-500", help="comma-separated data sets")
    p.add_argument("--keep-index", type=Path, default=None,
                   help="build the indexes in DIR/<set> and keep them (default: a temporary folder, removed)")
    p.add_argument("--repeats", type=int, default=1,
                   help="time the fresh ingest and the bare encodes this many times each, in rotating order, "
                        "and report the fastest (default 1; 3 gives a steadier overhead on a noisy machine)")
    p.add_argument("--details", type=Path, default=None,
                   help="also write per-question rankings (document ids per mode) to this JSON file")
    return p.parse_args(argv)


def doc_recall(ranked_docs: list[str], gold: set[str], k: int) -> float:
    """Share of the gold documents among the first k distinct documents (the BEIR Recall@k of the reference)."""
    return len(gold & set(list(dict.fromkeys(ranked_docs))[:k])) / len(gold)


def quality(ranked_docs: list[str], gold: set[str]) -> dict[str, float]:
    from rag.eval.metrics import mrr_at_k, ndcg_at_k, recall_at_k

    return {
        "recall@1": recall_at_k(ranked_docs, gold, 1),
        "recall@5": recall_at_k(ranked_docs, gold, 5),
        "recall@10": recall_at_k(ranked_docs, gold, 10),
        "mrr@10": mrr_at_k(ranked_docs, gold, 10),
        "ndcg@10": ndcg_at_k(ranked_docs, gold, 10),
        "doc_recall@5": doc_recall(ranked_docs, gold, 5),
    }


def bm25_whole_documents(corpus: Path, questions: list[dict]) -> dict[str, float]:
    """The reference's setup on the same questions: plain BM25 (bm25s, Snowball stems) over whole documents."""
    import bm25s
    import Stemmer

    _STEMMER = Stemmer.Stemmer("english")

    docs = read_jsonl(corpus)
    ids = [d["_id"] for d in docs]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([f"{d.get('title', '')}\n{d['text']}" for d in docs], stemmer=_STEMMER,
                                   show_progress=False), show_progress=False)
    found, _ = retriever.retrieve(bm25s.tokenize([q["question"] for q in questions], stemmer=_STEMMER,
                                                 show_progress=False), k=K, show_progress=False)
    sums: dict[str, float] = {}
    for q, row in zip(questions, found):
        for name, v in quality([ids[int(i)] for i in row], set(q["sources"])).items():
            sums[name] = sums.get(name, 0.0) + v
    return {name: round(v / len(questions), 4) for name, v in sums.items()}


def _fresh_ingest(corpus: Path, folder: Path, shared, say) -> dict:  # type: ignore[no-untyped-def]
    """One timed ingest into a fresh folder, with the time spent in each part."""
    import rag

    proxy = RecordingEmbedder(shared)
    started = time.perf_counter()
    index = rag.open_index(folder, embedder=proxy, chroma_url=None)
    open_seconds = time.perf_counter() - started
    store = index.store
    parts = {"write": store, "upsert_chunks": store.dense, "chunk_ids_of": store.dense,
             "put_catalog": store.dense, "commit": store.local}
    timers = {name: Timed.install(owner, name) for name, owner in parts.items()}
    say(f"ingesting {corpus} into a fresh index ...")
    with Clock() as clock:
        report = index.ingest(corpus, progress=False)
    for name, t in timers.items():  # restore the real methods
        setattr(parts[name], name, t.fn)
    say(f"  {report.chunks} chunks, {len(proxy.texts)} texts embedded in {len(proxy.call_sizes)} calls, "
        f"{clock.wall:.1f}s")
    return {"index": index, "proxy": proxy, "report": report, "clock": clock, "open_seconds": open_seconds,
            "timers": {name: t.seconds for name, t in timers.items()}}


def _bare_encode(model, texts: list[str], call_sizes: list[int] | None, say) -> Clock:  # type: ignore[no-untyped-def]
    """SentenceTransformer.encode of `texts`, in one call or split like the ingest's calls."""
    where = ", in the ingest's calls" if call_sizes else ""
    say(f"bare SentenceTransformer.encode of the same texts{where} ...")
    with Clock() as clock:
        at = 0
        for size in call_sizes or [len(texts)]:
            model.encode(texts[at: at + size], batch_size=64, normalize_embeddings=True)
            at += size
    say(f"  {clock.wall:.1f}s")
    return clock


def ingest_benchmark(corpus: Path, folder: Path, shared, say, repeats: int = 1):  # type: ignore[no-untyped-def]
    """Fresh ingest vs bare encode of the same texts (each `repeats` times, in rotating order), then re-ingest.

    Returns (figures, index, proxy); the index is the first repetition's, in `folder`."""
    import rag
    from rag.documents import load_corpus

    started = time.perf_counter()
    loaded = load_corpus(corpus)  # what ingest does first; timed apart (ingest does it again inside)
    load_seconds = time.perf_counter() - started
    model = shared._model
    kept = None
    texts: list[str] = []
    call_sizes: list[int] = []
    runs: list[dict] = []
    for rep in range(repeats):
        steps = ["ingest", "encode", "same_calls"]
        steps = steps[rep % 3:] + steps[: rep % 3]  # rotate, so no step always runs first
        run: dict = {}
        for step in steps:
            if step == "ingest":
                target = folder if rep == 0 else folder.with_name(f"{folder.name}.rep{rep}")
                done = _fresh_ingest(corpus, target, shared, say)
                if rep == 0:
                    kept = done
                    texts, call_sizes = list(done["proxy"].texts), list(done["proxy"].call_sizes)
                elif done["proxy"].texts != texts:
                    raise RuntimeError("the ingest embedded different texts on a repetition")
                run["ingest"] = done["clock"].to_json()
                run["open_seconds"] = round(done["open_seconds"], 3)
                run["embed_seconds"] = round(done["proxy"].embed_seconds, 3)
                run["tokenize_seconds"] = round(done["proxy"].tokenize_seconds, 3)
                run["timers"] = {k: round(v, 3) for k, v in done["timers"].items()}
                if rep:
                    del done
                    shutil.rmtree(target, ignore_errors=True)
            else:
                run[step] = _bare_encode(model, texts, call_sizes if step == "same_calls" else None, say).to_json()
        runs.append(run)

    best = min(runs, key=lambda r: r["ingest"]["wall"])  # the breakdown of the fastest ingest
    ingest_seconds = best["ingest"]["wall"]
    encode_seconds = min(r["encode"]["wall"] for r in runs)
    grouped_seconds = min(r["same_calls"]["wall"] for r in runs)
    report, store = kept["report"], kept["index"].store
    timers, embed_seconds = best["timers"], best["embed_seconds"]
    chunking = ingest_seconds - embed_seconds - load_seconds - timers["write"]
    first = {
        "documents": len(loaded.documents),
        "failed": len(report.failed),
        "chunks": report.chunks,
        "chroma_count": store.count(),
        "embedded": report.embedded,
        "texts_recorded": len(texts),
        "embed_calls": len(call_sizes),
        "repeats": repeats,
        "open_seconds": best["open_seconds"],
        # the fastest of the repetitions (noise only ever adds time)
        "ingest_seconds": round(ingest_seconds, 3),
        "encode_seconds": round(encode_seconds, 3),
        "encode_same_calls_seconds": round(grouped_seconds, 3),
        "overhead": round(ingest_seconds / encode_seconds - 1, 4),
        "overhead_with_open": round((best["open_seconds"] + ingest_seconds) / encode_seconds - 1, 4),
        "overhead_vs_same_calls": round(ingest_seconds / grouped_seconds - 1, 4),
        "overhead_cpu": round(min(r["ingest"]["cpu"] for r in runs) / min(r["encode"]["cpu"] for r in runs) - 1, 4),
        # what ingest adds around the model calls it makes (insensitive to how fast the model ran)
        "overhead_outside_embed": round((ingest_seconds - embed_seconds) / embed_seconds, 4),
        "runs": runs,
        "target_overhead": TARGET_OVERHEAD,
        "breakdown_seconds": {
            "embed (inside ingest)": round(embed_seconds, 3),
            "load_corpus (timed apart)": round(load_seconds, 3),
            "token_offsets (chunking + titles)": best["tokenize_seconds"],
            "chunking incl. token_offsets (remainder)": round(chunking, 3),
            "store.write (every store step)": timers["write"],
            "  of which Chroma upsert": timers["upsert_chunks"],
            "  of which Chroma lookup of stored chunk ids": timers["chunk_ids_of"],
            "  of which Chroma catalog": timers["put_catalog"],
            "  of which lexical index + local mirror": timers["commit"],
        },
    }

    index, proxy = kept["index"], kept["proxy"]
    say("re-ingesting the unchanged corpus ...")
    proxy.reset()
    with Clock() as reingest_clock:
        again = index.ingest(corpus, progress=False)
    reingest_seconds = reingest_clock.wall
    reembedded = len(proxy.texts)
    proxy.reset()
    started = time.perf_counter()
    reopened = rag.open_index(folder, embedder=proxy, chroma_url=None)
    again_fresh = reopened.ingest(corpus, progress=False)
    fresh_seconds = time.perf_counter() - started
    reembedded_fresh = len(proxy.texts)
    del reopened
    second = {
        "seconds": round(reingest_seconds, 3),
        "ratio": round(reingest_seconds / ingest_seconds, 4),
        "clock": reingest_clock.to_json(),
        "target_ratio": TARGET_REINGEST,
        "texts_embedded": reembedded,
        "report_embedded": again.embedded,
        "unchanged": len(again.unchanged),
        "added_updated_removed": [len(again.added), len(again.updated), len(again.removed)],
        "zero_embedded": reembedded == 0 and again.embedded == 0,
        "reopened_index_seconds": round(fresh_seconds, 3),
        "reopened_index_ratio": round(fresh_seconds / ingest_seconds, 4),
        "reopened_index_texts_embedded": reembedded_fresh + again_fresh.embedded,
    }
    say(f"  {reingest_seconds:.2f}s ({second['ratio']:.1%} of the first ingest), {reembedded} texts embedded")
    proxy.reset()
    proxy.recording = False
    return {"first": first, "reingest": second}, index, proxy


def evaluate(index, questions: list[dict], say) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """Per mode: mean metrics, latency; and per-question rankings."""
    from rag.eval.metrics import paired_bootstrap_diff, percentile, summarize

    out: dict = {}
    per_question: dict = {}
    for mode in MODES:
        for q in questions[:WARMUP_QUERIES]:
            index.search(q["question"], k=K, mode=mode)
        latencies, values, rankings = [], {m: [] for m in (*METRICS, "doc_recall@5")}, []
        clock = Clock().__enter__()
        for q in questions:
            started = time.perf_counter()
            passages = index.search(q["question"], k=K, mode=mode)
            latencies.append((time.perf_counter() - started) * 1000)
            ranked = [p.document for p in passages]
            rankings.append(ranked)
            for name, v in quality(ranked, set(q["sources"])).items():
                values[name].append(v)
        clock.__exit__()
        summary = {}
        for name, vs in values.items():
            s = summarize(name, vs)
            summary[name] = {"mean": round(s.value, 4), "ci95": [round(s.ci_low, 4), round(s.ci_high, 4)]}
        out[mode] = {
            "metrics": summary,
            "latency_ms": {"p50": round(percentile(latencies, 50), 2), "p95": round(percentile(latencies, 95), 2),
                           "mean": round(sum(latencies) / len(latencies), 2), "max": round(max(latencies), 2),
                           "others_cpu_share": clock.to_json()["others_cpu_share"]},
            "per_question": values,
        }
        per_question[mode] = rankings
        say(f"  {mode:8s} " + "  ".join(f"{m} {summary[m]['mean']:.3f}" for m in METRICS)
            + f"  p50 {out[mode]['latency_ms']['p50']:.1f}ms p95 {out[mode]['latency_ms']['p95']:.1f}ms")

    verdict = {}
    for name in (*METRICS, "doc_recall@5"):
        best_mode = max(("dense", "lexical"), key=lambda m: out[m]["metrics"][name]["mean"])
        hybrid, best = out["hybrid"]["metrics"][name]["mean"], out[best_mode]["metrics"][name]["mean"]
        diff = paired_bootstrap_diff(out[best_mode]["per_question"][name], out["hybrid"]["per_question"][name])
        verdict[name] = {
            "hybrid": hybrid, "best_single": best, "best_mode": best_mode, "diff": round(hybrid - best, 4),
            "diff_ci95": [round(diff[1][0], 4), round(diff[1][1], 4)] if diff else None,
            "beats": hybrid > best,
            "significant": bool(diff and (diff[1][0] > 0 or diff[1][1] < 0)),
        }
    for mode in MODES:
        del out[mode]["per_question"]
    return {"modes": out, "hybrid_vs_best_single": verdict}, per_question


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    dropped = clear_rag_environment()
    data = data_dir()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    missing = [s for s in sets
               if not (data / s / "corpus.jsonl").is_file() or not (data / s / "questions.jsonl").is_file()]
    if not data.is_dir() or missing:
        print(f"SKIP: benchmark data not found in {data} (missing: {', '.join(missing) or 'the folder'}); "
              "set RAG_BENCH_DATA to the folder holding <set>/corpus.jsonl and <set>/questions.jsonl.")
        return 0

    def say(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    if dropped:
        say(f"ignoring RAG_* settings from the environment: {', '.join(dropped)}")
    started_all = time.perf_counter()
    result: dict = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                    "machine": machine(), "args": {"limit": args.limit, "sets": sets, "k": K,
                                                   "repeats": args.repeats}, "sets": {}}

    import rag  # noqa: F401  (imports chromadb lazily; warm it below)
    from rag.embeddings import SentenceTransformerEmbedder

    say("loading the embedding model and warming up ...")
    shared = SentenceTransformerEmbedder()
    warm_docs = read_jsonl(data / sets[0] / "corpus.jsonl")[:64]
    shared._model.encode([d["text"] for d in warm_docs], batch_size=64, normalize_embeddings=True)
    shared.token_offsets([d["text"] for d in warm_docs])
    import chromadb  # noqa: F401
    from sentencex import segment

    list(segment("en", warm_docs[0]["text"]))
    result["rss_mb_after_model"] = round(peak_rss_mb(), 1)

    root = args.keep_index or Path(tempfile.mkdtemp(prefix="rag-bench-"))
    details: dict = {}
    try:
        for name in sets:
            corpus = data / name / "corpus.jsonl"
            folder = root / name
            if folder.exists():
                shutil.rmtree(folder)
            say(f"== {name}")
            entry: dict = {}
            if name == INGEST_SET or (INGEST_SET not in sets and name == sets[0]):
                figures, index, _ = ingest_benchmark(corpus, folder, shared, say, max(args.repeats, 1))
                result["ingest"] = {"set": name, **figures}
                entry["chunks"] = figures["first"]["chunks"]
                entry["documents"] = figures["first"]["documents"]
                entry["ingest_seconds"] = figures["first"]["ingest_seconds"]
            else:
                index = rag.open_index(folder, embedder=shared, chroma_url=None)
                started = time.perf_counter()
                report = index.ingest(corpus, progress=False)
                entry["ingest_seconds"] = round(time.perf_counter() - started, 3)
                entry["chunks"], entry["documents"] = report.chunks, len(report.added)
                say(f"  ingested {len(report.added)} documents, {report.chunks} chunks "
                    f"in {entry['ingest_seconds']:.1f}s")
            questions = [q for q in read_jsonl(data / name / "questions.jsonl") if q.get("sources")]
            if args.limit:
                questions = questions[: args.limit]
            entry["questions"] = len(questions)
            say(f"  searching {len(questions)} questions x {len(MODES)} modes, k={K}")
            evaluation, rankings = evaluate(index, questions, say)
            entry.update(evaluation)
            entry["reference_bm25"] = REFERENCE.get(name)
            entry["bm25_whole_documents_same_questions"] = bm25_whole_documents(corpus, questions)
            entry["rss_mb"] = round(peak_rss_mb(), 1)
            result["sets"][name] = entry
            details[name] = {"ids": [q["id"] for q in questions], "rankings": rankings}
            del index
    finally:
        if args.keep_index is None:
            shutil.rmtree(root, ignore_errors=True)

    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["total_seconds"] = round(time.perf_counter() - started_all, 1)
    result["machine"]["load_average_end"] = machine().get("load_average")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    if args.details:
        args.details.parent.mkdir(parents=True, exist_ok=True)
        args.details.write_text(json.dumps(details))
    print()
    print(render(result))
    print(f"\nwrote {args.out}")
    return 0


def _share(clock: dict) -> str:
    share = clock.get("others_cpu_share")
    return "?" if share is None else f"{share:.0%}"


def render(result: dict) -> str:
    """The report as Markdown tables."""
    parts = []
    ing = result.get("ingest")
    if ing:
        f, r = ing["first"], ing["reingest"]
        parts.append(f"### Ingestion ({ing['set']}: {f['documents']} documents, {f['chunks']} chunks)\n")
        runs = f.get("runs", [])
        each = lambda key: ", ".join(f"{r[key]['wall']:.1f}" for r in runs)  # noqa: E731
        n = f"fastest of {len(runs)}: " if len(runs) > 1 else ""
        rows = [
            ["fresh ingest (index.ingest)", f"{f['ingest_seconds']:.1f} s", f"{n}{each('ingest')} s"],
            ["bare encode of the same texts", f"{f['encode_seconds']:.1f} s",
             f"{f['texts_recorded']} texts; {n}{each('encode')} s"],
            ["bare encode, same calls as ingest", f"{f['encode_same_calls_seconds']:.1f} s",
             f"{f['embed_calls']} calls; {n}{each('same_calls')} s"],
            ["overhead = ingest / encode - 1", f"{f['overhead']:.1%}",
             ("OK" if f["overhead"] <= f["target_overhead"] else "OVER") + f" (target <= {f['target_overhead']:.0%})"],
            ["overhead vs the same-calls encode", f"{f['overhead_vs_same_calls']:.1%}", ""],
            ["ingest time outside embed() / time in embed()", f"{f['overhead_outside_embed']:.1%}",
             f"{f['ingest_seconds'] - f['breakdown_seconds']['embed (inside ingest)']:.1f} s outside the model calls"],
            ["overhead, in CPU time of this process", f"{f['overhead_cpu']:.1%}",
             f"ingest {min(r['ingest']['cpu'] for r in runs):.1f} s vs encode "
             f"{min(r['encode']['cpu'] for r in runs):.1f} s CPU"],
            ["other processes' CPU share (ingest / encode)",
             " / ".join(", ".join(_share(r[k]) for r in runs) for k in ("ingest", "encode")),
             "0% = machine was otherwise idle"],
            ["open_index (fresh folder)", f"{f['open_seconds']:.2f} s",
             f"overhead incl. open {f['overhead_with_open']:.1%}"],
            ["re-ingest, unchanged corpus", f"{r['seconds']:.2f} s",
             f"{r['ratio']:.1%} of first ingest, " + ("OK" if r["ratio"] <= r["target_ratio"] else "OVER")
             + f" (target <= {r['target_ratio']:.0%})"],
            ["re-ingest, texts embedded", str(r["texts_embedded"]), "OK (0)" if r["zero_embedded"] else "NOT ZERO"],
            ["re-ingest, freshly opened index", f"{r['reopened_index_seconds']:.2f} s",
             f"{r['reopened_index_ratio']:.1%}, {r['reopened_index_texts_embedded']} embedded"],
        ]
        parts.append(table(rows, ["ingestion", "value", "note"]))
        rows = [[k, f"{v:.2f} s", f"{v / f['ingest_seconds']:.1%}"] for k, v in f["breakdown_seconds"].items()]
        parts.append("\nBreakdown of the (fastest) fresh ingest:\n")
        parts.append(table(rows, ["part", "time", "share of ingest"]))
    for name, s in result["sets"].items():
        parts.append(f"\n### Retrieval: {name} ({s['questions']} questions, {s['documents']} documents, "
                     f"{s['chunks']} chunks, k={result['args']['k']})\n")
        rows = []
        for mode, m in s["modes"].items():
            rows.append([mode, *(m["metrics"][n]["mean"] for n in (*METRICS, "doc_recall@5")),
                         f"{m['latency_ms']['p50']:.1f}", f"{m['latency_ms']['p95']:.1f}", _share(m["latency_ms"])])
        same = s.get("bm25_whole_documents_same_questions")
        if same:
            rows.append(["BM25 whole docs, same questions", *(same[n] for n in (*METRICS, "doc_recall@5")),
                         None, None, None])
        ref = s.get("reference_bm25")
        if ref:
            rows.append(["BM25 reference (data README, all questions)", None, None, None,
                         ref["mrr@10"], ref["ndcg@10"], ref["doc_recall@5"], None, None, None])
        parts.append(table(rows, ["mode", *METRICS, "doc_recall@5", "p50 ms", "p95 ms", "others' CPU"]))
        rows = []
        for n, v in s["hybrid_vs_best_single"].items():
            rows.append([n, v["hybrid"], f"{v['best_single']:.3f} ({v['best_mode']})", f"{v['diff']:+.3f}",
                         f"[{v['diff_ci95'][0]:+.3f}, {v['diff_ci95'][1]:+.3f}]" if v["diff_ci95"] else None,
                         ("yes" if v["beats"] else "tie" if v["diff"] == 0 else "NO")
                         + (" (significant)" if v["significant"] else "")])
        parts.append("\nHybrid vs the better single mode:\n")
        parts.append(table(rows, ["metric", "hybrid", "best single", "diff", "95% CI", "hybrid beats it"]))
    parts.append(f"\nPeak RSS {result['peak_rss_mb']:.0f} MB (after loading the model: "
                 f"{result['rss_mb_after_model']:.0f} MB); total {result['total_seconds']:.0f} s; "
                 f"load average at start {result['machine'].get('load_average')}, "
                 f"at end {result['machine'].get('load_average_end')}.")
    return "\n".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
