"""Start the real app (`rag serve`) as a subprocess on a free 127.0.0.1 port, and stop it after."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(index_dir: Path, env: dict[str, str] | None = None, timeout: float = 120,
                corpus: Path | None = None) -> Iterator[str]:
    port = free_port()
    log = index_dir.parent / f"app-{port}.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    environment.update({"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})})
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--index", str(index_dir), "--port", str(port),
             "--corpus", str(corpus or ROOT / "seeds")],
            cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    key = (env or {}).get("RAG_SERVER_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the app exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/api/documents", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start in {timeout}s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
