"""The local side of an index folder: the lexical index and the catalog mirror, changed together.

`Local.commit()` is the last two steps of every change (rag.store's write protocol, rag.replica's catch-up):
the lexical index first (committed with the next generation number), then the mirror rows, the generation and
the journal's clearing in one SQLite transaction. Until that transaction, the journal names the documents whose
local state may be ahead of the mirror. `matches()` says whether stored chunks are exactly a catalog record's
version. Not here: Chroma (rag.dense), deciding what to change (rag.store, rag.replica).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from rag.catalog import Catalog
from rag.lexical import LexicalIndex, LockBusyError
from rag.records import ChunkRecord, DocRecord


def matches(record: DocRecord, stored: list[ChunkRecord]) -> bool:
    """The stored chunks are exactly the version of the document that the catalog record names."""
    return len(stored) == record.total and len({c.id for c in stored}) == record.total and all(
        (c.sha256, c.fingerprint) == (record.sha256, record.fingerprint) for c in stored
    )


class Local:
    """The lexical index (`lexical/`) and the catalog mirror (`catalog.sqlite`) of one index folder."""

    def __init__(self, folder: Path) -> None:
        self.catalog = Catalog(folder / "catalog.sqlite")
        try:
            self.lexical = LexicalIndex(folder / "lexical")
        except (ValueError, OSError):  # unreadable: it is derived data, made again from Chroma (see in_step)
            shutil.rmtree(folder / "lexical", ignore_errors=True)
            self.lexical = LexicalIndex(folder / "lexical")
            self.catalog.set_state(generation=-1)
        shutil.rmtree(folder / "bm25", ignore_errors=True)  # the BM25 cache of indexes built before tantivy
        if not self.catalog.state("writer"):
            self.catalog.set_state(writer=uuid.uuid4().hex)
        self._writer = self.catalog.state("writer")

    def commit(self, ids: list[str], chunks: list[ChunkRecord], live: list[DocRecord], gone: list[str],
               **state: object) -> None:
        """Replace the documents `ids` by `chunks` in the lexical index, then record `live` and drop `gone` in the
        mirror (clearing their journal entries) with any `state`, in one transaction."""
        generation = self.catalog.generation + 1
        try:
            self.lexical.delete_documents(ids)
            self.lexical.add((c.id, c.document, c.lexical_text) for c in chunks)
            self.lexical.commit(generation)
        except LockBusyError:
            self.lexical.rollback()
            raise
        self.catalog.apply(live, gone, generation, **state)

    @property
    def writer(self) -> str:
        """This folder's name on the catalog records it writes (new at every reset, so that a folder starting over
        takes its own earlier records too)."""
        return self._writer

    def reset(self, collection: str) -> None:
        """Forget everything: the folder now follows `collection`, from nothing."""
        self.lexical.delete_all()
        self.lexical.commit(0)
        self._writer = uuid.uuid4().hex
        self.catalog.reset(collection=collection, generation=0, watermark=0, writer=self._writer)

    def in_step(self) -> bool:
        """The lexical index holds the generation the mirror recorded (else it was lost or replaced)."""
        return self.lexical.generation() == self.catalog.generation

    def close(self) -> None:
        self.lexical.close()
        self.catalog.close()
