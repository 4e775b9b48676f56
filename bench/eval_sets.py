"""Every `rag eval` metric on the public QA sets, for the hybrid, dense and lexical modes, in one run.

    .venv/bin/python bench/eval_sets.py [--sets squad-v1.1-dev,squad-v2.0-dev-5art,hotpotqa-dev-500]
                                        [--limit squad-v1.1-dev=1000] [--modes hybrid,dense,lexical]
                                        [--out bench/results/eval_sets] [--index-root bench/results]

Runs through rag.eval.run exactly as `rag eval QUESTIONS --corpus CORPUS --mode M` does (one shared embedding
model; each corpus in its own eval index under INDEX_ROOT/eval-indexes/, reused when unchanged), offline: no
LLM. Also runs eval/seeds.jsonl over seeds/. Writes each run's report.json, per_question.jsonl, report.md and
plots to OUT/<set>-<mode>/, the side-by-side tables to OUT/eval_sets.md and all figures to OUT/eval_sets.json.

Besides the report metrics it computes, from the per-question records: `doc_recall@5` (share of a question's
gold documents among the first 5 distinct documents: the BEIR Recall@5 of shared/data/README.md's BM25
reference), `doc_mrr@10` (MRR over distinct documents, as the reference ranks documents), and the number of
sentences of each offline answer (its citations: one per extracted sentence).
Data is read from ../shared/data (or $RAG_BENCH_DATA); the benchmark skips, exit code 0, when it is absent.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, Clock, clear_rag_environment, data_dir, machine, peak_rss_mb, table  # noqa: E402

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

SETS = ("squad-v1.1-dev", "squad-v2.0-dev-5art", "hotpotqa-dev-500")
MODES = ("hybrid", "dense", "lexical")
DEFAULT_LIMITS = {"squad-v1.1-dev": 1000}
# Plain BM25 over whole documents (shared/data/README.md): Recall@5 is BEIR's (share of gold documents found).
REFERENCE = {
    "squad-v1.1-dev": {"doc_recall@5": 0.925, "doc_mrr@10": 0.843, "ndcg@10": 0.869},
    "squad-v2.0-dev-5art": {"doc_recall@5": 0.962, "doc_mrr@10": 0.892, "ndcg@10": 0.914},
    "hotpotqa-dev-500": {"doc_recall@5": 0.749, "doc_mrr@10": 0.848, "ndcg@10": 0.772},
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sets", default=",".join(SETS), help="comma-separated data sets")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--limit", action="append", default=[], metavar="SET=N",
                   help="questions of SET to run (default squad-v1.1-dev=1000; others whole); N alone: every set")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "eval_sets")
    p.add_argument("--index-root", type=Path, default=ROOT / "bench" / "results",
                   help="eval indexes live in INDEX_ROOT/eval-indexes/<sha>/ (kept, reused when unchanged)")
    p.add_argument("--no-seeds", action="store_true", help="skip eval/seeds.jsonl over seeds/")
    return p.parse_args(argv)


def limits(args: argparse.Namespace) -> dict[str, int | None]:
    out: dict[str, int | None] = dict(DEFAULT_LIMITS)
    for item in args.limit:
        name, sep, value = item.rpartition("=")
        if sep:
            out[name] = int(value) or None
        else:
            out = {s: int(value) or None for s in (*SETS, "seeds")}
    return out


def extra_figures(records: list[dict]) -> dict:
    """BEIR-style document recall@5, document MRR@10, answer length in sentences, and how often a gold answer
    is in the answer's passages at all."""
    from rag.eval.metrics import answer_contains, mrr_at_k, normalize_answer

    scored = [r for r in records if r["gold_sources"] and r["error"] is None]
    doc_recall, doc_mrr = [], []
    for r in scored:
        gold = set(r["gold_sources"])
        docs = list(dict.fromkeys(r["retrieved"]))
        doc_recall.append(len(gold & set(docs[:5])) / len(gold))
        doc_mrr.append(mrr_at_k(docs, gold, 10))
    sentences = [len(r["citations"]) for r in records if r["answer"] and not r["refused"]]
    answerable = [r for r in records if r["answerable"] and r["gold_answers"] and r["error"] is None]
    # a gold answer in the k passages at all: the ceiling of an extractive answer's answer_contains
    in_passages = [answer_contains(" ".join(p["text"] for p in r["passages"]), r["gold_answers"]) for r in answerable]
    yes_no = [r for r in answerable if all(normalize_answer(a) in ("yes", "no") for a in r["gold_answers"])]
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    return {
        "doc_recall@5": mean(doc_recall), "doc_mrr@10": mean(doc_mrr),
        "answers": len(sentences), "max_sentences": max(sentences, default=None),
        "share_at_most_3_sentences": mean([float(s <= 3) for s in sentences]),
        "mean_sentences": mean([float(s) for s in sentences]),
        "answer_in_passages": mean(in_passages), "yes_no_questions": len(yes_no),
    }


