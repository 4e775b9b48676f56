"""The replay corpus through the real answer path: what share of real-world reply styles come out right.

Each of the 116 replies in tests/replies/replies.json (refusals and their paraphrases in four languages, partial
answers, reasoning blocks, 40 citation styles, wrong citations, replies cut at the token limit) is served by the
scripted OpenAI-compatible server (tests/fakellm.py, streaming, with the reply's finish_reason) to real litellm,
and answered over the case's five passages with the real embedding model. Per check, the share of replies that
pass (tests/replay.py defines the checks): refusal decided right, partial flag right, shown text as expected
(markers in the passages' numbers), cited passages, support verdicts, quotes inside their passage, streamed text
equal to the final text, no raw marker or reasoning shown. The follow-up rewrite replies are scored too.

    .venv/bin/python bench/replay.py            # about a minute
    .venv/bin/python bench/replay.py --cases    # and every failed check
"""

from __future__ import annotations

import common  # noqa: F401  (sets the offline environment first)

import argparse
import json
import sys
import time
from collections import defaultdict

sys.path.insert(0, str(common.ROOT / "tests"))

from fakellm import FakeLLM  # noqa: E402
from replay import answer_cases, corpus, replay_answerer, run_case  # noqa: E402

from rag.conversation import parse_rewrite  # noqa: E402
from rag.embeddings import SentenceTransformerEmbedder  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", action="store_true", help="print every failed check")
    parser.add_argument("--out", default=str(common.ROOT / "bench" / "results" / "replay.json"))
    args = parser.parse_args()
    common.clear_rag_environment()
    embedder = SentenceTransformerEmbedder()
    started = time.time()
    table: dict[str, list[dict[str, bool]]] = defaultdict(list)
    failures = []
    with FakeLLM() as fake:
        answerers = {name: replay_answerer(embedder, fake.base_url, name) for name in ("seed", "squad")}
        for case in answer_cases():
            checks = run_case(case, answerers[case["passage_set"]], fake)["checks"]
            checks["all"] = all(checks.values())
            table[case["category"]].append(checks)
            table["all"].append(checks)
            failures += [(case["id"], name) for name, ok in checks.items() if not ok and name != "all"]
    rewrites = [parse_rewrite(c["reply"]) == c["expect_standalone"] for c in corpus()["rewrite_cases"]]
    names = ["refusal", "partial", "shown", "cited", "supported", "quotes", "stream_is_final", "no_leak", "all"]
    print(f"| category | n | {' | '.join(names)} |\n|---|---|{'---|' * len(names)}")
    for category in sorted(table, key=lambda c: (c == "all", c)):
        rows = table[category]
        print(f"| {category} | {len(rows)} | "
              + " | ".join(f"{sum(r.get(n, True) for r in rows)}" for n in names) + " |")
    rows = table["all"]
    figures = {n: round(sum(r.get(n, True) for r in rows) / len(rows), 4) for n in names}
    print(f"\nshares over {len(rows)} replies: {json.dumps(figures)}")
    print(f"follow-up rewrites parsed right: {sum(rewrites)} of {len(rewrites)}; {time.time() - started:.0f} s")
    if args.cases:
        for case_id, name in failures:
            print(f"  FAIL {case_id}: {name}")
    common.ROOT.joinpath("bench", "results").mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"figures": figures, "failures": failures, "rewrites_right": sum(rewrites)}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
