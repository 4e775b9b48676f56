"""The values an answer is made of: `Answer` and its `Citation`s."""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.retrieval import Passage

EXTRACTIVE = "extractive"
LLM = "llm"
REFUSAL = "refusal"


@dataclass(frozen=True)
class Citation:
    n: int  # the number the user sees: 1, 2, 3 in order of first use
    passage_id: str
    document: str
    title: str
    url: str | None
    quote: str  # the exact supporting text: document_text[start:end]
    start: int
    end: int
    inferred: bool = False  # attached by matching sentences, not by a marker the model wrote

    def to_json(self) -> dict:
        return {
            "n": self.n, "document": self.document, "title": self.title, "url": self.url,
            "passage_id": self.passage_id, "quote": self.quote, "start": self.start, "end": self.end,
            "inferred": self.inferred,
        }


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # with [n] markers, numbered as `citations`
    citations: list[Citation]
    passages: list[Passage]
    refused: bool
    mode: str  # "extractive" (offline), "llm", or "refusal" (refused before any answering)
    model: str | None = None  # the litellm model string when mode is llm
    standalone_question: str = ""  # the question actually searched (rewritten from a follow-up)
    notice: str | None = None  # a one-line notice, e.g. that the LLM failed and the offline answer is shown
    timings_ms: dict[str, float] = field(default_factory=dict)
    settings_hash: str = ""

    @property
    def label(self) -> str:
        if self.refused:
            return "Not found in the documents"
        if self.mode == EXTRACTIVE:
            return "Extracted from the documents (offline, no LLM)"
        return f"Answered by {self.model}"

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.text,
            "refused": self.refused,
            "mode": self.mode,
            "model": self.model,
            "label": self.label,
            "notice": self.notice,
            "citations": [c.to_json() for c in self.citations],
            "passages": [
                {"id": p.id, "document": p.document, "title": p.title, "url": p.url, "text": p.text,
                 "start": p.start, "end": p.end, "score": round(p.score, 6),
                 "dense_score": None if p.dense_score is None else round(p.dense_score, 6)}
                for p in self.passages
            ],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "settings_hash": self.settings_hash,
        }
