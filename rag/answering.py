"""Question -> Answer: rewrite a follow-up, retrieve, refuse below the relevance floor, answer with the LLM
(or offline by extraction), check and map every citation to the exact sentence it quotes.

An `Answerer` is built from what it needs, not from an index: a search function, an embedder, the settings, and
(for the refusal's hint) a function listing the documents. Tests give it a stand-in search; the Index builds one.

`ask()` returns an Answer. `stream()` yields text deltas as they are produced and then, last, the final Answer,
whose `text` is authoritative: markers are renumbered, and if the LLM failed mid-stream the Answer holds the
offline answer with a notice. An LLM failure never raises: the offline answer is given, with a one-line notice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag import citations, prompts
from rag.conversation import heuristic_rewrite, normalize_history
from rag.embeddings import Embedder
from rag.errors import EmptyQuestionError, LLMError
from rag.extractive import extract
from rag.settings import Settings
from rag.support import SupportScorer, VectorCache, passage_sentences
from rag.types import EXTRACTIVE, LLM, REFUSAL, Answer, Citation, DocumentInfo, Passage

if TYPE_CHECKING:
    from rag.generation import LLMConfig

INFER_FLOOR = 0.45  # an unmarked LLM sentence is cited to a passage sentence only if it supports it this well


class Search(Protocol):
    """What answering needs of retrieval: the best passages for a query."""

    def __call__(self, query: str, k: int | None = None, mode: str | None = None,
                 documents: list[str] | None = None) -> list[Passage]: ...


class Answerer:
    """Answers questions from `search`'s passages; one per index, shared by threads (it keeps no per-call state)."""

    def __init__(self, search: Search, embedder: Embedder, settings: Settings,
                 catalog: Callable[[], list[DocumentInfo]] = list, vectors: VectorCache | None = None) -> None:
        self.search = search
        self.embedder = embedder
        self.settings = settings
        self.catalog = catalog  # the documents of the corpus, for the refusal's hint
        self.vectors = vectors if vectors is not None else VectorCache()

    def ask(self, question: str, history: object = None, k: int | None = None, model: str | None = None,
            mode: str | None = None, documents: list[str] | None = None) -> Answer:
        answer = None
        for item in self.stream(question, history, k=k, model=model, mode=mode, documents=documents):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(self, question: str, history: object = None, k: int | None = None, model: str | None = None,
               mode: str | None = None, documents: list[str] | None = None) -> Iterator[str | Answer]:
        if not isinstance(question, str) or not question.strip():
            raise EmptyQuestionError()
        question = question.strip()
        s = self.settings
        config = self._llm_config(model)
        clock = _Clock()
        turns = normalize_history(history)
        notice = None
        standalone = question
        if turns:
            standalone, notice = self._rewrite(question, turns, config)
            clock.lap("rewrite")
        passages = self.search(standalone, k=k, mode=mode, documents=documents)
        clock.lap("retrieve")
        base = dict(question=question, passages=passages, standalone_question=standalone, settings_hash=s.answer_hash())

        best = max((p.dense_score or 0.0 for p in passages), default=0.0)
        if best < s.min_relevance:
            text = self._refusal_text(passages)
            yield text
            yield Answer(text=text, citations=[], refused=True, mode=REFUSAL, notice=notice,
                         timings_ms=clock.done(), **base)
            return

        scorer = SupportScorer(self.embedder, passage_sentences(passages), self.vectors)
        if config is not None:
            raw = ""
            try:
                from rag import generation

                for delta in generation.stream(prompts.answer_messages(standalone, passages), config):
                    raw += delta
                    yield delta
                clock.lap("generate")
                answer = self._llm_answer(raw, passages, scorer, config.model, notice, clock, base)
                yield answer
                return
            except LLMError as exc:
                notice = f"{exc} - showing the offline extracted answer instead."
                clock.lap("generate")
        parts, cites, refusal = self._extractive(standalone, passages, scorer)
        clock.lap("extract")
        if refusal is not None:  # the passages cannot hold the answer: say why
            text = f"I could not find the answer to this in the documents: {refusal}. {self._corpus_hint(passages)}"
            yield text
            yield Answer(text=text, citations=[], refused=True, mode=EXTRACTIVE, notice=notice,
                         timings_ms=clock.done(), **base)
            return
        text = " ".join(parts)
        for i, part in enumerate(parts):
            yield part if i == len(parts) - 1 else part + " "
        yield Answer(text=text, citations=cites, refused=False, mode=EXTRACTIVE, notice=notice,
                     timings_ms=clock.done(), **base)

    # -- parts --------------------------------------------------------------------------------------
    def _llm_config(self, model: str | None) -> LLMConfig | None:
        s = self.settings
        name = model or s.model
        if not name:
            return None
        from rag.generation import LLMConfig

        return LLMConfig(model=name, api_base=s.api_base, api_key=s.api_key, timeout=s.llm_timeout,
                         retries=s.llm_retries, temperature=s.temperature)

    def _rewrite(self, question: str, turns: list[dict[str, str]], config: LLMConfig | None) -> tuple[str, str | None]:
        if config is not None:
            from rag import generation

            try:
                rewritten = " ".join(generation.complete(prompts.rewrite_messages(question, turns), config).split())
                return (rewritten.strip('"') or question), None
            except LLMError as exc:
                return heuristic_rewrite(question, turns), f"{exc} - the follow-up was rewritten offline."
        return heuristic_rewrite(question, turns), None

    def _extractive(
        self, question: str, passages: list[Passage], scorer: SupportScorer
    ) -> tuple[list[str], list[Citation], str | None]:
        vector = self.vectors.embed(self.embedder, [question])[0]
        chosen = extract(question, vector, passages, scorer, self.settings.answer_sentences)
        if chosen.refusal is not None:
            return [], [], chosen.refusal
        parts, cites = [], []
        for n, sentence in enumerate(chosen.sentences, start=1):
            p = passages[sentence.passage]
            cites.append(Citation(n, p.id, p.document, p.title, p.url, sentence.text, sentence.start, sentence.end))
            parts.append(f"{' '.join(sentence.text.split())} [{n}]")
        return parts, cites, None

    def _llm_answer(self, raw: str, passages: list[Passage], scorer: SupportScorer, model: str,
                    notice: str | None, clock: _Clock, base: dict) -> Answer:
        if _is_refusal(raw):
            text = f"{prompts.REFUSAL_PHRASE} {self._corpus_hint(passages)}"
            return Answer(text=text, citations=[], refused=True, mode=LLM, model=model, notice=notice,
                          timings_ms=clock.done(), **base)
        parsed = citations.parse(raw, len(passages))
        inferred = not parsed.order
        if inferred:  # claims but no valid marker: cite by matching sentences, and say so
            parsed = citations.parse(self._infer(parsed.claims, scorer), len(passages))
        text, order, claims = parsed.text, parsed.order, parsed.claims
        cites = []
        for n, p_index in enumerate(order, start=1):
            p = passages[p_index]
            related = [c.text for c in claims if p_index in c.passages] or [text]
            only = [i for i, s in enumerate(scorer.sentences) if s.passage == p_index]
            best_i, best = only[0] if only else None, -np.inf
            for claim in related:
                if not only:
                    break
                scores = scorer.scores(claim, only=only)
                if scores.max() > best:
                    best, best_i = float(scores.max()), only[int(scores.argmax())]
            if best_i is None:
                quote, start, end = p.text, p.start, p.end
            else:
                sent = scorer.sentences[best_i]
                quote, start, end = sent.text, sent.start, sent.end
            cites.append(Citation(n, p.id, p.document, p.title, p.url, quote, start, end, inferred))
        clock.lap("cite")
        return Answer(text=text, citations=cites, refused=False, mode=LLM, model=model, notice=notice,
                      timings_ms=clock.done(), **base)

    def _infer(self, claims: list[citations.Claim], scorer: SupportScorer) -> str:
        """The claims with a marker (the passage's own number) after each one a passage sentence supports."""
        parts = []
        for claim in claims:
            scores = scorer.scores(claim.text) if scorer.sentences else np.zeros(0)
            if len(scores) and scores.max() >= INFER_FLOOR:
                n = scorer.sentences[int(scores.argmax())].passage + 1
                body = claim.text.rstrip()
                stop = body[-1] if body[-1:] in ".!?" else ""
                parts.append(f"{body[:-1] if stop else body} [{n}]{stop}")
            else:
                parts.append(claim.text)
        return " ".join(parts)

    def _refusal_text(self, passages: list[Passage]) -> str:
        return f"I could not find the answer to this in the documents. {self._corpus_hint(passages)}"

    def _corpus_hint(self, passages: list[Passage]) -> str:
        docs = self.catalog()
        titles = list(dict.fromkeys([p.title for p in passages] + [d.title for d in docs]))[:3]
        shown = "; ".join(f"“{_short(t)}”" for t in titles)
        return f"The corpus holds {len(docs)} document{'s' if len(docs) != 1 else ''}, about: {shown}."


def _short(title: str, limit: int = 90) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"


def _is_refusal(text: str) -> bool:
    def norm(t: str) -> str:
        return " ".join("".join(ch for ch in t.lower() if ch.isalnum() or ch.isspace()).split())

    return norm(prompts.REFUSAL_PHRASE) in norm(text)


class _Clock:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[f"{name}_ms"] = self.laps.get(f"{name}_ms", 0.0) + (now - self.last) * 1000
        self.last = now

    def done(self) -> dict[str, float]:
        return {**self.laps, "total_ms": (time.perf_counter() - self.start) * 1000}
