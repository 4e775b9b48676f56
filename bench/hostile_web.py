"""Hostile requests against a running `rag serve`: each must end in one clear refusal, within 30 s, without a crash.

    .venv/bin/python bench/hostile_web.py            # starts the app on a free 127.0.0.1 port, about 1 minute

Every probe (the chat's raw upload event naming server files, foreign Host headers, models off the allow-list,
/api/ingest outside the corpus, oversized questions, histories, bodies and id lists) is sent once; the script
prints one Markdown row per probe (status, seconds, the message) and the figures: crashes (a 5xx, a dropped
connection or a dead server), probes over 30 s, probes without a one-line message, the server's peak resident
memory (VmHWM), and requests that reached the scripted LLM. Results go to bench/results/hostile_web.json.
Not here: hostile files during ingestion, LLM faults (their own benchmarks).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
for name in [n for n in os.environ if n.startswith("RAG_")]:
    del os.environ[name]

from app_server import running_app  # noqa: E402
from fakellm import FakeLLM  # noqa: E402


def sse_last(url: str, name: str, data: list) -> tuple[int, str]:
    """A raw Gradio event: (200 if it completed, 400 if it ended in an error event, else the HTTP status), text."""
    started = httpx.post(f"{url}/gradio_api/call/{name}", json={"data": data}, timeout=30)
    if started.status_code != 200:
        return started.status_code, started.text
    event_id, event, text = started.json()["event_id"], "", ""
    with httpx.stream("GET", f"{url}/gradio_api/call/{name}/{event_id}", timeout=30) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                text = line.split(":", 1)[1].strip()
                break
    return (400 if event == "error" else 200), text


def probes(url: str, secret: Path, port: str) -> list[tuple[str, object]]:
    def post(path: str, body: object, **kw: object):  # type: ignore[no-untyped-def]
        return lambda: httpx.post(url + path, json=body, timeout=30, **kw)

    def upload_event(path: str):  # type: ignore[no-untyped-def]
        return lambda: sse_last(url, "on_upload", [[{"path": path, "meta": {"_type": "gradio.FileData"}}]])

    evil = {"Host": "evil.example"}
    return [
        ("upload event: file outside the cache", upload_event(str(secret))),
        ("upload event: /etc/hostname", upload_event("/etc/hostname")),
        ("upload event: the project's README", upload_event(str(ROOT / "README.md"))),
        ("Host evil.example: /", lambda: httpx.get(url, headers=evil, timeout=30)),
        ("Host evil.example: /api/documents", lambda: httpx.get(f"{url}/api/documents", headers=evil, timeout=30)),
        ("Host evil.example: /gradio_api/info", lambda: httpx.get(f"{url}/gradio_api/info", headers=evil, timeout=30)),
        ("Host evil.example:PORT: /config", lambda: httpx.get(f"{url}/config", headers={"Host": f"evil.example:{port}"},
                                                              timeout=30)),
        ("model off the allow-list (REST)", post("/api/ask", {"question": "Who is Belarus's foreign minister?",
                                                             "model": "openai/gpt-4o"})),
        ("model off the allow-list (chat event)", lambda: sse_last(url, "respond", ["Who?", "openai/gpt-4o", 5,
                                                                                    "hybrid"])),
        ("ingest /etc", post("/api/ingest", {"path": "/etc"})),
        ("ingest ../../", post("/api/ingest", {"path": "../../"})),
        ("ingest an absolute path outside", post("/api/ingest", {"path": str(secret)})),
        ("ingest ~", post("/api/ingest", {"path": "~"})),
        ("question of 10 MB", post("/api/ask", {"question": "why " * 2_500_000})),
        ("question of 5,000 characters", post("/api/ask", {"question": "why " * 1250})),
        ("history of 40,000 characters", post("/api/ask", {"question": "And its president?", "history": [
            {"role": "user", "content": "x" * 10_000}] * 4})),
        ("100,000 ids in /api/search", post("/api/search", {"query": "minister", "documents": [
            f"doc-{i:06d}" for i in range(100_000)]})),
        ("5,000 ids in /api/search", post("/api/search", {"query": "minister", "documents": [
            f"d{i}" for i in range(5000)]})),
        ("2.6 MB chunked body", lambda: httpx.post(f"{url}/api/ask", content=(b"x" * 65536 for _ in range(40)),
                                                   headers={"content-type": "application/json"}, timeout=30)),
        ("chat question of 5,000 characters", lambda: sse_last(url, "respond", ["why " * 1250,
                                                                                "(offline: extract sentences, no LLM)",
                                                                                5, "hybrid"])),
    ]


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, FakeLLM() as fake:
        secret = Path(tmp) / "outside" / "secret.md"
        secret.parent.mkdir()
        secret.write_text("# Secret\n\nThe vault code is 4417.")
        env = {"RAG_API_BASE": fake.base_url, "RAG_API_KEY": "sk-bench-secret", "RAG_ALLOWED_MODELS": "openai/ok"}
        with running_app(Path(tmp) / "index", env) as url:
            before = httpx.get(f"{url}/api/documents").json()
            for name, probe in probes(url, secret, url.rsplit(":", 1)[1]):
                started = time.perf_counter()
                try:
                    result = probe()
                    status, text = result if isinstance(result, tuple) else (result.status_code, result.text)
                except httpx.HTTPError as exc:
                    status, text = 0, f"{type(exc).__name__}: {exc}"
                seconds = time.perf_counter() - started
                try:
                    message = json.loads(text).get("error", text) if text.startswith("{") else text
                except json.JSONDecodeError:
                    message = text
                rows.append({"probe": name, "status": status, "seconds": round(seconds, 3),
                             "message": " ".join(str(message).split())[:160],
                             "one_line": "\n" not in str(message) and 0 < len(str(message)) < 400})
            alive = httpx.get(f"{url}/api/documents").json() == before
            hwm = _peak_rss_mb(url)
        llm_requests = len(fake.requests)
    crashes = sum(r["status"] == 0 or r["status"] >= 500 for r in rows) + (not alive)
    summary = {"probes": len(rows), "crashes": crashes, "over_30_s": sum(r["seconds"] > 30 for r in rows),
               "without_one_line_message": sum(not r["one_line"] for r in rows), "refused": sum(
                   r["status"] in (400, 403, 413) for r in rows), "max_seconds": max(r["seconds"] for r in rows),
               "server_peak_rss_mb": hwm, "llm_requests": llm_requests, "documents_unchanged": alive}
    print("| probe | status | seconds | message |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['probe']} | {r['status']} | {r['seconds']:.2f} | {r['message']} |")
    print("\n" + json.dumps(summary, indent=2))
    out = ROOT / "bench" / "results" / "hostile_web.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))
    return 0


def _peak_rss_mb(url: str) -> float | None:
    """The app's peak resident memory, from /proc (the app process listens on the url's port)."""
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if b"serve" in cmdline and port.encode() in cmdline:
                for line in (proc / "status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            continue
    return None


if __name__ == "__main__":
    sys.exit(main())
