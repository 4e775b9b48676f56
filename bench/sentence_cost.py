"""What sentence evidence costs (issue 15): ingest time with and without sentence vectors, and search latency of
the ranking before it (convex 0.4, passages scored whole, no distinct documents) against today's default.

    .venv/bin/python bench/sentence_cost.py --corpus ../shared/data/squad-v1.1-dev/corpus.jsonl \
        --questions ../shared/data/squad-v1.1-dev/questions.jsonl --workdir /tmp/sentence-cost

Ingest: two fresh indexes of the same corpus in one process, the one without sentence vectors first, then the
one with them (the model is loaded and warm before either). Search: `index.search` (k 10) of the first `--n`
questions on the second index, the two rankings interleaved question by question, p50 and p95 of each.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import clear_rag_environment, read_jsonl  # noqa: E402

import argparse  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

BEFORE = {"dense_weight": 0.4, "sentence_weight": 0.0, "distinct_documents": False}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--questions", type=Path, required=True)
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--n", type=int, default=300, help="questions timed")
    args = p.parse_args(argv)
    clear_rag_environment()

    import rag
    from rag.ingest import ingest

    shutil.rmtree(args.workdir, ignore_errors=True)
    seconds = {}
    embedder = rag.open_index(args.workdir / "warm", chroma_url=None).embedder
    embedder.embed(["warm up"])
    for name in ("without", "with"):
        index = rag.open_index(args.workdir / name, embedder=embedder, chroma_url=None)
        started = time.perf_counter()
        report = ingest(index.store, index.embedder, index.settings, args.corpus, progress=False,
                        sentences=index.sentences if name == "with" else None)
        index.store.release()
        seconds[name] = time.perf_counter() - started
        size = sum(f.stat().st_size for f in (args.workdir / name).rglob("*") if f.is_file()) / 1e6
        print(f"ingest {name} sentence vectors: {report.chunks} chunks in {seconds[name]:.1f} s "
              f"({1000 * seconds[name] / report.chunks:.1f} s per 1,000 chunks); "
              f"{index.sentences.count()} chunks' sentence rows; folder {size:.1f} MB", flush=True)
    print(f"ingest with / without: x{seconds['with'] / seconds['without']:.2f}")

    indexes = {"before (convex 0.4, whole passages)": rag.open_index(args.workdir / "with", embedder=embedder,
                                                                       chroma_url=None, **BEFORE),
               "default (sentences 0.7, convex 0.5, distinct)": rag.open_index(args.workdir / "with",
                                                                                embedder=embedder, chroma_url=None)}
    questions = [q["question"] for q in read_jsonl(args.questions)][: args.n]
    times: dict[str, list[float]] = {name: [] for name in indexes}
    for index in indexes.values():
        index.search(questions[0], k=10)
    for question in questions:
        for name, index in indexes.items():
            started = time.perf_counter()
            index.search(question, k=10)
            times[name].append(1000 * (time.perf_counter() - started))
    p50 = {name: float(np.percentile(v, 50)) for name, v in times.items()}
    for name, values in times.items():
        print(f"{name}: search p50 {p50[name]:.1f} ms, p95 {np.percentile(values, 95):.1f} ms over {len(values)}")
    first, second = p50.values()
    print(f"search p50 default / before: x{second / first:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
