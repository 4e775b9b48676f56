"""The per-claim support check (rag.claims) on labelled claims generated from SQuAD v1.1: how often it flags a
citation that is wrong, and how often one that is right.

For each sampled question with a gold paragraph, the *gold sentence* is the paragraph's sentence holding the
gold answer, and the *retrieved passages* are the gold paragraph plus the best BM25 hits for the question
(rag.lexical's tokenizer over all 2,067 paragraphs). Six claims are made from it:

    gold/correct     the gold sentence cited to its own paragraph            (supported)
    gold/wrong       the gold sentence cited to the best other retrieved paragraph that lacks the answer
    gold/swapped     the gold sentence with a number or name swapped for another of the article's, absent from
                     the gold paragraph, cited to its own paragraph         (unsupported)
    question/*       the same three for a claim written from the question ("Which NFL team represented the AFC?"
                     + "Denver Broncos" -> "Denver Broncos NFL team represented the AFC"): worded like the
                     question, not like the passage, so closer to what a model writes

Articles alternate between a development split (even positions in title order: used to choose the weight and
thresholds) and a held-out test split (odd positions: reported). A citation counts as flagged when the check
does not keep it as written (unsupported: moved to another passage, or left flagged).

    .venv/bin/python bench/support_check.py                 # about 4 minutes on 2 cores
    .venv/bin/python bench/support_check.py --every 10      # fewer questions
    .venv/bin/python bench/support_check.py --write-subset tests/data/support_claims.jsonl

Writes bench/results/support_check.json (features of every claim, the sweep, the figures) and prints tables.
"""

from __future__ import annotations

import common  # noqa: F401  (sets the offline environment first)

import argparse
import json
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from rag import claims as C
from rag.embeddings import SentenceTransformerEmbedder
from rag.chunking import sentence_spans
from rag.support import VectorCache
from rag.types import Passage

STEMMER = Stemmer.Stemmer("english")
WH = re.compile(r"^(?:in|on|at|from|to|by|for|during|after|before|of|with)?\s*(?:what|which|who|whom|whose|when|where|"
                r"how many|how much|how long|how old|how far|how large|how big|how|why)\b", re.I)
NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
NUM = re.compile(r"\b\d[\d,]*\b")


def sentence_of(text: str, answer_start: int) -> tuple[int, int] | None:
    for a, b in sentence_spans(text):
        if a <= answer_start < b:
            return a, b
    return None


def is_name(text: str) -> bool:
    """Every word a capitalised name word (not a sentence opener such as "After" or "This")."""
    runs = C.name_runs(text)
    return len(runs) == 1 and len(runs[0]) == len(text.split())


def swap(sentence: str, answer: str, article_texts: list[str], gold: str, rng: random.Random) -> str | None:
    """The sentence with one number or name replaced by another from the article, absent from `gold`."""
    targets = []
    if answer in sentence and (NUM.fullmatch(answer.replace(" ", "")) or is_name(answer)):
        targets.append(answer)
    targets += [m.group(0) for m in NUM.finditer(sentence)]
    targets += [m.group(0) for m in NAME.finditer(sentence) if is_name(m.group(0))]
    for target in targets:
        if NUM.fullmatch(target):
            pool = {m.group(0) for t in article_texts for m in NUM.finditer(t)}
            pool |= {str(int(target.replace(",", "")) + d) for d in (1, 2, 3, 7, 11, -1, -2)}
            pool = {p for p in pool if len(p) == len(target)}
        else:
            pool = {m.group(0) for t in article_texts for m in NAME.finditer(t) if is_name(m.group(0))}
        pool = sorted(p for p in pool if p != target and p.lower() not in gold.lower()
                      and not C.names_in(p) & C.names_in(target) and not (set(C.numbers_in(p)) & C.numbers_in(gold)))
        if pool:
            return sentence.replace(target, rng.choice(pool), 1)
    return None


def from_question(question: str, answer: str) -> str | None:
    q = question.strip().rstrip("?").strip()
    if not WH.match(q):
        return None
    return WH.sub(answer, q, count=1).strip() + "."


def build(every: int, seed: int = 0) -> list[dict]:
    data = common.data_dir() / "squad-v1.1-dev"
    corpus = common.read_jsonl(data / "corpus.jsonl")
    questions = common.read_jsonl(data / "questions.jsonl")[::every]
    by_id = {d["_id"]: d for d in corpus}
    titles = sorted({d["title"] for d in corpus})
    split = {t: ("dev" if i % 2 == 0 else "test") for i, t in enumerate(titles)}
    article: dict[str, list[str]] = defaultdict(list)
    for d in corpus:
        article[d["title"]].append(d["text"])
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([d["text"] for d in corpus], stemmer=STEMMER, show_progress=False),
                    show_progress=False)
    rng, items = random.Random(seed), []
    for q in questions:
        gold = by_id.get((q.get("sources") or [""])[0])
        answer = next((a for a in q["answers"] if gold and a in gold["text"]), None)
        if gold is None or answer is None:
            continue
        span = sentence_of(gold["text"], gold["text"].index(answer))
        if span is None:
            continue
        hits, _ = retriever.retrieve(bm25s.tokenize([q["question"]], stemmer=STEMMER, show_progress=False), k=6,
                                     show_progress=False)
        others = [corpus[i] for i in hits[0] if corpus[i]["_id"] != gold["_id"]][:4]
        passages = [gold] + others
        wrong = next((i for i, o in enumerate(others, start=1) if answer.lower() not in o["text"].lower()), None)
        sentence = gold["text"][span[0]:span[1]]
        other_texts = [t for t in article[gold["title"]] if t != gold["text"]]
        base = {"id": q["id"], "split": split[gold["title"]], "question": q["question"], "answer": answer,
                "passages": [{"id": p["_id"], "title": p["title"], "text": p["text"]} for p in passages]}
        for kind, claim in (("gold", sentence), ("question", from_question(q["question"], answer))):
            if not claim:
                continue
            items.append({**base, "kind": kind, "label": "correct", "claim": claim, "cited": 0})
            if wrong is not None:
                items.append({**base, "kind": kind, "label": "wrong", "claim": claim, "cited": wrong})
            swapped = swap(claim, answer, other_texts, gold["text"], rng)
            if swapped:
                items.append({**base, "kind": kind, "label": "swapped", "claim": swapped, "cited": 0})
    return items


