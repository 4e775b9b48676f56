"""The offline answerer: with no LLM configured, answer with the sentence of the retrieved passages that best
answers the question, and further sentences only when they add to it; refuse when the passages show they do not
hold the answer. Each sentence is cited to the passage it comes from.

Sentences are scored by `rag.support` (embedding similarity blended with weighted word overlap), plus a small prior
for the passage's retrieval rank, minus penalties for headings, fragments and questions. Then:
- refused, saying why, when the passages show they do not hold the answer (`rag.answerability`): a name or figure
  of the question appears in no passage; the question asks what is *not* so and the closest sentences say nothing
  negative; the closest sentence has the opposite of a question word; or the question asks for an age or a number
  and no sentence of any passage gives one (`rag.answer_types`);
- the best-scoring sentence comes first;
- a further sentence joins only when the first does not already answer the whole question (it holds the expected
  kind of answer, a count, a date, a name, ..., and nearly all of the question's words), it scores nearly as well,
  repeats no chosen sentence, and holds the expected kind when the question says which.

Not handled: it cannot compose, compute or summarise; it quotes. Yes/no questions get the evidence, not a "yes".
Questions whose answer is absent though every name, figure and kind they ask for is present are answered with the
closest sentence (only an LLM can tell those apart).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag import answer_types, answerability
from rag.support import Sentence, SupportScorer
from rag.types import Passage

RANK_PRIOR = 0.04  # bonus for the first-ranked passage, decaying as 1/rank
KEEP_RATIO = 0.85  # a further sentence must score at least this share of the best one
REDUNDANT = 0.85  # cosine above which a further sentence repeats a chosen one
COMPLETE = 0.90  # a first sentence covering this share of the question's words (idf-weighted) answers it whole
STRICT_KINDS = ("age", "count", "duration")  # kinds whose absence from every passage refuses the question


@dataclass(frozen=True)
class Extract:
    sentences: list[Sentence]  # chosen, the answering one first; empty when refused
    scores: list[float]
    best_score: float
    refusal: str | None = None  # why the passages cannot answer, when they cannot (a phrase for the user)


def extract(
    question: str, question_vector: np.ndarray, passages: list[Passage], scorer: SupportScorer, max_sentences: int = 3,
    refuse: bool = True, known: answerability.Known | None = None,
) -> Extract:
    """The sentences that answer `question`, or a refusal with its reason; `refuse=False` (RAG_OFFLINE_REFUSALS)
    never refuses here (the relevance floor is applied before, by the caller); `known` tells whether the corpus
    holds a word with the question's other names (see answerability.missing_terms)."""
    sentences = scorer.sentences
    if not sentences:
        return Extract([], [], 0.0, "no passage has a sentence to quote")
    missing = answerability.missing_terms(question, passages, known) if refuse else []
    if missing:
        return Extract([], [], 0.0, f"no passage found mentions {', '.join(f'“{t}”' for t in missing[:3])}")
    kind = answer_types.expected(question)
    if refuse and kind in STRICT_KINDS and not any(answer_types.holds(s.text, kind, question) for s in sentences):
        return Extract([], [], 0.0, f"no passage found gives {_KIND_PHRASES[kind]}")
    scores = scorer.scores(question, question_vector)
    scores = scores + np.array([RANK_PRIOR / (passages[s.passage].rank or 1) for s in sentences])
    scores = scores - np.array([_question_echo(s.text, question) + _fragment(s.text) for s in sentences])
    order = [int(i) for i in np.argsort(-scores)]
    best = float(scores[order[0]])
    close = [i for i in order[:max_sentences] if scores[i] >= KEEP_RATIO * best]
    negation = answerability.lost_negation(question, [sentences[i].text for i in close]) if refuse else None
    if negation:
        return Extract([], [], best, f"the closest passages do not say what the question says is “{negation}” so")
    first = order[0]
    flipped = answerability.flipped_word(question, sentences[first].text) if refuse else None
    if flipped:
        return Extract([], [], best, f"the closest passage says “{flipped[1]}”, not “{flipped[0]}”")
    chosen = [first]
    asked = answerability.content(question)
    whole = kind is not None and answer_types.holds(sentences[first].text, kind, question) and \
        scorer.weight(asked, scorer.covered(asked, chosen)) >= COMPLETE
    for i in order:
        if whole or len(chosen) >= max_sentences or scores[i] < KEEP_RATIO * best:
            break
        if i in chosen or any(scorer.similarity(i, j) >= REDUNDANT for j in chosen):
            continue
        if kind is None or answer_types.holds(sentences[i].text, kind, question):
            chosen.append(i)
    return Extract([sentences[i] for i in chosen], [float(scores[i]) for i in chosen], best)


_KIND_PHRASES = {
    "count": "a number for it", "duration": "a length of time", "age": "an age", "year": "a year", "date": "a date",
    "person": "a name", "place": "a place", "": "an answer",
}


def _fragment(sentence: str) -> float:
    """A heading or a fragment (no closing punctuation) is rarely the answer: it names a topic, says nothing."""
    text = sentence.strip()
    if text.startswith("#"):
        return 0.3
    return 0.0 if text[-1:] in '.!?"”\')»:;' else 0.15


def _question_echo(sentence: str, question: str) -> float:
    """A sentence that is itself a question answers nothing."""
    return 0.2 if sentence.rstrip().endswith("?") and question else 0.0
