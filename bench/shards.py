"""Two ingest workers on one Chroma server build the same index as one worker, and a replica answers the same.

With the real model, on SQuAD v1.1's corpus: a `chroma run` on a free 127.0.0.1 port; one `rag ingest` worker
builds the collection `one-worker`; two workers (`--shard 1/2`, `--shard 2/2`, in parallel) build `two-workers`.
Then this process opens both as replicas (their own new index folders: they ingested nothing) and compares the
chunk ids, the catalog, and the top-5 passages of every question (hybrid, and each mode on the first 200).

    python bench/shards.py [--limit 1000] [--set squad-v1.1-dev]      # about 20-40 minutes on 2 busy cores

Prints one JSON object (also appended to bench/results/shards.jsonl).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("RAG_BENCH_DATA", HERE.parent.parent / "shared" / "data"))


@contextlib.contextmanager
def chroma_server(folder: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = open(folder / "chroma.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--host", "127.0.0.1", "--port",
                                str(port), "--path", str(folder / "chroma")], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(150):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
                break
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def ingest(corpus: Path, folder: Path, url: str, collection: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "RAG_COLLECTION": collection, "RAG_CHROMA_URL": url}
    return subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", str(corpus), "--index", str(folder), "--json",
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate()
    if process.returncode:
        raise SystemExit(f"a worker failed: {err[-2000:]}")
    return json.loads(out.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", default="squad-v1.1-dev")
    p.add_argument("--limit", type=int, default=1000, help="questions compared (0: all)")
    p.add_argument("--out", type=Path, default=HERE / "results" / "shards.jsonl")
    args = p.parse_args(argv)
    for name in [n for n in os.environ if n.startswith("RAG_") and not n.startswith("RAG_BENCH_")]:
        del os.environ[name]
    os.environ.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")
    corpus, questions_path = DATA / args.set / "corpus.jsonl", DATA / args.set / "questions.jsonl"
    if not corpus.is_file():
        print(f"SKIP: no {corpus}")
        return 0
    questions = [json.loads(line)["question"] for line in questions_path.open() if line.strip()]
    questions = questions[: args.limit or None]
    work = Path(tempfile.mkdtemp(prefix="rag-shards-"))
    result: dict = {"set": args.set, "questions": len(questions)}
    try:
        with chroma_server(work) as url:
            started = time.perf_counter()
            one = finish(ingest(corpus, work / "one", url, "one-worker"))
            result["one_worker_s"] = round(time.perf_counter() - started, 1)
            started = time.perf_counter()
            workers = [ingest(corpus, work / f"w{i}", url, "two-workers", "--shard", f"{i}/2") for i in (1, 2)]
            two = [finish(w) for w in workers]
            result["two_workers_s"] = round(time.perf_counter() - started, 1)
            result["documents"] = {"one": one["added"], "shard1": two[0]["added"], "shard2": two[1]["added"]}

            import rag
            from rag.embeddings import default_embedder

            embedder = default_embedder()  # the workers' default backend (onnx-int8), loaded once for both replicas
            started = time.perf_counter()
            a = rag.open_index(work / "replica-one", embedder=embedder, chroma_url=url, collection="one-worker")
            b = rag.open_index(work / "replica-two", embedder=embedder, chroma_url=url, collection="two-workers")
            result["replica_first_sync_s"] = round((time.perf_counter() - started) / 2, 1)
            ids_a = set(a.store.dense.chunks.get(include=[])["ids"])
            ids_b = set(b.store.dense.chunks.get(include=[])["ids"])
            result["chunks"] = {"one": len(ids_a), "two": len(ids_b), "same_ids": ids_a == ids_b,
                                "lexical_same": set(b.store.lexical.all_ids()) == ids_b}
            docs_a = {d: (r.sha256, r.total) for d, r in a.store.documents().items()}
            docs_b = {d: (r.sha256, r.total) for d, r in b.store.documents().items()}
            result["same_catalog"] = docs_a == docs_b
            same = {"hybrid": 0, "dense": 0, "lexical": 0}
            differ: list[dict] = []  # the first few questions whose top 5 differ, with each side's scores
            asked = {"hybrid": 0, "dense": 0, "lexical": 0}
            for i, question in enumerate(questions):
                for mode in ("hybrid", "dense", "lexical") if i < 200 else ("hybrid",):
                    hits_a, hits_b = a.search(question, k=5, mode=mode), b.search(question, k=5, mode=mode)
                    top_a, top_b = [h.id for h in hits_a], [h.id for h in hits_b]
                    same[mode] += top_a == top_b
                    if top_a != top_b and len(differ) < 5:
                        differ.append({"question": question, "mode": mode,
                                       "one": [(h.id, round(h.score, 5)) for h in hits_a],
                                       "two": [(h.id, round(h.score, 5)) for h in hits_b]})
                    asked[mode] += 1
            result["same_top5"] = {m: f"{same[m]}/{asked[m]}" for m in same}
            result["differ"] = differ
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["when"] = time.ctime()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as handle:
        handle.write(json.dumps(result) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
