"""Question sets for `rag eval`: JSONL (the layout of ../shared/data/*/questions.jsonl) or CSV.

One question per line: {"id", "question", "answers": [gold strings], "answerable": bool, "sources": [gold
document ids]}. `answers` empty means unanswerable unless `answerable` says otherwise; a missing id becomes
"line-N"; any other field is kept in `extra`. A malformed line is skipped and reported with its line number.
CSV: a header row naming the same columns; `answers` and `sources` cells hold a JSON list or a|b|c.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag import ConfigError


@dataclass
class EvalQuestion:
    id: str
    question: str
    answers: list[str]
    answerable: bool
    sources: list[str]
    line: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class QuestionSet:
    path: Path
    name: str
    questions: list[EvalQuestion]
    problems: list[tuple[int, str]]  # (line number, what is wrong): lines that were skipped


_KNOWN = ("id", "question", "answers", "answerable", "sources")


def set_name(path: Path) -> str:
    """`eval/seeds.jsonl` -> "seeds"; `data/squad-v1.1-dev/questions.jsonl` -> "squad-v1.1-dev"."""
    path = Path(path)
    if path.stem in ("questions", "queries", "test", "dev") and path.resolve().parent.name:
        return path.resolve().parent.name
    return path.stem


def load_questions(path: str | Path) -> QuestionSet:
    """Read a JSONL or CSV question set. A malformed line is skipped and reported with its line number."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"question set not found: {path}")
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read question set {path}: {exc}") from exc
    rows = _csv_rows(raw) if path.suffix.lower() == ".csv" else _jsonl_rows(raw)
    questions: list[EvalQuestion] = []
    problems: list[tuple[int, str]] = []
    seen: set[str] = set()
    for line, row in rows:
        try:
            if isinstance(row, str):
                raise ValueError(row)
            q = _question(row, line)
            if q.id in seen:
                raise ValueError(f"duplicate id {q.id!r}")
            seen.add(q.id)
            questions.append(q)
        except ValueError as exc:
            problems.append((line, str(exc)))
    if not questions:
        detail = ""
        if problems:
            detail = f" ({len(problems)} malformed lines, first: line {problems[0][0]}: {problems[0][1]})"
        raise ConfigError(f"no questions in {path}{detail}")
    return QuestionSet(path, set_name(path), questions, problems)


def _jsonl_rows(raw: str) -> list[tuple[int, dict | str]]:
    rows: list[tuple[int, dict | str]] = []
    for number, text in enumerate(raw.split("\n"), start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            rows.append((number, f"invalid JSON ({exc.msg} at column {exc.colno})"))
            continue
        rows.append((number, record if isinstance(record, dict) else "not a JSON object"))
    return rows


def _csv_rows(raw: str) -> list[tuple[int, dict | str]]:
    reader = csv.DictReader(io.StringIO(raw, newline=""))
    rows: list[tuple[int, dict | str]] = []
    start = 2  # the header is line 1
    try:
        for record in reader:
            if None in record:  # more cells than header columns
                rows.append((start, "more cells than the header has columns"))
            elif any((v or "").strip() for v in record.values()):
                rows.append((start, {k.strip(): v for k, v in record.items() if k is not None}))
            start = reader.line_num + 1
    except csv.Error as exc:
        rows.append((start, f"malformed CSV ({exc})"))
    if reader.fieldnames is None or "question" not in [f.strip() for f in reader.fieldnames]:
        raise ConfigError("the CSV question set needs a header row with at least a 'question' column")
    return rows


def _strings(value: Any, name: str) -> list[str]:
    """A list of non-empty strings from a JSON list, a single string, or a CSV cell (JSON list or a|b|c)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{name!r} is not a valid JSON list") from exc
        else:
            return [part.strip() for part in text.split("|") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                              for v in value):
        raise ValueError(f"{name!r} must be a list of strings")
    return [str(v) for v in value if str(v).strip()]


def _bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "y", "false", "0", "no", "n"):
        return value.strip().lower() in ("true", "1", "yes", "y")
    raise ValueError(f"'answerable' must be true or false, not {value!r}")


def _question(row: dict, line: int) -> EvalQuestion:
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("missing or empty 'question'")
    answers = _strings(row.get("answers"), "answers")
    sources = _strings(row.get("sources"), "sources")
    answerable = _bool(row.get("answerable"))
    raw_id = row.get("id")
    qid = str(raw_id).strip() if raw_id is not None and str(raw_id).strip() else f"line-{line}"
    extra = {k: v for k, v in row.items() if k not in _KNOWN}
    return EvalQuestion(qid, question.strip(), answers, bool(answers) if answerable is None else answerable,
                        sources, line, extra)