def run_set(name: str, corpus: Path, questions_path: Path, limit: int | None, modes: list[str],  # type: ignore[no-untyped-def]
            shared, args, say):
    from rag.eval.report import build_report, write_run
    from rag.eval.questions import load_questions
    from rag.eval.run import RETRIEVAL_K, evaluate, open_eval_index
    from rag.support import VectorCache

    qset = load_questions(questions_path)
    qset.name = name
    questions = qset.questions[:limit] if limit else qset.questions
    started = time.perf_counter()
    index, report = open_eval_index(corpus, args.index_root, embedder=shared, progress=False)
    ingest_seconds = time.perf_counter() - started
    documents = index.documents()
    say(f"== {name}: {len(documents)} documents, {report.chunks} chunks (ingest {ingest_seconds:.1f}s, "
        f"{report.embedded} embedded); {len(questions)} questions")
    index_info = {"dir": str(index.settings.index_dir), "corpus": str(corpus), "documents": len(documents),
                  "chunks": report.chunks, "ingest": {k: v for k, v in report.to_json().items() if k != "documents"}}
    entry = {"questions": len(questions), "answerable": sum(q.answerable for q in questions),
             "documents": len(documents), "chunks": report.chunks, "ingest_seconds": round(ingest_seconds, 1),
             "modes": {}}
    for mode in modes:
        index.sentence_vectors = VectorCache()  # each mode starts cold: no question or sentence embedded yet
        with Clock() as clock:
            records = evaluate(index, questions, k=index.settings.top_k, mode=mode, progress=sys.stderr.isatty())
        seconds = clock.wall
        settings = index.settings.model_copy(update={"mode": mode})
        result = build_report(qset, records, settings=settings, mode=mode, k=settings.top_k,
                              retrieval_k=RETRIEVAL_K, index=index_info, seconds=seconds, limit=limit,
                              judge={"model": None, "skipped": "benchmark runs offline", "errors": 0})
        write_run(args.out / f"{name}-{mode}", result, records)
        figures = extra_figures(records)
        entry["modes"][mode] = {"metrics": result["metrics"], "extra": figures, "seconds": round(seconds, 1),
                                "others_cpu_share": clock.to_json()["others_cpu_share"]}
        m = result["metrics"]
        say(f"  {mode:8s} {seconds:6.0f}s  recall@5 {m['recall@5']['value']}  mrr@10 {m['mrr@10']['value']}  "
            f"contains {m['answer_contains']['value']}  refusal_acc {m['refusal_accuracy']['value']}  "
            f"false_refusal {m['false_refusal_rate']['value']}  p50 {m['latency_p50_ms']['value']} ms  "
            f"others' CPU {clock.to_json()['others_cpu_share']}")
    del index
    return entry


def _v(metric: dict, name: str) -> str:
    value = metric["value"]
    if value is None:
        return "-"
    text = f"{value:.1f}" if name.startswith("latency") else f"{value:.3f}"
    if metric.get("ci_low") is not None:
        text += f" [{metric['ci_low']:.2f}, {metric['ci_high']:.2f}]"
    return text


