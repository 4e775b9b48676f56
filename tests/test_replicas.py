"""Many processes, one real `chroma run`: two `rag ingest --shard I/2` workers build the same index as one worker
does, and a replica that ingested nothing answers the same, then follows a change incrementally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import rag

from chroma_server import running_chroma
from conftest import ROOT

TOWNS = ("Ashbury", "Brackenford", "Coldwater", "Dunmore", "Elmsworth", "Foxhollow", "Greystone", "Hawkridge",
         "Ironbridge", "Kingsmere", "Larkspur", "Millbrook")
CRAFTS = ("bakes rye bread", "weaves wool blankets", "blows green glass", "binds leather books",
          "mends fishing nets", "carves oak chairs")
QUESTIONS = ["Who blows green glass in Coldwater?", "Which town has a weaver of wool blankets?",
             "Where are oak chairs carved?", "Who mends fishing nets near the harbour of Larkspur?"]


def write_corpus(folder: Path) -> list[str]:
    folder.mkdir(parents=True)
    names = []
    for i, town in enumerate(TOWNS):
        for j, craft in enumerate(CRAFTS[:2]):
            name = f"{town.lower()}-{j}.txt"
            craft_here = CRAFTS[(i + j) % len(CRAFTS)]
            (folder / name).write_text(f"{town} notes {j}\n\nIn {town} the oldest family {craft_here} by the harbour. "
                                       f"Visitors to {town} buy what they make at the Saturday market.\n")
            names.append(name)
    return sorted(names)


def ingest(corpus: Path, index: Path, url: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", str(corpus), "--index", str(index),
                             "--chroma-url", url, "--json", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


def report_of(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return json.loads(out)


@pytest.mark.server
def test_two_shard_workers_and_a_replica_on_one_chroma_server(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    names = write_corpus(corpus)
    with running_chroma(tmp_path / "chroma-data") as url:
        single = ingest(corpus, tmp_path / "single", url, env={"RAG_COLLECTION": "one-worker"})
        workers = [ingest(corpus, tmp_path / f"worker{i}", url, "--shard", f"{i}/2") for i in (1, 2)]
        reports = [report_of(w) for w in workers]
        assert report_of(single)["added"] == len(names)
        added = [set(r["documents"]["added"]) for r in reports]
        assert not added[0] & added[1] and added[0] | added[1] == set(names) and all(added)

        one = rag.open_index(tmp_path / "one-reader", embedder=embedder, chroma_url=url, collection="one-worker")
        replica = rag.open_index(tmp_path / "replica", embedder=embedder, chroma_url=url)
        assert replica.store.replica.applied == len(names)  # its first sync: every document, once
        ids = set(replica.store.dense.chunks.get(include=[])["ids"])
        assert ids == set(one.store.dense.chunks.get(include=[])["ids"]) == set(replica.store.lexical.all_ids())
        assert [d.id for d in replica.documents()] == names
        for question in QUESTIONS:
            for mode in ("hybrid", "lexical", "dense"):
                mine = [p.id for p in replica.search(question, k=5, mode=mode)]
                assert mine == [p.id for p in one.search(question, k=5, mode=mode)], (question, mode)
        assert replica.search(QUESTIONS[0], k=1)[0].document.startswith("coldwater")

        # one document changes and another goes: only their shard's worker runs again
        changed, gone = "kingsmere-0.txt", "dunmore-1.txt"
        (corpus / changed).write_text("Kingsmere notes 0\n\nIn Kingsmere the oldest family tunes silver harps "
                                      "for the Quorvath festival.\n")
        (corpus / gone).unlink()
        for i in (1, 2):
            if changed in added[i - 1] or gone in added[i - 1]:
                again = report_of(ingest(corpus, tmp_path / f"worker{i}", url, "--shard", f"{i}/2"))
                assert set(again["documents"]["updated"] + again["documents"]["removed"]) <= {changed, gone}
        time.sleep(2.1)  # a replica looks at the catalog at most every 2 s
        hit = replica.search("Who tunes silver harps for the Quorvath festival?", k=1, mode="lexical")[0]
        assert hit.document == changed
        assert replica.store.replica.applied == len(names) + 2  # the two changes, not a rebuild
        assert gone not in [d.id for d in replica.documents()]
        assert set(replica.store.lexical.all_ids()) == set(replica.store.dense.chunks.get(include=[])["ids"])
