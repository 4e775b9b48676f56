"""20 concurrent clients on POST /api/ask for 60 s while an ingestion runs: errors and latency (issue 11).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/concurrency.py [--clients 20] [--seconds 60]

Starts the real server (`rag serve`) on 127.0.0.1 over the SQuAD v2 corpus (173 paragraphs, written as Markdown files
into a temporary corpus folder), then, for the duration: `--clients` threads ask the set's questions in a loop, and a
writer thread keeps changing 20 of the corpus files and calling POST /api/ingest, so every question meets a running
ingestion. Reports every status code, p50/p95/max latency, the ingestions completed, and the server's peak memory.
Writes bench/results/concurrency/concurrency.{json,md}. Skips when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import common  # noqa: F401  (the offline environment, before anything imports rag)
import httpx

sys.path.insert(0, str(common.ROOT / "tests"))
from app_server import running_app  # noqa: E402


def write_corpus(folder: Path, data: Path) -> list[Path]:
    paths = []
    for line in (data / "corpus.jsonl").read_text().splitlines():
        row = json.loads(line)
        path = folder / (row["_id"].replace("/", "_").replace("#", "-") + ".md")
        path.write_text(f"# {row['title']}\n\n{row['text']}\n")
        paths.append(path)
    return paths


def server_pid(port: int) -> int | None:
    """The pid listening on the port (from `ss`), for its peak memory."""
    import re
    import subprocess

    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    found = re.search(r"pid=(\d+)", out)
    return int(found.group(1)) if found else None


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    data = common.data_dir() / "squad-v2.0-dev-5art"
    if not data.exists():
        print(f"skipped: {data} is absent")
        return
    questions = [json.loads(line)["question"] for line in (data / "questions.jsonl").read_text().splitlines()]
    tmp = Path(tempfile.mkdtemp(prefix="rag-concurrency-"))
    corpus = tmp / "corpus"
    corpus.mkdir()
    files = write_corpus(corpus, data)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    ingests: list[dict] = []
    lock = threading.Lock()
    with running_app(tmp / "index", corpus=corpus, timeout=600) as url:
        pid = server_pid(int(url.rsplit(":", 1)[1]))
        stop = time.monotonic() + args.seconds

        def client(n: int) -> None:
            with httpx.Client(timeout=120) as http:
                i = n
                while time.monotonic() < stop:
                    started = time.perf_counter()
                    try:
                        r = http.post(f"{url}/api/ask", json={"question": questions[i % len(questions)]})
                        key = str(r.status_code)
                    except httpx.HTTPError as exc:
                        key = type(exc).__name__
                    with lock:
                        statuses[key] += 1
                        latencies.append((time.perf_counter() - started) * 1000)
                    i += args.clients

        def writer() -> None:
            round_ = 0
            with httpx.Client(timeout=600) as http:
                while time.monotonic() < stop:
                    round_ += 1
                    for path in files[(round_ * 20) % len(files):][:20]:
                        with path.open("a") as f:
                            f.write(f"\nRevision {round_} of this page.\n")
                    started = time.perf_counter()
                    r = http.post(f"{url}/api/ingest", json={"path": str(corpus)})
                    body = r.json() if r.status_code == 200 else {"error": r.text[:200]}
                    ingests.append({"status": r.status_code, "seconds": round(time.perf_counter() - started, 2),
                                    "updated": body.get("updated"), "error": body.get("error")})

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        threads.append(threading.Thread(target=writer))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ok_ingests = sum(1 for i in ingests if i["status"] == 200)
        peak = peak_rss_mb(pid) if pid else None

    latencies.sort()
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)  # noqa: E731
    errors = sum(v for k, v in statuses.items() if k != "200")
    result = {
        "clients": args.clients, "seconds": args.seconds, "requests": len(latencies), "errors": errors,
        "statuses": dict(statuses), "p50_ms": pick(0.50), "p95_ms": pick(0.95), "max_ms": round(latencies[-1], 1),
        "ingestions": len(ingests), "ingestions_ok": ok_ingests, "ingest_runs": ingests, "server_peak_rss_mb": peak,
    }
    out = common.ROOT / "bench" / "results" / "concurrency"
    out.mkdir(parents=True, exist_ok=True)
    (out / "concurrency.json").write_text(json.dumps(result, indent=1))
    table = (f"| clients | seconds | requests | errors | p50 ms | p95 ms | max ms | ingestions (ok) |\n"
             f"|---|---|---|---|---|---|---|---|\n"
             f"| {args.clients} | {args.seconds:g} | {len(latencies)} | {errors} | {result['p50_ms']} | "
             f"{result['p95_ms']} | {result['max_ms']} | {len(ingests)} ({ok_ingests}) |\n")
    (out / "concurrency.md").write_text(table)
    print(table)
    print(json.dumps({k: v for k, v in result.items() if k != "ingest_runs"}))


if __name__ == "__main__":
    main()