def render(result: dict) -> str:
    from rag.eval.run import METRICS

    parts = [f"Date {result['date']}; {result['machine']['cpus']} CPUs ({result['machine']['platform']}), "
             f"torch {result['machine']['torch']} on CPU, {result['machine']['torch_threads']} threads; offline "
             f"answers (no LLM), k=5 passages per answer, 10 searched for the retrieval metrics; total "
             f"{result['total_seconds'] / 60:.0f} min, peak RSS {result['peak_rss_mb']:.0f} MB."]
    for name, s in result["sets"].items():
        modes = list(s["modes"])
        parts.append(f"\n### {name}: {s['questions']} questions ({s['answerable']} answerable, "
                     f"{s['questions'] - s['answerable']} unanswerable), {s['documents']} documents, "
                     f"{s['chunks']} chunks\n")
        rows = []
        for metric in METRICS:
            if metric in ("faithfulness", "correctness"):
                continue
            n = next((s["modes"][m]["metrics"][metric]["n"] for m in modes), 0)
            rows.append([metric, *(_v(s["modes"][m]["metrics"][metric], metric) for m in modes), str(n)])
        for extra in ("doc_recall@5", "doc_mrr@10"):
            ref = (result["reference"].get(name) or {}).get(extra)
            rows.append([f"{extra} (BEIR-style)", *(_fmt(s["modes"][m]["extra"][extra]) for m in modes),
                         f"BM25 ref {ref}" if ref else ""])
        ref = (result["reference"].get(name) or {}).get("ndcg@10")
        if ref:
            rows.append(["ndcg@10, BM25 reference", *([""] * len(modes)), str(ref)])
        rows.append(["gold answer in the k passages (extractive ceiling)",
                     *(_fmt(s["modes"][m]["extra"]["answer_in_passages"]) for m in modes), ""])
        yes_no = s["modes"][modes[0]]["extra"]["yes_no_questions"] if modes else 0
        if yes_no:
            rows.append(["yes/no questions (an extract cannot contain the answer)", *([str(yes_no)] * len(modes)), ""])
        rows.append(["max sentences per answer", *(_fmt(s["modes"][m]["extra"]["max_sentences"]) for m in modes),
                     ""])
        rows.append(["run time (s)", *(f"{s['modes'][m]['seconds']:.0f}" for m in modes), ""])
        rows.append(["other processes' CPU share during the run",
                     *(_pct(s["modes"][m].get("others_cpu_share")) for m in modes), ""])
        parts.append(table(rows, ["metric", *modes, "n"]))
    return "\n".join(parts)


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.0%}"


def _fmt(value: object) -> str:
    return "-" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    clear_rag_environment()
    data = data_dir()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    missing = [s for s in sets if not (data / s / "questions.jsonl").is_file()]
    if missing:
        print(f"SKIP: benchmark data not found in {data} (missing: {', '.join(missing)})")
        return 0

    def say(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    from rag.embeddings import SentenceTransformerEmbedder

    started = time.perf_counter()
    shared = SentenceTransformerEmbedder()
    result: dict = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "machine": machine(),
                    "modes": modes, "limits": limits(args), "reference": REFERENCE, "sets": {}}
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [] if args.no_seeds else [("seeds", ROOT / "seeds", ROOT / "eval" / "seeds.jsonl")]
    jobs += [(s, data / s / "corpus.jsonl", data / s / "questions.jsonl") for s in sets]
    for name, corpus, questions in jobs:
        result["sets"][name] = run_set(name, corpus, questions, result["limits"].get(name), modes, shared, args, say)
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)
        result["total_seconds"] = round(time.perf_counter() - started, 1)
        (args.out / "eval_sets.json").write_text(json.dumps(result, indent=1))  # after each set: partial results
    result["machine"]["load_average_end"] = machine().get("load_average")
    (args.out / "eval_sets.json").write_text(json.dumps(result, indent=1))
    text = render(result)
    (args.out / "eval_sets.md").write_text(text + "\n")
    print()
    print(text)
    print(f"\nwrote {args.out}/eval_sets.md, eval_sets.json and one folder per run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
