"""The question splits of the retrieval tuning (issue 15): a held-out set to report on, a dev set to tune on.

    .venv/bin/python bench/retrieval_splits.py --out /work/scratch/retr

- `squad-heldout.jsonl`: SQuAD v1.1 dev, every tenth answerable question (positions 0, 10, 20, ... among the
  answerable ones), the first 1,000 of them: the issue's held-out set;
- `squad-dev.jsonl`: 1,000 questions drawn (random.Random(15), kept in file order) from the first half of the
  answerable questions that are not held out: the only questions the fusion was tuned on;
- HotpotQA (`hotpotqa-dev-500`, 500 questions) is not split: nothing is tuned on it, all 500 are held out;
- `squad-fresh.jsonl`: the offline answerer's fresh held-out sample (issue 10, declared 2026-11-26): 1,000
  questions drawn (random.Random(20261126), in draw order) from those past the first 1,500 of the file (the
  answerer's earlier held-out set and dev split) and in neither file above;
- `squad-train.jsonl`: questions to fit a learned fusion on (`bench/learned_fusion.py`, declared 2026-11-26):
  those of the first half (as for the dev split) in no file above and not among the file's first 1,500, drawn
  with random.Random(17) (2,365 of them). Disjoint from the others by question, not by paragraph (SQuAD asks
  several questions of each).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import data_dir, read_jsonl  # noqa: E402

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402


def splits(questions: list[dict]) -> tuple[list[dict], list[dict]]:
    """(held out, dev) of SQuAD v1.1's questions, as the module docstring says."""
    answerable = [q for q in questions if q.get("answerable", True) and q.get("sources")]
    heldout = answerable[::10][:1000]
    held = {q["id"] for q in heldout}
    rest = [q for q in answerable if q["id"] not in held]
    first_half = rest[: len(rest) // 2]
    picked = set(random.Random(15).sample(range(len(first_half)), 1000))
    return heldout, [q for i, q in enumerate(first_half) if i in picked]


def fresh(questions: list[dict], taken: list[dict]) -> list[dict]:
    """The answerer's fresh held-out sample, as the module docstring says."""
    used = {q["id"] for q in taken}
    return random.Random(20261126).sample([q for q in questions[1500:] if q["id"] not in used], 1000)


def train(questions: list[dict], taken: list[dict]) -> list[dict]:
    """The learned fusion's training questions, as the module docstring says."""
    used = {q["id"] for q in taken + questions[:1500]}
    held = {q["id"] for q in taken[:1000]}  # splits()'s held-out set comes first in `taken`
    answerable = [q for q in questions if q.get("answerable", True) and q.get("sources")]
    rest = [q for q in answerable if q["id"] not in held]
    pool = [q for q in rest[: len(rest) // 2] if q["id"] not in used]
    return random.Random(17).sample(pool, min(3000, len(pool)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the question files (outside the repository)")
    args = p.parse_args(argv)
    questions = read_jsonl(data_dir() / "squad-v1.1-dev" / "questions.jsonl")
    heldout, dev = splits(questions)
    assert not {q["id"] for q in heldout} & {q["id"] for q in dev}
    args.out.mkdir(parents=True, exist_ok=True)
    sample = fresh(questions, heldout + dev)
    sets = (("squad-heldout", heldout), ("squad-dev", dev), ("squad-fresh", sample),
            ("squad-train", train(questions, heldout + dev + sample)))
    for name, rows in sets:
        with (args.out / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(q) + "\n" for q in rows)
        print(f"{args.out / name}.jsonl: {len(rows)} questions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
