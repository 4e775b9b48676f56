"""The lexical side of hybrid search: a BM25 index (bm25s, English stopwords, Snowball stemming).

Local Chroma has no sparse index, so this one is ours. bm25s cannot update an index in place, so the index is
rebuilt from the chunk texts whenever the set of chunks changes (a few seconds for tens of thousands of
chunks) and saved beside the Chroma store, stamped with the `generation` of the chunk set it was built from.
A reader whose generation differs from the store's rebuilds it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

_STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stemmer=_STEMMER, return_ids=False, show_progress=False)  # type: ignore[return-value]


class LexicalIndex:
    """BM25 over chunk ids; empty until built."""

    def __init__(self, ids: list[str] | None = None, retriever: bm25s.BM25 | None = None, generation: str = "") -> None:
        self.ids = ids or []
        self._position = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        self._retriever = retriever
        self.generation = generation

    @classmethod
    def build(cls, ids: list[str], texts: list[str], generation: str) -> LexicalIndex:
        if not ids:
            return cls(generation=generation)
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stemmer=_STEMMER, show_progress=False), show_progress=False)
        return cls(list(ids), retriever, generation)

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """The best `k` chunk ids for `query` with their BM25 scores (only those scoring above zero)."""
        if self._retriever is None or k <= 0:
            return []
        tokens = tokenize([query])
        if not tokens or not tokens[0]:
            return []
        mask = None
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=np.float32)
            for chunk_id in allowed:
                if chunk_id in self._position:
                    mask[self._position[chunk_id]] = 1.0
        results, scores = self._retriever.retrieve(
            tokens, k=min(k, len(self.ids)), show_progress=False, weight_mask=mask, n_threads=0
        )
        return [(self.ids[int(i)], float(s)) for i, s in zip(results[0], scores[0]) if s > 0]

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._retriever is not None:
            self._retriever.save(str(tmp), show_progress=False)
        (tmp / "ids.json").write_text(json.dumps({"generation": self.generation, "ids": self.ids}))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none or it cannot be read."""
        try:
            meta = json.loads((folder / "ids.json").read_text())
            retriever = bm25s.BM25.load(str(folder), show_progress=False) if meta["ids"] else None
        except Exception:  # noqa: BLE001 - a damaged cache is rebuilt
            return None
        return cls(meta["ids"], retriever, meta["generation"])
