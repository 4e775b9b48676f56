"""Question -> Answer: rewrite a follow-up, retrieve, refuse below the relevance floor, answer with the LLM
(or offline by extraction), and check every claim against the passage it cites.

An `Answerer` is built from what it needs, not from an index: a search function, an embedder, the settings, and
(for the refusal's hint) a function listing the documents. Tests give it a stand-in search; the Index builds one.

`ask()` returns an Answer. `stream()` yields text deltas as they are produced and then, last, the final Answer.
What streams is what stays: the reply is read by rag.replies (reasoning removed, citation styles normalised,
refusals recognised before anything is shown) and each claim is checked as its marker arrives (rag.citing), so
the deltas join to the Answer's `text`. Only an LLM failure part-way replaces them: then the Answer holds the
offline answer and a one-line notice. An LLM failure never raises.

This module orchestrates; the parts live in: conversation (follow-ups), budget (context window), prompts,
generation (litellm), replies (reading the reply), claims and citing (the support check), extractive (offline).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

from rag import prompts
from rag.claims import ClaimChecker
from rag.citing import CitedAnswer
from rag.conversation import heuristic_rewrite, normalize_history, parse_rewrite, stands_alone
from rag.answerability import Known
from rag.embeddings import Embedder
from rag.errors import EmptyQuestionError, LLMError
from rag.extractive import extract
from rag.replies import ReplyReader
from rag.settings import Settings
from rag.support import SupportScorer, VectorCache, passage_sentences
from rag.types import EXTRACTIVE, LLM, REFUSAL, Answer, Citation, DocumentInfo, Passage, Support

if TYPE_CHECKING:
    from rag.generation import LLMConfig


class Search(Protocol):
    """What answering needs of retrieval: the best passages for a query."""

    def __call__(self, query: str, k: int | None = None, mode: str | None = None,
                 documents: list[str] | None = None) -> list[Passage]: ...


class _NoAnswer(Exception):
    """The model's reply held nothing to show (only reasoning, cut at the token limit)."""


