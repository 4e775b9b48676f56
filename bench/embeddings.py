"""The embedding backends side by side: torch (sentence-transformers), onnx (fp32) and onnx-int8, in one run.

Parts (`--parts`, default all, in this order):
- retrieval: `rag eval` (the CLI, offline answers, hybrid) of each backend on the first 1,000 questions of
  squad-v1.1-dev and all of hotpotqa-dev-500, each backend in its own index folder, then `rag eval --compare`
  torch -> onnx and torch -> onnx-int8: recall@5 and mrr@10 with their paired 95% bootstrap intervals.
- ingest: in one process, a fresh ingest of the squad-v1.1-dev corpus with each backend (the real `Index`, each
  embedder warmed up first) and a bare sentence-transformers `encode` of the same chunk texts (batch 64,
  normalized), in rotating order with `--repeats`; the fastest of each is kept (noise only adds time).
- latency: one SQuAD question per `embed()` call (warm: 10 calls first), wall p50/p90 and CPU p50 ms, each
  backend in a process of its own (as in the app), 3 processes per backend in rotating order.
- cold: `rag ask QUESTION` on the seed corpus (index already built), a fresh process each time, backends
  interleaved, `--runs` times each: median wall and CPU seconds (the child's own accounting).
- app: `rag serve` on 127.0.0.1 (index already built): seconds from spawn to the first 200 on /api/documents,
  then to the first answer of /api/ask (the model loads on the first question), backends interleaved.

Every part records the load average and, for timed steps, the share of the CPUs that other processes used:
on a shared machine read the ratios between backends measured side by side, not the absolute times.

    .venv/bin/python bench/embeddings.py                         # everything, about an hour on 2 idle cores
    .venv/bin/python bench/embeddings.py --parts ingest,latency,cold,app --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (sets the offline environment before rag is imported)
from common import Clock, ROOT, clear_rag_environment, data_dir, machine, read_jsonl, table

BACKENDS = ("torch", "onnx", "onnx-int8")
SETS = {"squad-v1.1-dev": 1000, "hotpotqa-dev-500": 500}
QUESTION = "Who is Belarus's foreign minister?"
RAG = str(Path(sys.executable).with_name("rag"))


def env_for(backend: str) -> dict[str, str]:
    keep = ("RAG_BENCH_", "RAG_ONNX_CACHE")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") or k.startswith(keep)}
    return {**environment, "RAG_EMBEDDING_BACKEND": backend, "HF_HUB_OFFLINE": "1"}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- retrieval --------------------------------------------------------------------------------------------


def part_retrieval(work: Path, out: Path) -> dict:
    result: dict = {"load_before": load()}
    for name, limit in SETS.items():
        folder = data_dir() / name
        runs = {}
        for backend in BACKENDS:
            run_dir = out / f"eval-{name}-{backend}"
            started = time.perf_counter()
            subprocess.run([RAG, "eval", str(folder / "questions.jsonl"), "--corpus", str(folder / "corpus.jsonl"),
                            "--index", str(work / backend), "--limit", str(limit), "--out", str(run_dir), "--json"],
                           env=env_for(backend), check=True, stdout=subprocess.DEVNULL)
            report = json.loads((run_dir / "report.json").read_text())
            runs[backend] = {"dir": str(run_dir), "seconds": round(time.perf_counter() - started, 1),
                             "ingest_seconds": (report.get("index", {}).get("ingest") or {}).get("seconds"),
                             **{m: report["metrics"][m]["value"] for m in ("recall@5", "mrr@10")}}
        for backend in BACKENDS[1:]:
            compared = json.loads(subprocess.run(
                [RAG, "eval", "--compare", runs["torch"]["dir"], runs[backend]["dir"], "--json"],
                env=env_for("torch"), check=True, capture_output=True, text=True).stdout)
            runs[backend]["vs_torch"] = {m: {k: compared["metrics"][m][k] for k in ("diff", "ci_low", "ci_high")}
                                         for m in ("recall@5", "mrr@10")}
            runs[backend]["settings_differ"] = compared["settings_differ"]
        result[name] = runs
    result["load_after"] = load()
    return result


def retrieval_table(result: dict) -> str:
    rows = []
    for name in SETS:
        for backend, run in result.get(name, {}).items():
            row = [name, backend, run["recall@5"], run["mrr@10"]]
            for m in ("recall@5", "mrr@10"):
                d = run.get("vs_torch", {}).get(m)
                row.append(f"{100 * d['diff']:+.2f} pt [{100 * d['ci_low']:+.2f}, {100 * d['ci_high']:+.2f}]"
                           if d else "")
            rows.append(row)
    return table(rows, ["set", "backend", "recall@5", "mrr@10", "Δ recall@5 vs torch (95% CI)",
                        "Δ mrr@10 vs torch (95% CI)"])


# --- in-process parts -------------------------------------------------------------------------------------


def embedders() -> dict:
    from rag.embeddings import default_embedder

    made = {b: default_embedder("", 64, b).loaded for b in BACKENDS}
    for e in made.values():
        e.embed(["warm up"] * 64)
    return made


def part_ingest(work: Path, repeats: int) -> dict:
    import rag
    from common import RecordingEmbedder

    corpus = data_dir() / "squad-v1.1-dev" / "corpus.jsonl"
    models = embedders()
    bare_model = models["torch"]._model
    texts: list[str] = []
    best: dict[str, dict] = {}
    steps = ["bare", *BACKENDS]
    for r in range(repeats):
        for step in steps[r % len(steps):] + steps[: r % len(steps)]:
            if step == "bare" and not texts:
                continue  # the texts come from a first ingest
            with Clock() as clock:
                if step == "bare":
                    bare_model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                                      show_progress_bar=False)
                else:
                    proxy = RecordingEmbedder(models[step])
                    ix = rag.open_index(work / f"ingest-{step}-{r}", embedder=proxy)
                    report = ix.ingest(corpus, progress=False)
            figures = {**clock.to_json(), "load": load()}
            if step != "bare":
                figures.update(chunks=report.chunks, embed_seconds=round(proxy.embed_seconds, 3))
                if texts and proxy.texts != texts:
                    raise RuntimeError(f"{step} embedded other chunk texts than the first ingest")
                texts = texts or proxy.texts
            if step not in best or figures["wall"] < best[step]["wall"]:
                best[step] = figures
        if "bare" not in best:  # the first round had no texts yet for the bare encode
            with Clock() as clock:
                bare_model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False)
            best["bare"] = {**clock.to_json(), "load": load()}
    for step in BACKENDS:
        best[step]["x_faster_than_bare_encode"] = round(best["bare"]["wall"] / best[step]["wall"], 2)
        best[step]["cpu_x_less_than_bare_encode"] = round(best["bare"]["cpu"] / best[step]["cpu"], 2)
    return {"texts": len(texts), "repeats": repeats, **best}


def latency_child(backend: str, calls: int) -> None:
    """In a process of its own (as in the app, one backend loaded): per-call wall and CPU ms, as JSON."""
    from rag.embeddings import default_embedder

    questions = [q["question"] for q in read_jsonl(data_dir() / "squad-v1.1-dev" / "questions.jsonl")[:calls]]
    e = default_embedder("", 64, backend).loaded
    for q in questions[:10]:
        e.embed([q])
    wall, cpu = [], []
    for q in questions:
        w, c = time.perf_counter(), time.process_time()
        e.embed([q])
        wall.append(1000 * (time.perf_counter() - w))
        cpu.append(1000 * (time.process_time() - c))
    print(json.dumps({"wall": wall, "cpu": cpu}))


def part_latency(calls: int, rounds: int = 3) -> dict:
    """Each backend in its own process (a torch process's spinning threads would slow an ONNX session beside
    it), `rounds` processes per backend in rotating order, `calls` questions each."""
    samples: dict[str, dict[str, list[float]]] = {b: {"wall": [], "cpu": []} for b in BACKENDS}
    for r in range(rounds):
        for backend in BACKENDS[r % 3:] + BACKENDS[: r % 3]:
            done = subprocess.run([sys.executable, __file__, "--latency-child", backend, "--calls", str(calls)],
                                  env=env_for(backend), check=True, capture_output=True, text=True)
            for key, values in json.loads(done.stdout.strip().splitlines()[-1]).items():
                samples[backend][key] += values
    out = {b: {"p50_ms": round(statistics.median(s["wall"]), 2),
               "p90_ms": round(statistics.quantiles(s["wall"], n=10)[-1], 2),
               "cpu_p50_ms": round(statistics.median(s["cpu"]), 2), "calls": len(s["wall"])}
           for b, s in samples.items()}
    return {**out, "load": load()}


# --- fresh processes --------------------------------------------------------------------------------------


def seed_indexes(work: Path) -> dict[str, Path]:
    folders = {}
    for backend in BACKENDS:
        folders[backend] = work / f"seed-{backend}"
        subprocess.run([RAG, "ingest", str(ROOT / "seeds"), "--index", str(folders[backend]), "--json"],
                       env=env_for(backend), check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return folders


def child_run(command: list[str], backend: str) -> tuple[float, float]:
    """(wall, cpu) seconds of one child process, from the OS's accounting of finished children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env_for(backend), check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def part_cold(work: Path, runs: int) -> dict:
    folders = seed_indexes(work)
    samples: dict[str, list[tuple[float, float]]] = {b: [] for b in BACKENDS}
    for backend in BACKENDS:  # one warm-up each (page cache)
        child_run([RAG, "ask", QUESTION, "--index", str(folders[backend])], backend)
    for r in range(runs):
        for backend in BACKENDS[r % 3:] + BACKENDS[: r % 3]:
            samples[backend].append(child_run([RAG, "ask", QUESTION, "--index", str(folders[backend])], backend))
    out = {b: {"wall_median": round(statistics.median(w for w, _ in s), 2),
               "cpu_median": round(statistics.median(c for _, c in s), 2),
               "wall_all": [round(w, 2) for w, _ in s]} for b, s in samples.items()}
    for b in BACKENDS:
        out[b]["wall_ratio_to_torch"] = round(out[b]["wall_median"] / out["torch"]["wall_median"], 3)
    return {**out, "load": load()}


