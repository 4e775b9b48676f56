"""What a bulk write costs inside Chroma, and what each of rag's two choices there buys (issue 13):

    --layouts   the chunk metadata layout: one Chroma key per field (indexes written before 2026-11-26),
                `packed` (rag.records: the document id and one JSON value, what rag writes now), the document
                id alone, no metadata; each upserted with the same vectors and Chroma's default build beam
    --efc       HNSW's build beam (`ef_construction`): insertion rate, and the top-10 recall of 300 queries
                against the exact top 10 (brute-force cosine over all N), searched with rag's `ef_search`

Chroma's own upsert only (no rag code in the loop), N vectors into a fresh collection per variant. The vectors
are clustered (2,000 centres plus noise), closer to how text embeddings bunch than uniform noise; the queries are
drawn the same way. The metadata is shaped like real chunk records (a 150-word text, a title, offsets, hashes).

    python bench/chroma_writes.py --n 200000 --layouts one-key-per-field,packed,document-only,none --efc 100,64
                                                                  # about 15 minutes on 2 cores

Prints one JSON line per variant (also appended to bench/results/chroma_writes.jsonl).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings

from rag.dense import _EF_SEARCH
from rag.records import ChunkRecord, one_key_per_field

HERE = Path(__file__).resolve().parent
WORDS = "the of and a to in is was for on that by with as at from his an were are which this be river city".split()


def clustered(rng: np.random.Generator, centres: np.ndarray, n: int) -> np.ndarray:
    v = centres[rng.integers(0, len(centres), n)] + 0.8 * rng.standard_normal((n, centres.shape[1]), np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def record(i: int, rng: np.random.Generator) -> ChunkRecord:
    doc = f"corpus/file{i // 20:07d}.txt"
    return ChunkRecord(f"{doc}#{i % 20}-{i:x}", " ".join(rng.choice(WORDS, 150)), doc, f"Title of document {i // 20}",
                       None, (i % 20) * 900, (i % 20) * 900 + 1000, i % 20, "%064x" % (i // 20), "%016x" % 7, 20,
                       "corpus")


def metadata(r: ChunkRecord, layout: str) -> dict | None:
    if layout == "packed":
        return r.metadata()
    if layout == "one-key-per-field":
        return one_key_per_field(r)
    if layout == "document-only":
        return {"document": r.document}
    return None


def run(n: int, layout: str, efc: int, recall: bool, folder: str) -> dict:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((2000, 384)).astype(np.float32)
    vectors = clustered(rng, centres, n)
    records = [record(i, rng) for i in range(n)]
    metas = [metadata(r, layout) for r in records]
    client = chromadb.PersistentClient(folder, settings=Settings(anonymized_telemetry=False))
    col = client.create_collection("bench-writes", embedding_function=None, configuration={
        "hnsw": {"space": "cosine", "ef_search": _EF_SEARCH, "ef_construction": efc}})
    step = client.get_max_batch_size()
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, n, step):
        extra = {"metadatas": metas[i : i + step]} if layout != "none" else {}
        col.upsert(ids=[r.id for r in records[i : i + step]], embeddings=vectors[i : i + step], **extra)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    row = {"n": n, "layout": layout, "ef_construction": efc, "ef_search": _EF_SEARCH,
           "upsert_per_s": round(n / seconds), "cpu_per_wall": round(cpu / seconds, 2)}
    if recall:
        queries = clustered(rng, centres, 300)
        exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
        index = {r.id: i for i, r in enumerate(records)}
        found = 0
        for q, truth in zip(queries, exact):
            got = col.query(query_embeddings=[q.tolist()], n_results=10, include=[])["ids"][0]
            found += len({index[g] for g in got} & set(truth.tolist()))
        row["recall_at_10"] = round(found / (10 * len(queries)), 4)
    return {**row, "when": time.ctime()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200_000)
    p.add_argument("--layouts", default="one-key-per-field,packed,document-only,none")
    p.add_argument("--efc", default="100,64", help="ef_construction values, each with the packed layout")
    args = p.parse_args()
    variants = [(layout, 100, False) for layout in args.layouts.split(",") if layout]
    variants += [("packed", int(efc), True) for efc in args.efc.split(",") if efc]
    out = HERE / "results" / "chroma_writes.jsonl"
    out.parent.mkdir(exist_ok=True)
    for layout, efc, recall in variants:
        with tempfile.TemporaryDirectory() as folder:
            row = run(args.n, layout, efc, recall, folder)
        print(json.dumps(row), flush=True)
        with out.open("a") as handle:
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
