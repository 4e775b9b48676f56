"""A real Chroma server for tests: `chroma run` on a free 127.0.0.1 port, stopped on exit.

    with running_chroma(tmp_path / "chroma") as url:   # "http://127.0.0.1:PORT"
        index = rag.open_index(tmp_path / "idx", chroma_url=url)

Not a conftest: import it where a test needs a server.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

STARTUP_TIMEOUT = 30.0


def chroma_executable() -> str:
    """The `chroma` CLI installed beside the running interpreter."""
    candidate = Path(sys.executable).parent / "chroma"
    if not candidate.exists():
        raise FileNotFoundError(f"no chroma CLI beside {sys.executable}")
    return str(candidate)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1.0) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def running_chroma(data_dir: Path, timeout: float = STARTUP_TIMEOUT) -> Iterator[str]:
    """Start `chroma run --host 127.0.0.1 --port <free> --path data_dir`, yield its URL, always stop it."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir.parent / f"chroma-{port}.log"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [chroma_executable(), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data_dir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
        try:
            deadline = time.monotonic() + timeout
            while not _heartbeat(url):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"chroma run exited with {process.returncode}: {log_path.read_text(errors='replace')[-2000:]}"
                    )
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"chroma server on {url} not up after {timeout:.0f} s: "
                        f"{log_path.read_text(errors='replace')[-2000:]}"
                    )
                time.sleep(0.2)
            yield url
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
