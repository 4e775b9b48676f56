"""Real documents, before and after: retrieval, offline answers and refusals through `rag eval`, what the chunks
look like, ingest time per 1,000 chunks, and what parsing in worker processes costs.

The corpus is a folder nobody on the project wrote (Sphinx/DocBook/Texinfo HTML, PDF manuals, DOCX, READMEs and
man pages from Debian and PyPI packages), kept outside the repository: $RAG_BENCH_DOCS, else
../scratch/docs beside the repository, holding `corpus/`. Without it the script prints one SKIP line and exits 0.
It is copied to a temporary folder, then for each checkout (this one, and with --before DIR another one, e.g. a
`git archive` of main) the script runs that checkout's own `rag ingest --json` and `rag eval --json` as
subprocesses on bench/real_docs_questions.jsonl (44 questions whose gold answers appear verbatim in their
sources, 6 off-topic ones), and again on the PDFs alone with the PDF questions (gold sources reduced to the PDFs),
and reads the chunks each index holds from its Chroma store (bench/chunk_quality.py classifies them).

    .venv/bin/python bench/real_docs.py --before /tmp/rag-before     # about 25 minutes on 2 busy cores
    .venv/bin/python bench/real_docs.py --only-isolation              # the cost of the parse workers, 10 minutes
    .venv/bin/python bench/real_docs.py --skip-isolation --out F      # this checkout only, about 8 minutes
"""

from __future__ import annotations

import common  # noqa: F401  (the offline environment first)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

from chunk_quality import Classifier, source_words  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "bench" / "real_docs_questions.jsonl"
KINDS = ("pdf", "html", "docx", "text")


def corpus_dir() -> Path:
    base = Path(os.environ.get("RAG_BENCH_DOCS") or ROOT.parent / "scratch" / "docs").expanduser()
    return base / "corpus" if (base / "corpus").is_dir() else base


