"""An ingestion's progress, by chunks, with a rate and an ETA (from the share of bytes read).

    tracker = Tracker(files_total, bytes_total, report)   # report(IngestProgress), at most once per `interval`
    tracker.read(); tracker.embedded(nchunks, nbytes); tracker.credit(nbytes); tracker.finish()

The bytes of a document count as done once its chunks are embedded (or once it is found unchanged or unreadable),
so the ETA follows the slow part, embedding, and does not run ahead while a group of documents is being read.

Two renderers for `report`: `TerminalBar()` (a tqdm bar on stderr: percent of bytes, chunks, chunks/s, ETA) and
`JsonLines(stream)` (one JSON object per event, `{"event": "progress", ...}`, for `rag ingest --json --progress`).
Not here: what is being ingested (rag.ingest).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import IO

from rag.types import IngestProgress

Report = Callable[[IngestProgress], None]
BAR_MIN_FILES = 5  # the terminal bar appears for more files than this, or for BAR_MIN_BYTES
BAR_MIN_BYTES = 1_000_000


class Tracker:
    """Counts what an ingestion has read and embedded, and reports it now and then."""

    def __init__(self, files_total: int, bytes_total: int, report: Report | None, interval: float = 1.0) -> None:
        self.files_total, self.bytes_total = files_total, bytes_total
        self.files = self.bytes = self.chunks = 0
        self._report, self._interval = report, interval
        self._started = time.perf_counter()
        self._last = 0.0

    def read(self, files: int = 1) -> None:
        """`files` more files (or corpus.jsonl lines) opened."""
        self.files += files
        self._emit()

    def credit(self, nbytes: int) -> None:
        """`nbytes` more of the input dealt with."""
        self.bytes += nbytes
        self._emit()

    def embedded(self, chunks: int, nbytes: int) -> None:
        """`chunks` more chunks embedded, `nbytes` of the input with them."""
        self.chunks += chunks
        self.credit(nbytes)

    def finish(self) -> None:
        self._emit(done=True)

    def snapshot(self, done: bool = False) -> IngestProgress:
        return IngestProgress(self.chunks, self.files, self.files_total, self.bytes, self.bytes_total,
                              time.perf_counter() - self._started, done)

    def _emit(self, done: bool = False) -> None:
        now = time.perf_counter()
        if self._report is None or (not done and now - self._last < self._interval):
            return
        self._last = now
        self._report(self.snapshot(done))


class TerminalBar:
    """A tqdm bar on stderr, drawn once an ingestion is big enough to need one."""

    def __init__(self) -> None:
        self._bar = None  # type: ignore[var-annotated]

    def __call__(self, p: IngestProgress) -> None:
        if self._bar is None:
            if p.done or (p.files_total <= BAR_MIN_FILES and p.bytes_total < BAR_MIN_BYTES):
                return
            from tqdm import tqdm

            self._bar = tqdm(total=max(p.bytes_total, 1), file=sys.stderr, unit="B", unit_scale=True,
                             desc="Ingesting", bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}"
                             "{postfix}")  # tqdm puts ", " before the postfix
        self._bar.set_postfix_str(f"{p.chunks:,} chunks, {p.chunks_per_s:,.1f} chunks/s, "
                                  f"{p.files:,}/{p.files_total:,} files", refresh=False)
        self._bar.update(min(p.bytes, self._bar.total) - self._bar.n)
        if p.done:
            self._bar.close()


class JsonLines:
    """One JSON line per progress event, flushed at once."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, p: IngestProgress) -> None:
        self.stream.write(json.dumps(p.to_json()) + "\n")
        self.stream.flush()
