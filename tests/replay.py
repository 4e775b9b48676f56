"""The replay corpus (tests/replies/replies.json): real-world reply styles served through the scripted server and
real litellm, and what the user must see for each. Used by tests/test_replay.py and bench/replay.py.

    cases = answer_cases()                       # 116 replies: refusals, partials, reasoning, citation styles...
    answerer = replay_answerer(embedder, fake, "seed")   # answers over the case's five fixed passages
    result = run_case(case, answerer, fake)      # {"checks": {...}, "answer": Answer, "streamed": str}

Every case names a passage set (the seed article cut in five, or five SQuAD "Normans" paragraphs); the
answerer's search returns exactly those passages, numbered 1-5 in the prompt as in the case. The corpus's
conventions (replies.json "conventions") give the expected shown text with the passages' ORIGINAL numbers; the
app renumbers markers 1, 2, 3 by first use and may move an unsupported citation, so `shown_in_passage_numbers`
maps each shown marker back to the passage the model cited before comparing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import rag
from rag.answering import Answerer
from rag.prompts import REFUSAL_PHRASE

CORPUS = Path(__file__).parent / "replies" / "replies.json"
LEAKS = ("<think", "</think", "<thinking", "<answer", "【", "†", "[Passage", "(Passage", "[Source", "(Source",
         "[^", "[doc", "[citation:", "Sources:", "References:", "［", "¹", "²", "³", "⁴", "⁵")


def corpus() -> dict[str, Any]:
    return json.loads(CORPUS.read_text(encoding="utf-8"))


def answer_cases() -> list[dict[str, Any]]:
    return corpus()["answer_cases"]


def passages(name: str) -> list[rag.Passage]:
    return [rag.Passage(f"{name}-{p['n']}", p["document"], p["title"], None, p["text"], 0, len(p["text"]),
                        score=1.0 / p["n"], dense_score=0.9, rank=p["n"]) for p in corpus()["passage_sets"][name]]


def replay_answerer(embedder: Any, base_url: str, name: str, timeout: float = 20) -> Answerer:
    fixed = passages(name)

    def search(query: str, k: int | None = None, mode: str | None = None,
               documents: list[str] | None = None) -> list[rag.Passage]:
        return fixed

    settings = rag.Settings(model="openai/test-model", api_base=base_url, llm_timeout=timeout, llm_retries=0)
    return Answerer(search, embedder, settings)


def number_of(passage_id: str) -> int:
    return int(passage_id.rsplit("-", 1)[1])


def shown_in_passage_numbers(answer: rag.Answer) -> str:
    """The answer text with each marker written in the passage numbers the model cited."""
    model_number = {c.n: number_of(c.moved_from or c.passage_id) for c in answer.citations}

    def back(match: re.Match[str]) -> str:
        numbers = list(dict.fromkeys(model_number[int(n)] for n in re.findall(r"\d+", match.group(1))))
        return f"[{', '.join(map(str, numbers))}]"

    return re.sub(r"\[(\d+(?:, \d+)*)\]", back, answer.text)


def collapse(text: str) -> str:
    return " ".join(text.split())


def run_case(case: dict[str, Any], answerer: Answerer, fake: Any) -> dict[str, Any]:
    """Serve the case's reply, ask its question, and check what the user sees against the expectation."""
    fake.reply(case["reply"], finish_reason=case["finish_reason"])
    items = list(answerer.stream(case["question"]))
    answer: rag.Answer = items[-1]
    streamed = "".join(items[:-1])
    expect = case["expect"]
    no_answer = expect["shown_text"] == "" and not expect["refused"]
    checks: dict[str, bool] = {
        "refusal": answer.refused == expect["refused"],
        "partial": answer.partial == expect["partial"],
        "stream_is_final": streamed == answer.text,
        "no_leak": not any(s in answer.text for s in expect["must_not_show"] + list(LEAKS)),
        "quotes": all(_quote_ok(c, answer) for c in answer.citations),
    }
    if no_answer:  # nothing but reasoning: the offline answer, with a notice saying why
        checks["shown"] = answer.mode == "extractive" and "wrote no answer" in (answer.notice or "")
        checks["cited"] = checks["supported"] = True
    elif expect["refused"]:
        checks["shown"] = answer.text.startswith(REFUSAL_PHRASE)
        checks["cited"] = answer.citations == []
        checks["supported"] = True
    else:
        written = [c for c in answer.citations if not c.inferred]
        cited = list(dict.fromkeys(number_of(c.moved_from or c.passage_id) for c in written))
        checks["shown"] = collapse(shown_in_passage_numbers(answer)) == collapse(expect["shown_text"])
        checks["cited"] = cited == expect["cited_passages"]
        checks["supported"] = _support_ok(expect["supported"], written)
    if expect["truncated"] and not no_answer:
        checks["notice"] = "cut" in (answer.notice or "")
    return {"checks": checks, "answer": answer, "streamed": streamed}


def _quote_ok(citation: rag.Citation, answer: rag.Answer) -> bool:
    passage = next(p for p in answer.passages if p.id == citation.passage_id)
    inside = passage.text[citation.start - passage.start: citation.end - passage.start] == citation.quote
    return inside and not citation.quote.lstrip().startswith("#") and bool(citation.quote.strip())


def _support_ok(expected: dict[str, bool] | None, written: list[rag.Citation]) -> bool:
    """Each passage the model cited is judged as expected: supported as written, or not (moved or flagged)."""
    if expected is None:
        return True
    for number, supported in expected.items():
        as_written = [c for c in written if number_of(c.moved_from or c.passage_id) == int(number)]
        if not as_written:
            return False
        judged = all(c.supported and c.moved_from is None for c in as_written)
        if judged != supported:
            return False
    return True
