"""Parsing untrusted files in worker processes, each parse under a time and a memory limit.

    parse_isolated(ext, data, limits) -> Parsed    DocumentError(one line) when the file cannot be read, or its
                                                    parse runs out of time or memory, or the parser crashes
    ParseLimits(timeout, memory_mb, workers)       RAG_PARSE_TIMEOUT, RAG_PARSE_MEMORY_MB; `workers` parse at once

A PDF, a DOCX or an HTML page is parsed by C and pure-Python libraries (lxml, pdfminer.six, python-docx) that a
crafted file can keep busy for hours or drive to gigabytes. So parsing happens in a worker process
(rag.parse_worker) with an address-space limit (RLIMIT_AS = `memory_mb`) and a deadline: the parse is stopped
when it makes no progress for `timeout` seconds (a PDF reports each page; other formats are one step) or runs
longer than WHOLE_FILE_FACTOR x `timeout` in all; the kernel also stops a worker that burns that much CPU
time. A stopped, crashed or spent worker is replaced; the file is reported, and the next file is parsed as if
nothing happened. Workers are started on first use (about 0.5 s each), reused across files, and stopped after
IDLE_SECONDS without work or at exit.

Not here: which files to read and how (rag.documents), the formats themselves (rag.parsers).
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError
from rag.parsers import Parsed

WHOLE_FILE_FACTOR = 20
IDLE_SECONDS = 60.0
PACKAGE_DIR = Path(__file__).resolve().parent
BOOT = ("import sys, types; package = types.ModuleType('rag'); package.__path__ = [sys.argv[1]]; "
        "sys.modules['rag'] = package; from rag.parse_worker import main; main(int(sys.argv[2]))")


@dataclass(frozen=True)
class ParseLimits:
    timeout: float = 20.0  # seconds without progress (a PDF page, or a whole file of another format)
    memory_mb: int = 1024  # address space of a worker process; 0: no limit
    workers: int = 1  # files parsed at once (2 gave no speed-up on a shared 2-core machine, and doubles the memory)


class _Stopped(Exception):
    """The worker did not answer: `reason` is the user's one line."""


class _Worker:
    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.idle_since = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-c", BOOT, str(PACKAGE_DIR), str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self._buffer = bytearray()
        self.timeout = 0.0

    def parse(self, ext: str, data: bytes, timeout: float) -> dict:
        whole = timeout * WHOLE_FILE_FACTOR
        request = {"ext": ext, "size": len(data), "cpu_seconds": whole}
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _Stopped(self._death()) from exc
        self.timeout = timeout
        started = step = time.monotonic()
        while True:
            message = self._message(min(step + timeout, started + whole))
            if "progress" not in message:
                return message
            step = time.monotonic()

    def _message(self, deadline: float) -> dict:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while (newline := self._buffer.find(b"\n")) < 0:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise _Stopped(f"the parse took too long (no progress in {self.timeout:g} s: RAG_PARSE_TIMEOUT)")
            ready, _, _ = select.select([fd], [], [], wait)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise _Stopped(self._death())
                self._buffer += chunk
        line = bytes(self._buffer[:newline])
        del self._buffer[: newline + 1]
        return json.loads(line.decode("utf-8", "surrogatepass"))

    def _death(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "the parser stopped answering"
        if code == -signal.SIGXCPU:
            return "the parse took too long (CPU time limit)"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals.__members__.values() else str(-code)
            return f"the parser crashed ({name}; out of memory? the limit is RAG_PARSE_MEMORY_MB)"
        return f"the parser stopped (exit code {code})"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class _Pool:
    """Idle workers, reused; at most `workers` parses at once (callers beyond that wait)."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._busy = 0
        self._free = threading.Condition(self._lock)
        self._reaper: threading.Timer | None = None

    def parse(self, ext: str, data: bytes, limits: ParseLimits) -> Parsed:
        worker = self._take(limits)
        try:
            reply = worker.parse(ext, data, limits.timeout)
        except _Stopped as exc:
            worker.stop()
            self._release(None)
            raise DocumentError(str(exc)) from None
        except BaseException:  # interrupted (Ctrl-C): the worker may be mid-file
            worker.stop()
            self._release(None)
            raise
        fatal = "error" in reply and reply.get("fatal")
        if fatal:
            worker.stop()
        self._release(None if fatal else worker)
        if "error" in reply:
            raise DocumentError(str(reply["error"]))
        ok = reply["ok"]
        return Parsed(ok["title"], ok["text"], [tuple(p) for p in ok["pages"]], list(ok["left_out"]))

    def _take(self, limits: ParseLimits) -> _Worker:
        with self._free:
            while self._busy >= max(1, limits.workers):
                self._free.wait()
            self._busy += 1
            while self._idle:
                worker = self._idle.pop()
                if worker.memory_mb == limits.memory_mb and worker.process.poll() is None:
                    return worker
                worker.stop()
        try:
            return _Worker(limits.memory_mb)
        except BaseException:
            self._release(None)
            raise

    def _release(self, worker: _Worker | None) -> None:
        with self._free:
            self._busy -= 1
            if worker is not None:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
                self._schedule_reaper()
            self._free.notify()

    def _schedule_reaper(self) -> None:
        if self._reaper is None:
            self._reaper = threading.Timer(IDLE_SECONDS, self._reap)
            self._reaper.daemon = True
            self._reaper.start()

    def _reap(self) -> None:
        with self._lock:
            self._reaper = None
            now = time.monotonic()
            stale = [w for w in self._idle if now - w.idle_since >= IDLE_SECONDS - 0.5]
            self._idle = [w for w in self._idle if w not in stale]
            if self._idle:
                self._schedule_reaper()
        for worker in stale:
            worker.stop()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


_POOL = _Pool()
atexit.register(_POOL.close)


def parse_isolated(ext: str, data: bytes, limits: ParseLimits) -> Parsed:
    """Parse `data` in a worker process under `limits`; DocumentError with one line when that fails."""
    return _POOL.parse(ext, data, limits)


def stop_workers() -> None:
    """Stop the idle workers now (they also stop by themselves after IDLE_SECONDS)."""
    _POOL.close()
