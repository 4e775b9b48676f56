"""Thumbs up/down on answers, kept in `feedback.jsonl` in the index folder, and their export as an eval set.

Each line: {"time", "liked", "question", "standalone_question", "answer", "refused", "mode", "model",
"citations", "settings_hash"}. The export writes the question-set layout `rag eval` reads: a thumbs-up answer
becomes the expected answer (markers removed) and its cited documents the gold sources; a thumbs-up refusal
becomes an unanswerable question. Thumbs-down answers are left out (their right answer is unknown), and the
latest vote on a question wins.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

from rag import Answer
from rag.citations import strip_markers

FILE = "feedback.jsonl"
_lock = threading.Lock()


def record(index_dir: Path, answer: Answer, liked: bool) -> Path:
    row = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "liked": liked,
        "question": answer.question,
        "standalone_question": answer.standalone_question or answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "mode": answer.mode,
        "model": answer.model,
        "citations": [c.to_json() for c in answer.citations],
        "settings_hash": answer.settings_hash,
    }
    path = Path(index_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def read(index_dir: Path) -> list[dict]:
    path = Path(index_dir) / FILE
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a crash
    return rows


def export(index_dir: Path) -> tuple[list[dict], int]:
    """The eval questions from thumbs-up answers, and how many votes were left out."""
    latest: dict[str, dict] = {}
    for row in read(index_dir):
        latest[row["standalone_question"]] = row
    questions, skipped = [], 0
    for question, row in latest.items():
        if not row["liked"]:
            skipped += 1
            continue
        qid = "fb-" + hashlib.sha256(question.encode()).hexdigest()[:10]
        if row["refused"]:
            questions.append({"id": qid, "question": question, "answers": [], "answerable": False, "sources": []})
        else:
            sources = list(dict.fromkeys(c["document"] for c in row["citations"]))
            questions.append({"id": qid, "question": question, "answers": [strip_markers(row["answer"])],
                              "answerable": True, "sources": sources})
    return questions, skipped
