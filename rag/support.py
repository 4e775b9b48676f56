"""Scoring how well sentences of the retrieved passages support a text (a question or a claim).

The score of a sentence is a blend of meaning and words: cosine similarity of its embedding to the text's, and
the share of the text's content words (stemmed, stopwords removed, weighted by rarity among the candidate
sentences) that the sentence contains. Both the offline extractive answerer and the citation checker use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rag.chunking import sentence_spans
from rag.embeddings import Embedder
from rag.lexical import tokenize
from rag.types import Passage

DENSE_WEIGHT = 0.6
LEXICAL_WEIGHT = 0.4


@dataclass(frozen=True)
class Sentence:
    passage: int  # index into the passages list
    start: int  # offsets into the document
    end: int
    text: str


def passage_sentences(passages: list[Passage]) -> list[Sentence]:
    """Every sentence of the passages once (neighbouring chunks overlap), in passage order."""
    seen: set[tuple[str, int, int]] = set()
    out: list[Sentence] = []
    for i, p in enumerate(passages):
        for a, b in sentence_spans(p.text):
            key = (p.document, p.start + a, p.start + b)
            if key not in seen:
                seen.add(key)
                out.append(Sentence(i, p.start + a, p.start + b, p.text[a:b]))
    return out


class VectorCache:
    """Sentence text -> embedding, bounded; keyed by the text itself, so it is never stale."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, embedder: Embedder, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            if len(self._vectors) + len(missing) > self.limit:
                self._vectors = {}
            for text, vector in zip(missing, embedder.embed(missing)):
                self._vectors[text] = vector
        return np.stack([self._vectors[t] for t in texts])


class SupportScorer:
    """Scores sentences against texts; sentence embeddings are computed once (and kept in `cache` if given)."""

    def __init__(self, embedder: Embedder, sentences: list[Sentence], cache: VectorCache | None = None) -> None:
        self.embedder = embedder
        self.sentences = sentences
        texts = [s.text for s in sentences]
        if not sentences:
            self._vectors = np.zeros((0, 1))
        else:
            self._vectors = cache.embed(embedder, texts) if cache is not None else embedder.embed(texts)
        self._tokens = [set(t) for t in tokenize([s.text for s in sentences])] if sentences else []
        n = len(sentences)
        df: dict[str, int] = {}
        for tokens in self._tokens:
            for t in tokens:
                df[t] = df.get(t, 0) + 1
        self._idf = {t: math.log(1 + (n + 1) / (c + 0.5)) for t, c in df.items()}
        self._unseen_idf = math.log(1 + (n + 1) / 0.5)

    def scores(self, text: str, vector: np.ndarray | None = None, only: list[int] | None = None) -> np.ndarray:
        """Support of each sentence (or of the sentences at `only`) for `text`, roughly in [0, 1]."""
        idx = list(range(len(self.sentences))) if only is None else only
        if not idx:
            return np.zeros(0)
        vec = self.embedder.embed([text])[0] if vector is None else vector
        dense = self._vectors[idx] @ vec
        words = set(tokenize([text])[0])
        total = sum(self._idf.get(w, self._unseen_idf) for w in words)
        lexical = np.array([
            sum(self._idf.get(w, self._unseen_idf) for w in words & self._tokens[i]) / total if total else 0.0
            for i in idx
        ])
        return DENSE_WEIGHT * dense + LEXICAL_WEIGHT * lexical

    def similarity(self, i: int, j: int) -> float:
        return float(self._vectors[i] @ self._vectors[j])

    def covered(self, text: str, indexes: list[int]) -> set[str]:
        """The content words of `text` (stemmed, stopwords removed) that the sentences at `indexes` contain."""
        words = set(tokenize([text])[0])
        return {w for w in words if any(w in self._tokens[i] for i in indexes)}

    def weight(self, text: str, words: set[str]) -> float:
        """The share of `text`'s content words, weighted by rarity, that `words` make up (0 to 1)."""
        all_words = set(tokenize([text])[0])
        total = sum(self._idf.get(w, self._unseen_idf) for w in all_words)
        return sum(self._idf.get(w, self._unseen_idf) for w in words & all_words) / total if total else 0.0