def rag_command(checkout: Path, *args: str) -> tuple[dict, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    started = time.perf_counter()
    own = checkout / ".venv" / "bin" / "python"  # the checkout's own environment: an editable install of this
    python = str(own) if own.exists() else sys.executable  # checkout would otherwise shadow the other one's rag
    run = subprocess.run([python, "-m", "rag.cli", *args], cwd=checkout, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if run.returncode not in (0, 1):
        raise SystemExit(f"rag {args[0]} failed in {checkout}:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout), seconds


def chunks_of(index: Path) -> dict[str, list[tuple[int, int, str]]]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(index / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_collection("rag-chunks")
    per_document: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    offset = 0
    from rag.records import ChunkRecord  # reads every layout an index may hold (packed since 2026-11-26)

    while page := collection.get(include=["documents", "metadatas"], limit=2000, offset=offset):
        if not page["ids"]:
            break
        for cid, text, meta in zip(page["ids"], page["documents"], page["metadatas"]):
            chunk = ChunkRecord.from_chroma(cid, text, meta)
            per_document[chunk.document].append((chunk.start, chunk.end, chunk.text))
        offset += len(page["ids"])
    return per_document


def kind_of(document: str) -> str:
    suffix = Path(document).suffix.lower()
    return {".pdf": "pdf", ".html": "html", ".htm": "html", ".docx": "docx"}.get(suffix, "text")


def run_variant(checkout: Path, corpus: Path, questions: Path, work: Path) -> dict:
    index, out = work / "index", work / "eval"
    ingest, ingest_wall = rag_command(checkout, "ingest", str(corpus), "--index", str(index), "--json")
    report, _ = rag_command(checkout, "eval", str(questions), "--index", str(index), "--out", str(out), "--json")
    records = [json.loads(line) for line in (out / "per_question.jsonl").read_text().splitlines() if line.strip()]
    documents = chunks_of(index)
    classifiers = {doc: Classifier(chunks, source_words(corpus / doc)) for doc, chunks in documents.items()}
    quality: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    examples: dict[str, list[str]] = defaultdict(list)
    for doc, chunks in documents.items():
        for _, _, text in chunks:
            verdict = classifiers[doc].classify(text)
            row = quality[kind_of(doc)]
            row["chunks"] += 1
            row["long_words"] += len(verdict["long_words"])  # type: ignore[arg-type]
            for key in ("boilerplate", "run_together", "broken", "junk"):
                row[key] += bool(verdict[key])
                if verdict[key] and len(examples[key]) < 6:
                    shown = verdict["glued"] if key == "run_together" else text[:100].replace("\n", " / ")
                    examples[key].append(f"{doc}: {shown}")
    top5_bad = []
    for record in records:
        bad = [p["document"] for p in record["passages"][:5]
               if p["document"] in classifiers and classifiers[p["document"]].boilerplate(p["text"])]
        if bad:
            top5_bad.append(f"{record['id']}: {bad}")
    per_kind: dict[str, dict[str, float | int]] = {}
    for kind in (*KINDS, "off-topic"):
        mine = [r for r in records if (r.get("extra") or {}).get("kind") == kind and r["metrics"]]
        if not mine:
            continue
        contains = [r["metrics"].get("answer_contains") for r in mine]
        recall = [r["metrics"].get("recall@5") for r in mine]
        refused = [r["refused"] for r in mine]
        per_kind[kind] = {
            "n": len(mine),
            "answer_contains": _mean(contains), "recall@5": _mean(recall), "refused": _mean(refused),
        }
    return {
        "ingest": {"seconds": ingest["seconds"], "wall_seconds": round(ingest_wall, 1), "chunks": ingest["chunks"],
                   "failed": ingest["failed"], "skipped": ingest.get("skipped", []),
                   "seconds_per_1000_chunks": round(1000 * ingest["seconds"] / max(ingest["chunks"], 1), 1)},
        "metrics": {k: v.get("value") if isinstance(v, dict) else v for k, v in report["metrics"].items()},
        "per_kind": per_kind,
        "quality": {k: dict(v) for k, v in quality.items()},
        "quality_examples": dict(examples),
        "top5_boilerplate": top5_bad,
    }


def _mean(values: list) -> float | None:  # type: ignore[type-arg]
    values = [float(v) for v in values if v is not None]
    return round(sum(values) / len(values), 3) if values else None


def pdf_only(corpus: Path, work: Path) -> tuple[Path, Path]:
    """The PDFs alone, and the PDF questions with their gold sources reduced to PDFs."""
    shutil.copytree(corpus / "pdf", work / "pdf-corpus" / "pdf")
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    kept = [{**r, "sources": [s for s in r["sources"] if s.endswith(".pdf")]} for r in rows if r.get("kind") == "pdf"]
    path = work / "pdf-questions.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
    return work / "pdf-corpus", path


def isolation_cost(corpus: Path, rounds: int = 2) -> dict:
    """Seconds to parse every file of the corpus (bytes read beforehand): in this process, in 1 worker process
    and in 2 at once (rag.isolation, default limits). Rounds rotate the order; the fastest of each is kept."""
    import logging
    from concurrent.futures import ThreadPoolExecutor

    from rag import parsers
    from rag.documents import read_bounded, walk_corpus
    from rag.errors import DocumentError
    from rag.isolation import ParseLimits, parse_isolated, stop_workers

    logging.disable(logging.WARNING)
    files = [(path.suffix, read_bounded(path, 20_000_000)) for path, reason in walk_corpus(corpus) if reason is None]

    def in_process() -> None:
        for ext, data in files:
            try:
                parsers.parse(ext, data)
            except ValueError:
                pass

    def isolated(workers: int) -> None:
        limits = ParseLimits(workers=workers)

        def one(item: tuple[str, bytes]) -> None:
            try:
                parse_isolated(item[0], item[1], limits)
            except DocumentError:
                pass

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, files))

    ways = {"in_process": in_process, "workers_1": lambda: isolated(1), "workers_2": lambda: isolated(2)}
    timings: dict[str, list[float]] = {name: [] for name in ways}
    for n in range(rounds):
        names = list(ways)
        for name in names[n % len(names):] + names[: n % len(names)]:
            stop_workers()  # each isolated run starts its own workers: their start is part of the cost
            started = time.perf_counter()
            ways[name]()
            timings[name].append(time.perf_counter() - started)
    best = {name: min(values) for name, values in timings.items()}
    return {"files": len(files), "seconds": {k: [round(v, 1) for v in vs] for k, vs in timings.items()},
            "ratio_1_worker": round(best["workers_1"] / best["in_process"], 3),
            "ratio_2_workers": round(best["workers_2"] / best["in_process"], 3)}


def table(results: dict) -> str:
    labels = list(results["variants"])
    rows = [("chunks", lambda v: v["ingest"]["chunks"]),
            ("ingest seconds per 1,000 chunks", lambda v: v["ingest"]["seconds_per_1000_chunks"]),
            ("recall@5 (any gold document in the top 5)", lambda v: v["metrics"].get("recall@5")),
            ("answer_contains, answerable questions", lambda v: v["metrics"].get("answer_contains")),
            *[(f"answer_contains, {k} questions", lambda v, k=k: v["per_kind"].get(k, {}).get("answer_contains"))
              for k in KINDS],
            ("refusal_accuracy", lambda v: v["metrics"].get("refusal_accuracy")),
            ("false_refusal_rate", lambda v: v["metrics"].get("false_refusal_rate")),
            ("chunks mostly boilerplate", lambda v: _share(v, "boilerplate")),
            ("chunks with a run-together word", lambda v: _share(v, "run_together")),
            ("run-together words of 25+ letters", lambda v: int(sum(q["long_words"] for q in v["quality"].values()))),
            ("chunks with a word broken at a line end", lambda v: _share(v, "broken")),
            ("chunks with control characters or ligatures", lambda v: _share(v, "junk")),
            ("questions with a boilerplate passage in the top 5", lambda v: len(v["top5_boilerplate"])),
            ("PDFs alone: recall@5 / answer_contains on PDF questions",
             lambda v: f"{v['pdf_only']['metrics'].get('recall@5')} / "
                       f"{v['pdf_only']['metrics'].get('answer_contains')}")]
    lines = ["| | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for name, get in rows:
        lines.append(f"| {name} | " + " | ".join(str(get(results["variants"][label])) for label in labels) + " |")
    return "\n".join(lines)


def _share(variant: dict, key: str) -> str:
    total = sum(q["chunks"] for q in variant["quality"].values())
    return f"{100 * sum(q[key] for q in variant['quality'].values()) / max(total, 1):.1f}%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="another checkout to measure first (e.g. main before this work)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "real_docs.json")
    parser.add_argument("--only-isolation", action="store_true", help="only the cost of the parse workers")
    parser.add_argument("--skip-isolation", action="store_true", help="not the cost of the parse workers")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (indexes, per-question records)")
    args = parser.parse_args()
    common.clear_rag_environment()
    source = corpus_dir()
    if not source.is_dir():
        print(f"SKIP: no real-document corpus at {source} (set RAG_BENCH_DOCS)")
        return 0
    results: dict = {"corpus": str(source), "variants": {}}
    with (contextlib.nullcontext(str(args.keep)) if args.keep else
          tempfile.TemporaryDirectory(prefix="rag-real-docs-")) as tmp:
        work = Path(tmp)
        if args.keep:
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
        corpus = work / "corpus"
        shutil.copytree(source, corpus, symlinks=False)
        if not args.skip_isolation:
            results["isolation"] = isolation_cost(corpus)
            print(json.dumps({"isolation": results["isolation"]}), flush=True)
        if not args.only_isolation:
            pdf_corpus, pdf_questions = pdf_only(corpus, work)
            for label, checkout in ([("before", args.before)] if args.before else []) + [("after", ROOT)]:
                variant = run_variant(checkout.resolve(), corpus, QUESTIONS, work / label)
                variant["pdf_only"] = run_variant(checkout.resolve(), pdf_corpus, pdf_questions, work / f"{label}-pdf")
                results["variants"][label] = variant
                print(json.dumps({label: variant["metrics"]}), flush=True)
            print(table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
