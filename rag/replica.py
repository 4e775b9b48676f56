"""Catching up with the shared index: how a process's local lexical index and catalog mirror follow Chroma.

Every catalog record carries the time its writer stamped it. `sync()` reads the records other folders stamped
after this folder's watermark (minus a margin for clocks and slow writes), compares each with the mirror, and for the
documents that changed fetches only their chunks from Chroma and applies them locally (removed documents are
dropped). A document whose chunks are not all there yet (its writer is mid-batch) is left for the next sync, and the
watermark waits for it unless its record is older than STALE_SECONDS (a writer killed mid-batch: its own next
run repairs the document).
The first sync of an empty folder reads the whole catalog: that is the one full pass a new replica makes.

Syncs run at most every SYNC_SECONDS, from searches and listings; a sync never writes to Chroma, and a search
never waits for one (it serves the last local commit). Not here: the write protocol and recovery (rag.store).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from rag.dense import Dense
from rag.errors import IndexError_
from rag.local import Local, matches
from rag.records import ChunkRecord, DocRecord

SYNC_SECONDS = 2.0
MARGIN_SECONDS = 60.0  # records stamped this long before the last sync are read again (clock skew, slow writers)
BATCH_CHUNKS = 5000  # chunks fetched and applied per local commit
STALE_SECONDS = 600.0  # a document still incomplete this long after its stamp is not waited for (its writer died)


class Replica:
    """The catch-up side of one store: its Chroma collections, its local side, and the store's write lock."""

    def __init__(self, dense: Dense, local: Local, lock: threading.RLock) -> None:
        self.dense, self.local, self.lock = dense, local, lock
        self.applied = 0  # documents this process took from others' changes (changed or removed)
        self._synced_at = 0.0

    def sync(self, force: bool = False) -> None:
        """Apply the changes other processes made since the last sync."""
        if not force and time.monotonic() - self._synced_at < SYNC_SECONDS:
            return
        if not self.lock.acquire(blocking=force):
            return  # a write or another sync is running: serve the last local commit
        try:
            self._synced_at = time.monotonic()
            self._follow_collection()
            catalog = self.local.catalog
            started = time.time()
            watermark = float(catalog.state("watermark", "0"))
            complete = True
            since = watermark - MARGIN_SECONDS if watermark > 0 else 0
            for page in self.dense.catalog_since(since, not_by=self.local.writer):
                complete = self._apply(page) and complete
            if complete:
                catalog.set_state(watermark=started)
        finally:
            self.lock.release()

    def rebuild_local(self) -> None:
        """Derive the local side again from Chroma (a new folder, or one whose lexical index was lost)."""
        with self.lock:
            self.local.reset(self.dense.identity())
            self.sync(force=True)

    def _follow_collection(self) -> None:
        """When the collection under our name was deleted or made again, reopen it and start over."""
        current = self.dense.current_identity()
        if current == self.dense.identity():
            return
        if current is None:
            raise IndexError_(f"the collection {self.dense.settings.collection!r} is gone from {self.dense.where}: "
                              "ingest the corpus again to recreate it")
        self.dense.open()  # raises ModelMismatchError when it was rebuilt with another model
        self.local.reset(self.dense.identity())

    def _apply(self, page: list[DocRecord]) -> bool:
        """Apply one page of catalog records; False when a document had to be left for later."""
        catalog = self.local.catalog
        local = catalog.get(r.id for r in page)
        changed = [r for r in page if not r.deleted and (r.id not in local or local[r.id].version != r.version)]
        gone = [r.id for r in page if r.deleted and r.id in local]
        moved = [r for r in page if not r.deleted and r.id in local and local[r.id].version == r.version
                 and (local[r.id].size, local[r.id].mtime_ns) != (r.size, r.mtime_ns)]
        if moved:
            catalog.apply(moved, [])
        complete = True
        batches: list[list[DocRecord]] = [[]]
        for record in changed:
            if sum(r.total for r in batches[-1]) + record.total > BATCH_CHUNKS and batches[-1]:
                batches.append([])
            batches[-1].append(record)
        for i, batch in enumerate(batches):
            by_doc: dict[str, list[ChunkRecord]] = {}
            for chunk in self.dense.chunks_of([r.id for r in batch]) if batch else []:
                by_doc.setdefault(chunk.document, []).append(chunk)
            ready = [r for r in batch if matches(r, by_doc.get(r.id, []))]
            ready_ids = {r.id for r in ready}
            waiting = [r for r in batch if r.id not in ready_ids and r.stamp > time.time() - STALE_SECONDS]
            complete = complete and not waiting
            removed = gone if i == 0 else []
            ids = [r.id for r in ready] + removed
            if not ids:
                continue
            self.local.lexical.claim()
            catalog.begin(ids, "sync")
            chunks = [c for r in ready for c in by_doc[r.id]]
            self.local.commit(ids, chunks, [replace(r, deleted=False) for r in ready], removed)
            self.applied += len(ids)
        return complete
