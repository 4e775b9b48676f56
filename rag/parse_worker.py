"""The worker process of rag.isolation: parses one file at a time under an address-space limit.

Started by rag.isolation as ``python -c BOOT PACKAGE_DIR MEMORY_MB``, which loads this module and rag.parsers
without the package's __init__ (so not numpy, pydantic or the sentence splitter: ~0.5 s and ~45 MB). It sets
RLIMIT_AS to MEMORY_MB (0: none) and, before each file, RLIMIT_CPU to the CPU seconds used so far plus the
file's budget, so a runaway parse is stopped by the kernel even if the parent is gone. It exits at the end of
its input.

Protocol, over stdin/stdout: a request is one JSON line ``{"ext", "size", "cpu_seconds"}`` then `size` raw
bytes; the reply is JSON lines: ``{"progress": n}`` any number of times (a PDF page read), then
``{"ok": {"title", "text", "pages", "left_out"}}`` or ``{"error": "reason", "fatal": bool}`` (fatal: the
worker is spent, e.g. after running out of memory, and exits).

Not here: deciding the limits, timing out, restarting workers (rag.isolation); the parsing itself (rag.parsers).
"""

from __future__ import annotations

import json
import logging
import resource
import sys
from dataclasses import asdict
from typing import BinaryIO


def _send(out: BinaryIO, message: dict) -> None:
    out.write(json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n")
    out.flush()


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks, left = [], size
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _limit_cpu(seconds: float) -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    budget = int(used.ru_utime + used.ru_stime + seconds) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard == resource.RLIM_INFINITY or budget <= hard:
        resource.setrlimit(resource.RLIMIT_CPU, (budget, hard))


def main(memory_mb: int) -> None:
    logging.disable(logging.WARNING)  # pdfminer warns through logging on every odd object
    from rag import parsers  # before the limit: importing is not parsing

    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    stdin, out = sys.stdin.buffer, sys.stdout.buffer
    while header := stdin.readline():
        request = json.loads(header)
        try:
            data = _read_exactly(stdin, int(request["size"]))
        except EOFError:
            return
        if request.get("cpu_seconds"):
            _limit_cpu(float(request["cpu_seconds"]))
        try:
            parsed = parsers.parse(str(request["ext"]), data, lambda n: _send(out, {"progress": n}))
            reply: dict = {"ok": asdict(parsed)}
        except ValueError as exc:
            reply = {"error": str(exc) or "unreadable file", "fatal": False}
        except MemoryError:
            reply = {"error": f"the parse needed more than the {memory_mb} MB memory limit (RAG_PARSE_MEMORY_MB)",
                     "fatal": True}
        except RecursionError:
            reply = {"error": "the file is nested too deeply to parse", "fatal": False}
        except Exception as exc:  # noqa: BLE001 - a library's own failure on odd input is this file's problem
            reason = (str(exc).strip().splitlines() or [""])[0][:80] or type(exc).__name__
            reply = {"error": f"unreadable file ({reason})", "fatal": False}
        del data
        try:
            _send(out, reply)
        except MemoryError:
            _send(out, {"error": f"the text needed more than the {memory_mb} MB memory limit (RAG_PARSE_MEMORY_MB)",
                        "fatal": True})
        if reply.get("fatal"):
            return
