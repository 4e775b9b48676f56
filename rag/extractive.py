"""The offline answerer: with no LLM configured, answer with the one to three sentences of the retrieved
passages that best answer the question, each cited to the passage it comes from.

Sentences are scored by `rag.support` (embedding similarity blended with weighted word overlap), plus a small
prior for the passage's retrieval rank. The best sentence is always taken; up to two more join it when they
score nearly as well and say something new (not a near-duplicate of a chosen sentence).

Not handled: it cannot compose, compute or summarise; it quotes. Yes/no questions get the evidence, not a "yes".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.support import Sentence, SupportScorer
from rag.types import Passage

RANK_PRIOR = 0.04  # bonus for the first-ranked passage, decaying as 1/rank
KEEP_RATIO = 0.85  # a further sentence must score at least this share of the best one
REDUNDANT = 0.85  # cosine above which a further sentence repeats a chosen one


@dataclass(frozen=True)
class Extract:
    sentences: list[Sentence]  # chosen, best first
    scores: list[float]
    best_score: float


def extract(
    question: str, question_vector: np.ndarray, passages: list[Passage], scorer: SupportScorer, max_sentences: int = 3
) -> Extract:
    sentences = scorer.sentences
    if not sentences:
        return Extract([], [], 0.0)
    scores = scorer.scores(question, question_vector)
    scores = scores + np.array([RANK_PRIOR / (passages[s.passage].rank or 1) for s in sentences])
    scores = scores - np.array([_question_echo(s.text, question) + _fragment(s.text) for s in sentences])
    order = [int(i) for i in np.argsort(-scores)]
    chosen = [order[0]]
    for i in order[1:]:
        if len(chosen) >= max_sentences or scores[i] < KEEP_RATIO * scores[order[0]]:
            break
        if all(scorer.similarity(i, j) < REDUNDANT for j in chosen):
            chosen.append(i)
    return Extract([sentences[i] for i in chosen], [float(scores[i]) for i in chosen], float(scores[order[0]]))


def _fragment(sentence: str) -> float:
    """A heading or a fragment (no closing punctuation) is rarely the answer: it names a topic, says nothing."""
    text = sentence.strip()
    if text.startswith("#"):
        return 0.3
    return 0.0 if text[-1:] in '.!?"”\')»:;' else 0.15


def _question_echo(sentence: str, question: str) -> float:
    """A sentence that is itself a question answers nothing."""
    return 0.2 if sentence.rstrip().endswith("?") and question else 0.0