def features(items: list[dict], embedder: SentenceTransformerEmbedder) -> None:
    """The check's inputs and its verdict for every claim (one checker per question, claims embedded in batches)."""
    vectors = VectorCache(limit=10**7)
    vectors.embed(embedder, list(dict.fromkeys(i["claim"] for i in items)))
    by_question: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        by_question[item["id"]].append(item)
    for group in by_question.values():
        passages = [Passage(p["id"], p["id"], p["title"], None, p["text"], 0, len(p["text"]), 1.0)
                    for p in group[0]["passages"]]
        checker = C.ClaimChecker(embedder, passages, vectors)
        for item in group:
            dense, coverage, missing = checker.features(item["claim"], item["cited"])
            item.update(dense=dense, coverage=coverage, missing=missing)
            verdict = checker.check(item["claim"], [item["cited"]])[0]
            item["flagged_now"] = not verdict.supported or verdict.passage != item["cited"]


def flags(items: list[dict], w: float, t: float) -> dict[str, float]:
    out = {}
    for label in ("correct", "wrong", "swapped"):
        rows = [i for i in items if i["label"] == label]
        flagged = [bool(i["missing"]) or w * i["dense"] + (1 - w) * i["coverage"] < t for i in rows]
        out[label] = float(np.mean(flagged)) if rows else float("nan")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=5, help="take every N-th SQuAD question (default 5)")
    parser.add_argument("--out", type=Path, default=common.ROOT / "bench" / "results" / "support_check.json")
    parser.add_argument("--write-subset", type=Path, help="write a small labelled test subset (JSONL) here")
    args = parser.parse_args()
    if not (common.data_dir() / "squad-v1.1-dev").exists():
        print("SKIP: squad-v1.1-dev not found")
        return 0
    started = time.time()
    items = build(args.every)
    embedder = SentenceTransformerEmbedder()
    features(items, embedder)
    dev = [i for i in items if i["split"] == "dev"]
    sweep = []
    for w in np.arange(0.3, 0.81, 0.1):
        for t in np.arange(0.30, 0.801, 0.025):
            f = flags([i for i in dev if i["kind"] == "question"], w, t)
            g = flags([i for i in dev if i["kind"] == "gold"], w, t)
            sweep.append({"w": round(float(w), 2), "t": round(float(t), 3), "question": f, "gold": g})
    report = {"claims": len(items), "seconds": round(time.time() - started, 1), "weight": C.DENSE_WEIGHT,
              "threshold": C.THRESHOLD, "sweep": sweep, "figures": {}}
    print(f"{len(items)} claims ({sum(i['split'] == 'test' for i in items)} held out), {report['seconds']} s")
    print("\n| split | claims | kind | n | flagged: correct | wrong passage | swapped |\n|---|---|---|---|---|---|---|")
    for split in ("dev", "test"):
        for kind in ("gold", "question"):
            rows = [i for i in items if i["split"] == split and i["kind"] == kind]
            f = {lab: float(np.mean([i["flagged_now"] for i in rows if i["label"] == lab] or [np.nan]))
                 for lab in ("correct", "wrong", "swapped")}
            counts = {lab: sum(i["label"] == lab for i in rows) for lab in ("correct", "wrong", "swapped")}
            report["figures"][f"{split}/{kind}"] = {"flagged": f, "n": counts}
            print(f"| {split} | {kind} | {len(rows)} | {counts} | {f['correct']:.3f} | {f['wrong']:.3f} | "
                  f"{f['swapped']:.3f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**report, "items": items}, ensure_ascii=False))
    if args.write_subset:
        rng = random.Random(1)
        test = [i for i in items if i["split"] == "test" and i["kind"] == "gold"]
        subset = [i for lab in ("correct", "wrong", "swapped")
                  for i in rng.sample([x for x in test if x["label"] == lab], 20)]
        keep = ("id", "label", "claim", "cited", "passages", "question", "answer")
        args.write_subset.parent.mkdir(parents=True, exist_ok=True)
        args.write_subset.write_text("".join(json.dumps({k: i[k] for k in keep}, ensure_ascii=False) + "\n"
                                             for i in subset))
    return 0


if __name__ == "__main__":
    sys.exit(main())