class Answerer:
    """Answers questions from `search`'s passages; one per index, shared by threads (it keeps no per-call state)."""

    def __init__(self, search: Search, embedder: Embedder, settings: Settings,
                 catalog: Callable[[], list[DocumentInfo]] = list, vectors: VectorCache | None = None,
                 known: Known | None = None) -> None:
        self.search = search
        self.embedder = embedder
        self.settings = settings
        self.catalog = catalog  # the documents of the corpus, for the refusal's hint
        self.vectors = vectors if vectors is not None else VectorCache()
        self.known = known  # whether a chunk holds a word with one of others (offline refusals)

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
        notices: list[str] = []
        standalone = question
        if turns:
            standalone = self._rewrite(question, turns, config, notices)
            clock.lap("rewrite")
        passages = self.search(standalone, k=k, mode=mode, documents=documents)
        clock.lap("retrieve")
        base = dict(question=question, standalone_question=standalone, settings_hash=s.answer_hash())

        best = max((p.dense_score or 0.0 for p in passages), default=0.0)
        if best < s.min_relevance:
            text = self._refusal_text(passages, found=False)
            yield text
            yield Answer(text=text, citations=[], passages=passages, refused=True, mode=REFUSAL,
                         notice=_join(notices), timings_ms=clock.done(), **base)
            return

        if config is not None:
            try:
                yield from self._llm(standalone, passages, config, notices, clock, base)
                return
            except LLMError as exc:
                notices.append(f"{exc} - showing the offline extracted answer instead.")
            except _NoAnswer:
                notices.append(f"LLM {config.model} wrote no answer (its reasoning was cut at the token limit) - "
                               "showing the offline extracted answer instead.")
            clock.lap("generate")
        parts, cites, refusal = self._extractive(standalone, passages, whole_corpus=documents is None)
        clock.lap("extract")
        if refusal is not None:  # the passages cannot hold the answer: say why
            text = f"I could not find the answer to this in the documents: {refusal}. {self._corpus_hint(passages)}"
            yield text
            yield Answer(text=text, citations=[], passages=passages, refused=True, mode=EXTRACTIVE,
                         notice=_join(notices), timings_ms=clock.done(), **base)
            return
        for i, part in enumerate(parts):
            yield part if i == len(parts) - 1 else part + " "
        support = Support(len(parts), len(parts), len(cites), len(cites))  # quotes support themselves
        yield Answer(text=" ".join(parts), citations=cites, passages=passages, refused=False, mode=EXTRACTIVE,
                     notice=_join(notices), timings_ms=clock.done(), support=support, **base)

    # -- parts --------------------------------------------------------------------------------------
    def _llm_config(self, model: str | None) -> LLMConfig | None:
        s = self.settings
        name = model or s.model
        if not name:
            return None
        from rag.generation import LLMConfig

        return LLMConfig(model=name, api_base=s.api_base, api_key=s.api_key, timeout=s.llm_timeout,
                         retries=s.llm_retries, temperature=s.temperature, max_tokens=s.max_tokens,
                         context_window=s.context_window)

    def _rewrite(self, question: str, turns: list[dict[str, str]], config: LLMConfig | None,
                 notices: list[str]) -> str:
        if config is None or stands_alone(question):
            return heuristic_rewrite(question, turns)
        from rag import generation

        try:
            reply = generation.complete(prompts.rewrite_messages(question, turns), config)
        except LLMError as exc:
            notices.append(f"{exc} - the follow-up was rewritten offline.")
            return heuristic_rewrite(question, turns)
        return parse_rewrite(reply) or heuristic_rewrite(question, turns)

    def _llm(self, question: str, passages: list[Passage], config: LLMConfig, notices: list[str], clock: _Clock,
             base: dict) -> Iterator[str | Answer]:
        from rag import budget, generation

        passages, dropped = budget.fit(question, passages, config)
        if dropped:
            notices.append(f"{dropped} passage{'s' * (dropped != 1)} left out to fit {config.model}'s context "
                           "window.")
        reader = ReplyReader(len(passages))
        cited = CitedAnswer(ClaimChecker(self.embedder, passages, self.vectors), passages)
        reply = generation.stream(prompts.answer_messages(question, passages), config)
        deltas = iter(reply)
        try:
            for delta in deltas:
                shown = cited.add(reader.feed(delta))
                if shown:
                    yield shown
                if reader.refused:
                    break  # no need to read the rest of a refusal
        finally:
            deltas.close()  # cancels the call if it is still running
        clock.lap("generate")
        if not reader.refused:
            shown = cited.add(reader.close(truncated=reply.finish_reason == "length"))
            if shown:
                yield shown
        if reader.refused:
            text = self._refusal_text(passages, found=True)
            yield text
            yield Answer(text=text, citations=[], passages=passages, refused=True, mode=LLM, model=config.model,
                         notice=_join(notices), timings_ms=clock.done(), **base)
            return
        if reader.no_answer:
            raise _NoAnswer()
        if reply.finish_reason == "length":
            notices.append(f"The answer was cut at {'the reply length limit' if reply.capped else 'the token limit'}"
                           " (RAG_MAX_TOKENS): it may be incomplete.")
        citations, support = cited.finish(reader.listed)
        clock.lap("cite")
        yield Answer(text=cited.text, citations=citations, passages=passages, refused=False, mode=LLM,
                     model=config.model, partial=reader.partial, notice=_join(notices), timings_ms=clock.done(),
                     support=support, **base)

    def _extractive(self, question: str, passages: list[Passage],
                    whole_corpus: bool = True) -> tuple[list[str], list[Citation], str | None]:
        scorer = SupportScorer(self.embedder, passage_sentences(passages), self.vectors)
        vector = self.vectors.embed(self.embedder, [question])[0]
        chosen = extract(question, vector, passages, scorer, self.settings.answer_sentences,
                         refuse=self.settings.offline_refusals, known=self.known if whole_corpus else None)
        if chosen.refusal is not None:
            return [], [], chosen.refusal
        parts, cites = [], []
        for n, sentence in enumerate(chosen.sentences, start=1):
            p = passages[sentence.passage]
            cites.append(Citation(n, p.id, p.document, p.title, p.url, sentence.text, sentence.start, sentence.end))
            parts.append(f"{' '.join(sentence.text.split())} [{n}]")
        return parts, cites, None

    def _refusal_text(self, passages: list[Passage], found: bool) -> str:
        lead = prompts.REFUSAL_PHRASE if found else "I could not find the answer to this in the documents."
        return f"{lead} {self._corpus_hint(passages)}"

    def _corpus_hint(self, passages: list[Passage]) -> str:
        docs = self.catalog()
        titles = list(dict.fromkeys([p.title for p in passages] + [d.title for d in docs]))[:3]
        shown = "; ".join(f"“{_short(t)}”" for t in titles)
        return f"The corpus holds {len(docs)} document{'s' if len(docs) != 1 else ''}, about: {shown}."


def _short(title: str, limit: int = 90) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"


def _join(notices: list[str]) -> str | None:
    return " ".join(notices) or None


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
