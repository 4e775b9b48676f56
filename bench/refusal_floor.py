"""What a floor on the closest sentence's cosine would trade (issue 10): SQuAD v2 refusals against SQuAD v1.1 answers.

Measured, not shipped (eval/README.md, "SQuAD v2 refusals: what else was measured"). For each question of a
`rag eval` run (its `per_question.jsonl`), the passages the offline answer read are searched again in the run's
index, and the cosine of their closest sentence to the question is taken (rag.support's sentences and vector cache, what
the offline answer reads). At floor f, a question counts as refused when the run refused it or that cosine is
under f. Printed per floor: refusals / false refusals on the SQuAD v2 run's dev part (its first `--v2-dev`
questions: the articles Normans and Computational_complexity_theory), on the rest and on all of it, then
answer_contains and f1 of the SQuAD v1.1 run (a refusal scores 0).

    .venv/bin/python bench/refusal_floor.py \\
        --v2-run R2/per_question.jsonl --v2-corpus ../shared/data/squad-v2.0-dev-5art/corpus.jsonl --v2-index I2 \\
        --v1-run R1/per_question.jsonl --v1-corpus ../shared/data/squad-v1.1-dev/corpus.jsonl --v1-index I1

`--v2-index` / `--v1-index` are the `--index` folders the runs were made with (so the same passages come back).
It does not change how anything is answered.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import clear_rag_environment, read_jsonl, table  # noqa: E402

import argparse  # noqa: E402

import numpy as np  # noqa: E402

FLOORS = (0.0, 0.40, 0.45, 0.46, 0.48, 0.50, 0.52)


def closest_sentence(run: Path, corpus: Path, index_dir: Path, k: int) -> list[dict]:
    """The run's rows, each with "closest": its closest sentence's cosine over the top `k` passages."""
    from rag.eval.run import open_eval_index
    from rag.support import passage_sentences

    index, _ = open_eval_index(str(corpus), base=str(index_dir), progress=False)
    vectors = index.answerer.vectors
    rows = read_jsonl(run)
    for row in rows:
        passages = index.search(row["question"], k=k)
        sentences = [s.text for s in passage_sentences(passages)]
        query = vectors.embed(index.embedder, [row["question"]])[0]
        row["closest"] = float((vectors.embed(index.embedder, sentences) @ query).max()) if sentences else 0.0
    return rows


def share(values: list) -> str:  # type: ignore[type-arg]
    return f"{np.mean(values):.3f}" if values else "-"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for side in ("v2", "v1"):
        p.add_argument(f"--{side}-run", type=Path, required=True, help="per_question.jsonl of a rag eval run")
        p.add_argument(f"--{side}-corpus", type=Path, required=True)
        p.add_argument(f"--{side}-index", type=Path, required=True, help="the run's --index folder")
    p.add_argument("--v2-dev", type=int, default=626, help="the v2 run's first N questions are its dev part")
    p.add_argument("--k", type=int, default=5, help="passages the answer reads (rag eval's k)")
    args = p.parse_args(argv)
    clear_rag_environment()
    from rag.eval.metrics import answer_contains, f1_score

    v2 = closest_sentence(args.v2_run, args.v2_corpus, args.v2_index, args.k)
    v1 = closest_sentence(args.v1_run, args.v1_corpus, args.v1_index, args.k)
    for row in v1:
        row["ac"] = 0.0 if row["refused"] else answer_contains(row["answer"], row["gold_answers"])
        row["f1"] = 0.0 if row["refused"] else f1_score(row["answer"], row["gold_answers"])
    parts = {"v2 dev": v2[: args.v2_dev], "v2 rest": v2[args.v2_dev:], "v2 all": v2}
    for name in ("v2 dev", "v2 rest"):  # so a run in another order, or cut by --limit, shows in the split
        articles = sorted({s.split("#")[0] for r in parts[name] for s in r.get("gold_sources") or []})
        print(f"{name}: {len(parts[name])} questions, articles {', '.join(articles) or '-'}")
    rows = []
    for floor in FLOORS:
        refused = lambda r: r["refused"] or r["closest"] < floor  # noqa: E731
        cells = []
        for part in parts.values():
            unanswerable = [refused(r) for r in part if not r["answerable"]]
            answerable = [refused(r) for r in part if r["answerable"]]
            cells.append(f"{share(unanswerable)} / {share(answerable)}")
        cells += [share([r["ac"] if r["closest"] >= floor else 0.0 for r in v1]),
                  share([r["f1"] if r["closest"] >= floor else 0.0 for r in v1])]
        rows.append([f"{floor:.2f}" if floor else "none", *cells])
    print(table(rows, ["floor", *(f"{name}: refusals / false" for name in parts), "v1.1 answer_contains", "v1.1 f1"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
