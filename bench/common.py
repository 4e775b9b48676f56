"""Helpers shared by the benchmarks in bench/: environment, data location, a recording embedder, formatting.

Import this module before `rag` (it sets the offline environment variables the model and Chroma read).
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def clear_rag_environment() -> list[str]:
    """Drop RAG_* settings (except RAG_BENCH_*) so the user's own configuration does not leak into a benchmark."""
    dropped = [n for n in os.environ if n.startswith("RAG_") and not n.startswith("RAG_BENCH_")]
    for name in dropped:
        del os.environ[name]
    return dropped


def data_dir() -> Path:
    """The shared data folder: $RAG_BENCH_DATA, else ../shared/data beside the repository."""
    override = os.environ.get("RAG_BENCH_DATA")
    return Path(override).expanduser().resolve() if override else DEFAULT_DATA


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class RecordingEmbedder:
    """Wraps a real embedder: records the texts passed to embed() and the time spent in embed()/token_offsets()."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.name = inner.name
        self.max_tokens = inner.max_tokens
        self.recording = True
        self.reset()

    def reset(self) -> None:
        self.texts: list[str] = []
        self.call_sizes: list[int] = []
        self.embed_seconds = 0.0
        self.tokenize_seconds = 0.0
        self.tokenize_calls = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        if not self.recording:
            return self.inner.embed(texts)
        started = time.perf_counter()
        vectors = self.inner.embed(texts)
        self.embed_seconds += time.perf_counter() - started
        self.texts.extend(texts)
        self.call_sizes.append(len(texts))
        return vectors

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        if not self.recording:
            return self.inner.token_offsets(texts)
        started = time.perf_counter()
        spans = self.inner.token_offsets(texts)
        self.tokenize_seconds += time.perf_counter() - started
        self.tokenize_calls += 1
        return spans


class Timed:
    """Wrap a bound method on an instance to add up its wall time: Timed.install(obj, "add")."""

    def __init__(self, fn) -> None:  # type: ignore[no-untyped-def]
        self.fn = fn
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1

    @classmethod
    def install(cls, obj: object, name: str) -> Timed:
        timed = cls(getattr(obj, name))
        setattr(obj, name, timed)
        return timed


def _busy_seconds() -> float | None:
    """CPU seconds all processes have spent busy since boot (Linux /proc/stat), or None elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Wall time, this process's CPU time, and the CPU time other processes used meanwhile (contention)."""

    def __enter__(self) -> Clock:
        self._wall, self._cpu, self._busy = time.perf_counter(), time.process_time(), _busy_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu
        busy = _busy_seconds()
        self.others = None if busy is None or self._busy is None else max(busy - self._busy - self.cpu, 0.0)

    def to_json(self) -> dict:
        others_share = None
        if self.others is not None and self.wall > 0:  # share of the machine's CPUs other processes used
            others_share = round(self.others / (self.wall * (os.cpu_count() or 1)), 3)
        return {"wall": round(self.wall, 3), "cpu": round(self.cpu, 3), "others_cpu_share": others_share}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def machine() -> dict:
    import torch

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    for name in ("sentence_transformers", "chromadb", "bm25s"):
        try:
            info[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001
            info[name] = None
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def table(rows: list[list[object]], header: list[str]) -> str:
    """A GitHub-flavoured Markdown table (also readable on a terminal)."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