def app_start(folder: Path, backend: str, timeout: float = 300) -> dict:
    import httpx
    from app_server import free_port  # tests/app_server.py

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = subprocess.Popen([RAG, "serve", "--index", str(folder), "--port", str(port)], cwd=ROOT,
                               env={**env_for(backend), "GRADIO_ANALYTICS_ENABLED": "False"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if process.poll() is not None or time.perf_counter() - started > timeout:
                raise RuntimeError(f"rag serve ({backend}) did not start")
            try:
                if httpx.get(f"{url}/api/documents", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        serving = time.perf_counter() - started
        httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=timeout).raise_for_status()
        return {"serving": serving, "first_answer": time.perf_counter() - started}
    finally:
        process.terminate()
        process.wait(timeout=30)


def part_app(work: Path, runs: int) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    folders = seed_indexes(work)
    samples: dict[str, list[dict]] = {b: [] for b in BACKENDS}
    for r in range(runs):
        for backend in BACKENDS[r % 3:] + BACKENDS[: r % 3]:
            samples[backend].append(app_start(folders[backend], backend))
    return {b: {k: round(statistics.median(x[k] for x in s), 2) for k in ("serving", "first_answer")}
            for b, s in samples.items()} | {"load": load()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="retrieval,ingest,latency,cold,app")
    parser.add_argument("--repeats", type=int, default=1, help="ingest rounds (rotating order); the fastest counts")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per backend (cold, app)")
    parser.add_argument("--calls", type=int, default=200, help="questions embedded one by one per process")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "embeddings")
    parser.add_argument("--work", type=Path, default=None, help="keep the indexes here (default: a temp folder)")
    parser.add_argument("--latency-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.latency_child:
        latency_child(args.latency_child, args.calls)
        return
    clear_rag_environment()
    if not (data_dir() / "squad-v1.1-dev").is_dir():
        print(f"SKIP: no data in {data_dir()}")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "embeddings.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    results["machine"] = machine()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        for part in args.parts.split(","):
            started = time.perf_counter()
            if part == "retrieval":
                results[part] = part_retrieval(work / "eval", args.out)
            elif part == "ingest":
                results[part] = part_ingest(work, args.repeats)
            elif part == "latency":
                results[part] = part_latency(args.calls)
            elif part == "cold":
                results[part] = part_cold(work, args.runs)
            elif part == "app":
                results[part] = part_app(work, args.runs)
            else:
                parser.error(f"unknown part {part!r}")
            results[part]["part_seconds"] = round(time.perf_counter() - started, 1)
            path.write_text(json.dumps(results, indent=1))
            print(f"## {part}\n" + (retrieval_table(results[part]) if part == "retrieval"
                                     else json.dumps(results[part], indent=1)), flush=True)


if __name__ == "__main__":
    main()
