"""The index end to end: real all-MiniLM-L6-v2, real Chroma (local and server), real tantivy.

Corpora are written in tmp_path at run time. One embedder (the default backend's) is shared by the module, so the
model loads once; the interruption tests start child processes that load it themselves. What is checked after
every change, kill or sync: Chroma's chunks, the Chroma catalog, the local mirror and the lexical index hold
exactly one complete, current copy of every document, with no journal left.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import hashlib  # noqa: E402
import json  # noqa: E402
import queue  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rag  # noqa: E402
from rag.chunking import chunk_text  # noqa: E402
from rag.documents import load_corpus  # noqa: E402
from rag.embeddings import Embedder, default_embedder  # noqa: E402
from rag.ingest import _real_title, _title_prefix  # noqa: E402
from rag.errors import ModelMismatchError  # noqa: E402
from rag.store import Store  # noqa: E402

try:
    from tests.chroma_server import running_chroma
except ImportError:  # tests/ is not a package and only it is on sys.path
    from chroma_server import running_chroma  # type: ignore[no-redef]

ALL_MODES = ("hybrid", "dense", "lexical")

# --- corpora -------------------------------------------------------------------------------------

# Eight short documents on distinct topics, each one chunk at the default 128 tokens but more than 64 tokens
# (b.md is longer: several chunks), so that chunk_tokens=64 cuts every one of them differently.
SMALL_CORPUS = {
    "a.md": "# Red foxes\n\nThe red fox is a small carnivore that lives across Europe, Asia and North America. "
    "It digs a den under tree roots and raises four to six kits each spring. Foxes hunt voles by leaping high "
    "and pouncing on them through the snow. Their thick winter coat is rust coloured with a white-tipped tail. "
    "In cities they eat scraps from bins and sleep under garden sheds.",
    "b.md": "# Cairo\n\nCairo is the capital of Egypt and lies on the banks of the Nile river. The Great Pyramids "
    "of Giza stand on the plateau at the western edge of the city. The Khan el-Khalili bazaar sells spices, "
    "lanterns, copper pots and perfume in narrow medieval lanes.\n\n"
    "The Egyptian Museum holds the golden mask of Tutankhamun and thousands of other antiquities. Feluccas "
    "with white triangular sails carry visitors along the river at sunset. Summers in Cairo are hot and dry, "
    "and rain falls on only a few days each year.\n\n"
    "The Cairo Metro was the first underground railway in Africa and opened in 1987. Koshari, a dish of rice, "
    "lentils, pasta and spicy tomato sauce, is sold on almost every street corner of the city.",
    "c.txt": "Octopuses\n\nAn octopus has eight arms lined with suckers that can taste what they touch. It has "
    "three hearts and blue blood that carries oxygen with copper instead of iron. When threatened it squirts a "
    "cloud of dark ink and escapes by jet propulsion. Octopuses change the colour and texture of their skin in "
    "a fraction of a second to hide against rocks and coral.",
    "d.md": "# Reykjavik\n\nReykjavik is the capital of Iceland and the northernmost capital of a sovereign "
    "state. Most homes are heated by geothermal water piped from volcanic springs outside the town. The "
    "concrete church Hallgrimskirkja towers over the old harbour and its colourful roofs. In winter the "
    "northern lights often dance above the bay on clear nights.",
    "e.txt": "Honeybees\n\nA honeybee colony has one queen, thousands of female workers and a few hundred male "
    "drones. Workers tell their sisters where flowers are by performing a waggle dance on the comb. They turn "
    "nectar into honey by evaporating water with their wings and store it in wax cells. A strong hive can "
    "produce more than twenty kilograms of surplus honey in a good summer.",
    "f.md": "# Kyoto\n\nKyoto was the imperial capital of Japan for more than a thousand years. The city has about "
    "sixteen hundred Buddhist temples, among them the golden pavilion of Kinkaku-ji. Visitors walk through the "
    "tall bamboo grove of Arashiyama early in the morning to avoid the crowds. In the Gion district geiko and "
    "maiko still perform traditional dances in wooden teahouses.",
    "g.txt": "Emperor penguins\n\nEmperor penguins are the tallest and heaviest of all penguins. They breed "
    "on the sea ice of Antarctica during the dark polar winter. Thousands of males huddle together for weeks "
    "to survive blizzards while each one balances an egg on his feet. The females return from the ocean in "
    "spring and feed the chicks with regurgitated fish and squid.",
    "h.md": "# Lisbon\n\nLisbon is the hilly capital of Portugal on the estuary of the Tagus. Yellow trams climb "
    "the steep streets of the Alfama district past tiled house fronts. A great earthquake and tsunami "
    "destroyed much of the city in 1755, and the Baixa quarter was rebuilt on a grid. At night singers perform "
    "mournful fado songs in small taverns.",
}

OCTOPUS_QUESTION = "How many hearts does an octopus have, and what colour is its blood?"

_NAMES = ("Alvaro", "Brigid", "Casimir", "Delphine", "Eamon", "Fenella", "Gustav", "Halima", "Ignatius",
          "Juniper", "Kasimir", "Leocadia", "Mordecai", "Nerissa", "Oswin", "Persephone", "Quentin", "Rosalind")
_JOBS = ("baker", "miller", "sailor", "weaver", "potter", "glassblower", "beekeeper", "cartographer", "tanner",
         "blacksmith", "ferryman", "astronomer", "shepherd", "vintner", "clockmaker", "bookbinder")
_TOWNS = ("Ashbury", "Brackenford", "Coldwater", "Dunmore", "Elmsworth", "Foxhollow", "Greystone", "Hawkridge",
          "Ironbridge", "Juniper Falls", "Kingsmere", "Larkspur", "Millbrook", "Northwick", "Oakhaven")
_THINGS = ("lanterns", "barrels", "kites", "saddles", "bells", "maps", "violins", "teapots", "compasses",
           "quilts", "anchors", "telescopes", "baskets", "candles", "mirrors", "drums")
_PLACES = ("old mill", "harbour wall", "chapel", "market square", "stone bridge", "orchard", "lighthouse",
           "river ford", "village green", "watchtower", "granary", "town well")

DISTINCT = {  # document id -> a sentence found nowhere else
    "doc_005.txt": "The lighthouse keeper Margolwen painted seventeen violet herons on the crumbling sea wall.",
    "doc_150.txt": "A retired tightrope walker named Thaddeus Quibble breeds albino tortoises in a greenhouse.",
    "doc_290.txt": "Every leap year the ferrymen of Zorvath race copper bathtubs across the flooded quarry.",
}


def write_small_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in SMALL_CORPUS.items():
        (folder / name).write_text(text + "\n")
    return folder


# How the generated corpus is cut: mostly two chunks per document (title line + first sentence, second sentence).
GENERATED_SETTINGS = {"chunk_tokens": 16, "chunk_overlap_sentences": 0}


def write_generated_corpus(folder: Path, n: int = 300) -> Path:
    """`n` tiny documents: a title line and two short sentences (two chunks with GENERATED_SETTINGS)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20240611)
    for i in range(n):
        sentences = [
            f"{rng.choice(_NAMES)} keeps {rng.randint(2, 99)} {rng.choice(_THINGS)} in {rng.choice(_TOWNS)}.",
            f"The {rng.choice(_JOBS)} sits by the {rng.choice(_PLACES)}.",
        ]
        doc_id = f"doc_{i:03d}.txt"
        if doc_id in DISTINCT:
            sentences[1] = DISTINCT[doc_id]
        (folder / doc_id).write_text(f"Ledger {i}\n\n" + " ".join(sentences) + "\n")
    return folder


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """One real model for the module, the one the child processes load: the default backend's."""
    return default_embedder().loaded


def chroma_ids(store: Store) -> list[str]:
    return list(store.dense.chunks.get(include=[])["ids"])


def chroma_catalog(store: Store) -> dict[str, str]:
    """Live documents of the shared catalog -> version."""
    got = store.dense.catalog.get(include=["metadatas"])
    return {d: m["version"] for d, m in zip(got["ids"], got["metadatas"]) if not m["deleted"]}


def expected_chunk_ids(
    corpus: Path, embedder: Embedder, settings: rag.Settings
) -> dict[str, list[str]]:
    """What a clean ingestion stores for each document (the same chunking calls ingestion makes)."""
    expected = {}
    for doc in load_corpus(corpus).documents:
        _, budget = _title_prefix(_real_title(doc), embedder, settings)
        chunks = chunk_text(doc.id, doc.text, embedder.token_offsets, budget, settings.chunk_overlap_sentences)
        expected[doc.id] = [c.id for c in chunks]
    return expected


def assert_in_step(store: Store) -> set[str]:
    """Chroma's chunks and catalog, the mirror and the lexical index agree, with no journal: the chunk ids."""
    store.lexical.refresh()
    assert store.catalog.journal() == {}
    assert store.local.in_step()
    mirror = store.documents()
    assert {d: r.version for d, r in mirror.items()} == chroma_catalog(store)
    in_chroma, in_lexical = chroma_ids(store), store.lexical.all_ids()
    for ids in (in_chroma, in_lexical):
        assert [i for i, c in Counter(ids).items() if c > 1] == []
    assert set(in_chroma) == set(in_lexical)
    assert len(in_chroma) == sum(r.total for r in mirror.values()) == store.count()
    return set(in_chroma)


def assert_consistent(ix: rag.Index, corpus: Path, embedder: Embedder) -> None:
    """The index holds exactly one complete, current copy of every document of `corpus`, on every side."""
    expected = expected_chunk_ids(corpus, embedder, ix.settings)
    mirror = ix.store.documents()
    assert sorted(mirror) == sorted(expected)
    for doc_id, record in mirror.items():
        assert record.sha256 == hashlib.sha256((corpus / doc_id).read_bytes()).hexdigest(), doc_id
        assert sorted(ix.store.lexical.ids_of([doc_id])) == sorted(expected[doc_id]), doc_id
    assert [d.id for d in ix.documents()] == sorted(expected)
    assert assert_in_step(ix.store) == {i for ids in expected.values() for i in ids}


# --- 1. Chroma server mode -----------------------------------------------------------------------


@pytest.mark.server
def test_two_app_processes_share_one_chroma_server(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    with running_chroma(tmp_path / "chroma-data") as url:
        first = rag.open_index(tmp_path / "app1", embedder=embedder, chroma_url=url)
        report = first.ingest(corpus, progress=False)
        assert sorted(report.added) == sorted(SMALL_CORPUS)
        assert report.failed == []
        assert report.embedded == report.chunks == first.store.count() > 0
        assert not (tmp_path / "app1" / "chroma").exists()  # nothing stored locally but the lexical side
        hits = first.search(OCTOPUS_QUESTION, k=3)
        assert hits[0].document == "c.txt"

        # a second app process: its own folder, the same server; its first sync takes every document once
        second = rag.open_index(tmp_path / "app2", embedder=embedder, chroma_url=url)
        assert second.store.replica.applied == len(SMALL_CORPUS)
        assert [(d.id, d.chunks) for d in second.documents()] == [(d.id, d.chunks) for d in first.documents()]
        assert_in_step(second.store)
        hits2 = second.search(OCTOPUS_QUESTION, k=3)
        assert [h.id for h in hits2] == [h.id for h in hits]
        for mode in ALL_MODES:
            assert second.search("Which city has yellow trams and fado?", k=2, mode=mode)[0].document == "h.md"
        assert second.search("Quorvath blackberries", mode="lexical") == []

        # the first process changes one document and removes another; the second takes those two only
        (corpus / "a.md").write_text(
            SMALL_CORPUS["a.md"] + " Foxes in the Quorvath forest gorge themselves on blackberries in autumn.\n"
        )
        (corpus / "g.txt").unlink()
        report = first.ingest(corpus, progress=False)
        assert report.updated == ["a.md"] and report.removed == ["g.txt"]
        assert sorted(report.unchanged) == sorted(set(SMALL_CORPUS) - {"a.md", "g.txt"})
        time.sleep(2.1)  # a replica looks at the catalog at most every 2 s
        hits = second.search("Quorvath blackberries", k=3, mode="lexical")
        assert hits and hits[0].document == "a.md" and "Quorvath" in hits[0].text
        assert second.store.replica.applied == len(SMALL_CORPUS) + 2  # incremental: no rebuild
        assert all(p.document != "g.txt" for p in second.search("emperor penguins", k=8, mode="lexical"))
        assert "g.txt" not in [d.id for d in second.documents()]
        assert assert_in_step(second.store) == set(chroma_ids(first.store))
        assert second.search("Quorvath blackberries", k=1)[0].document == "a.md"  # hybrid too

        # a third process started later loads nothing stale either
        third = rag.open_index(tmp_path / "app3", embedder=embedder, chroma_url=url)
        assert third.search("Quorvath blackberries", k=1, mode="lexical")[0].document == "a.md"
        assert third.ingest(corpus, progress=False).unchanged == sorted(set(SMALL_CORPUS) - {"g.txt"})


# --- 2. interrupted ingestion --------------------------------------------------------------------
# The child ingests with GROUP_CHUNKS=64. One step of the write protocol is wrapped: at its call `stop_at` the
# child prints PARTIAL and sleeps, and the parent sends the signal then. The steps:
#   chunks    Dense.upsert_chunks, after the first half of the group (cut inside a document) is stored
#   catalog   Dense.put_catalog, after the catalog records are written (the local side not yet)
#   lexical   LexicalIndex.commit, after the lexical commit (the mirror not yet)

CHILD = textwrap.dedent(
    """
    import json, os, signal, sys, time
    import rag, rag.ingest, rag.dense, rag.lexical

    # Ctrl-C as in a terminal, even when this test runs as a background job (started with SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    index_dir, corpus, stop_at, mode, step = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[6]
    rag.ingest.GROUP_CHUNKS = 64
    calls = 0
    armed = mode != "update"

    def stop_here(label):
        global calls
        calls += 1
        print(f"{label} {calls}", flush=True)
        if calls == stop_at:
            print("PARTIAL", flush=True)
            time.sleep(120)  # killed here

    upsert = rag.dense.Dense.upsert_chunks
    def upsert_chunks(self, chunks, vectors):
        if not armed or step != "chunks":
            return upsert(self, chunks, vectors)
        cut = len(chunks) // 2
        while cut < len(chunks) - 1 and chunks[cut].document != chunks[cut - 1].document:
            cut += 1
        upsert(self, chunks[:cut], vectors[:cut])
        print(f"SPLIT {chunks[cut].document}", flush=True)
        stop_here("ADDED")
        upsert(self, chunks[cut:], vectors[cut:])

    put = rag.dense.Dense.put_catalog
    def put_catalog(self, records):
        put(self, records)
        if armed and step == "catalog" and records and not records[0].deleted:
            stop_here("CATALOG")

    commit = rag.lexical.LexicalIndex.commit
    def lexical_commit(self, generation):
        commit(self, generation)
        if armed and step == "lexical" and generation > 1:
            stop_here("LEXICAL")

    rag.dense.Dense.upsert_chunks = upsert_chunks
    rag.dense.Dense.put_catalog = put_catalog
    rag.lexical.LexicalIndex.commit = lexical_commit
    index = rag.open_index(index_dir, **json.loads(sys.argv[5]))
    if mode == "update":
        index.ingest(corpus, progress=False)
        for name in sorted(os.listdir(corpus)):
            path = os.path.join(corpus, name)
            with open(path, "a") as f:
                f.write("Revised edition, with a note on " + name.replace(".", " ") + ".\\n")
        print("REVISED", flush=True)
        armed = True
    index.ingest(corpus, progress=False)
    print("DONE", flush=True)
    """
)


def run_child_until(tmp_path: Path, index_dir: Path, corpus: Path, stop_at: int, mode: str, sig: int,
                    step: str = "chunks") -> list[str]:
    """Run CHILD, send `sig` when it prints PARTIAL, return its output lines."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1",
           "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    stderr_path = tmp_path / "child.stderr"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(script), str(index_dir), str(corpus), str(stop_at), mode,
             json.dumps(GENERATED_SETTINGS), step],
            stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True, env=env,
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        seen: list[str] = []
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
                except queue.Empty:
                    pytest.fail(f"child never reached PARTIAL: {seen} {stderr_path.read_text()[-2000:]}")
                if line is None:
                    process.wait(timeout=10)
                    pytest.fail(f"child ended ({process.returncode}) before PARTIAL: {seen} "
                                f"{stderr_path.read_text()[-2000:]}")
                seen.append(line)
                if line == "PARTIAL":
                    process.send_signal(sig)
                    break
            try:
                returncode = process.wait(timeout=60)
            except subprocess.TimeoutExpired:  # say where it hangs: faulthandler prints every thread's stack
                process.send_signal(signal.SIGABRT)
                process.wait(timeout=10)
                pytest.fail(f"the child did not exit within 60 s of the signal: {stderr_path.read_text()[-6000:]}")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    assert returncode != 0
    if sig == signal.SIGINT:
        assert "KeyboardInterrupt" in stderr_path.read_text()
    assert "DONE" not in seen
    return seen


def test_ingestion_killed_mid_group_is_repaired(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_generated_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "idx"
    seen = run_child_until(tmp_path, index_dir, corpus, stop_at=2, mode="fresh", sig=signal.SIGKILL)
    split_document = [line.split()[1] for line in seen if line.startswith("SPLIT")][-1]

    # Chroma holds the first group and half of the second; the journal names the second group's documents
    ix = rag.open_index(index_dir, embedder=embedder, **GENERATED_SETTINGS)
    assert ix.store.repaired == [split_document]  # the half-written one, undone when the folder was opened
    complete_before = set(ix.store.documents())
    assert len(complete_before) > 20  # the first group, kept
    assert 0 < len(chroma_ids(ix.store)) < 600
    assert_in_step(ix.store)  # no chunk of the unfinished batch is left anywhere

    report = ix.ingest(corpus, progress=False)
    assert report.repaired == [split_document]
    assert report.failed == [] and report.removed == [] and report.updated == []
    assert sorted(report.unchanged) == sorted(complete_before)  # stored chunks are kept, not re-embedded
    assert sorted(report.added) == sorted({f"doc_{i:03d}.txt" for i in range(300)} - complete_before)
    assert report.embedded == report.chunks - sum(r.total for d, r in ix.store.documents().items()
                                                  if d in complete_before)
    assert_consistent(ix, corpus, embedder)
    for doc_id, sentence in DISTINCT.items():
        for mode in ALL_MODES:
            assert ix.search(sentence, k=3, mode=mode)[0].document == doc_id, (doc_id, mode)

    again = ix.ingest(corpus, progress=False)
    assert again.embedded == 0 and len(again.unchanged) == 300 and again.repaired == []


@pytest.mark.parametrize("step", ["catalog", "lexical"])
def test_a_kill_after_the_shared_writes_keeps_the_batch(
    tmp_path: Path, embedder: Embedder, step: str
) -> None:
    corpus = write_generated_corpus(tmp_path / "corpus", n=80)
    index_dir = tmp_path / "idx"
    run_child_until(tmp_path, index_dir, corpus, stop_at=2, mode="fresh", sig=signal.SIGKILL, step=step)
    ix = rag.open_index(index_dir, embedder=embedder, **GENERATED_SETTINGS)
    assert ix.store.repaired == []  # Chroma held the whole batch: the local side took it from there
    kept = assert_in_step(ix.store)
    assert len(ix.store.documents()) > 40 and kept
    report = ix.ingest(corpus, progress=False)
    assert report.repaired == [] and report.updated == [] and report.embedded < report.chunks
    assert_consistent(ix, corpus, embedder)


UPDATE_DOCUMENTS = 96


def test_update_interrupted_by_ctrl_c_is_repaired(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_generated_corpus(tmp_path / "corpus", n=UPDATE_DOCUMENTS)  # ingested twice by the child
    index_dir = tmp_path / "idx"
    seen = run_child_until(tmp_path, index_dir, corpus, stop_at=3, mode="update", sig=signal.SIGINT)
    assert "REVISED" in seen
    split_document = [line.split()[1] for line in seen if line.startswith("SPLIT")][-1]

    ix = rag.open_index(index_dir, embedder=embedder, **GENERATED_SETTINGS)
    assert ix.store.repaired == [split_document]
    before = ix.store.documents()
    shas = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus.iterdir()}
    current = {d for d, r in before.items() if r.sha256 == shas[d]}
    stale = {d for d, r in before.items() if r.sha256 != shas[d]}
    assert current and stale and split_document not in before  # groups 1-2 revised, 3 undone, the rest old
    assert_in_step(ix.store)

    report = ix.ingest(corpus, progress=False)
    assert report.repaired == [split_document]
    assert sorted(report.unchanged) == sorted(current)
    assert sorted(report.updated) == sorted(stale)
    assert sorted(report.added) == sorted(set(shas) - current - stale)
    assert report.removed == [] and report.failed == []
    assert_consistent(ix, corpus, embedder)

    last = f"doc_{UPDATE_DOCUMENTS - 1:03d}.txt"
    hits = ix.search(f"Revised edition, with a note on {last.replace('.', ' ')}", k=3, mode="lexical")
    assert hits[0].document == last
    for doc_id, sentence in DISTINCT.items():
        if (corpus / doc_id).exists():
            assert ix.search(sentence, k=3)[0].document == doc_id


def test_update_interrupted_before_the_local_commit_is_kept(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    ix = rag.open_index(tmp_path / "idx", embedder=embedder)
    ix.ingest(corpus, progress=False)
    (corpus / "e.txt").write_text(SMALL_CORPUS["e.txt"] + " Beekeepers in Quorvath smoke the hives with sage.\n")

    def interrupted(self: object, *args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(rag.local.Local, "commit", interrupted)
        with pytest.raises(KeyboardInterrupt):
            ix.ingest(corpus, progress=False)
    ix.store.close()

    ix = rag.open_index(tmp_path / "idx", embedder=embedder)
    assert ix.store.repaired == []  # Chroma had the new version whole: kept
    assert ix.search("Quorvath sage", k=1, mode="lexical")[0].document == "e.txt"
    assert ix.ingest(corpus, progress=False).unchanged == sorted(SMALL_CORPUS)
    assert_consistent(ix, corpus, embedder)


# --- 3. settings that change the index -----------------------------------------------------------


class RenamedEmbedder:
    """The real model under another name: to the index, a different embedding model."""

    def __init__(self, inner: Embedder, name: str) -> None:
        self.inner, self.name, self.max_tokens = inner, name, inner.max_tokens

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed(texts)

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        return self.inner.token_offsets(texts)


def test_chunking_changes_rechunk_and_another_model_is_refused(
    tmp_path: Path, embedder: Embedder
) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "idx"
    names = sorted(SMALL_CORPUS)

    ix = rag.open_index(index_dir, embedder=embedder)
    first = ix.ingest(corpus, progress=False)
    assert sorted(first.added) == names
    original_ids = set(chroma_ids(ix.store))
    assert_consistent(ix, corpus, embedder)

    small = rag.open_index(index_dir, embedder=embedder, chunk_tokens=64)
    report = small.ingest(corpus, progress=False)
    assert sorted(report.updated) == names
    assert report.added == report.unchanged == report.removed == report.repaired == []
    assert report.embedded == report.chunks == small.store.count() > len(original_ids)
    assert not set(chroma_ids(small.store)) & original_ids
    assert json.loads((index_dir / "manifest.json").read_text())["settings"]["chunk_tokens"] == "64"
    assert_consistent(small, corpus, embedder)
    assert small.search(OCTOPUS_QUESTION, k=1)[0].document == "c.txt"

    back = rag.open_index(index_dir, embedder=embedder)
    report = back.ingest(corpus, progress=False)
    assert sorted(report.updated) == names and report.unchanged == []
    assert report.embedded == report.chunks == len(original_ids)
    assert set(chroma_ids(back.store)) == original_ids  # chunk ids are stable for the same cut
    assert_consistent(back, corpus, embedder)
    assert back.ingest(corpus, progress=False).embedded == 0

    # another embedding model: opening refuses, names both models and the command, and deletes nothing
    with pytest.raises(ModelMismatchError) as refused:
        rag.open_index(index_dir, embedder=RenamedEmbedder(embedder, "another-model"))
    message = str(refused.value)
    assert embedder.name in message and "another-model" in message and "rag ingest --rebuild" in message
    assert set(chroma_ids(rag.open_index(index_dir, embedder=embedder).store)) == original_ids

    # --rebuild is the way: everything embedded again with the new model
    other = rag.open_index(index_dir, embedder=RenamedEmbedder(embedder, "another-model"), rebuild=True)
    assert other.is_empty()
    report = other.ingest(corpus, progress=False)
    assert sorted(report.added) == names and report.unchanged == []
    assert report.embedded == report.chunks == other.store.count() == len(original_ids)
    assert json.loads((index_dir / "manifest.json").read_text())["embedding_model"] == "another-model"
    assert_consistent(other, corpus, embedder)
    assert other.search(OCTOPUS_QUESTION, k=1)[0].document == "c.txt"
    with pytest.raises(ModelMismatchError):
        rag.open_index(index_dir, embedder=embedder)


# --- 4. document filter and MMR -------------------------------------------------------------------


def test_document_filter_and_mmr(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    ix = rag.open_index(tmp_path / "idx", embedder=embedder)
    ix.ingest(corpus, progress=False)
    b_chunks = len(ix.store.lexical.ids_of(["b.md"]))
    assert b_chunks >= 2

    # a question about penguins that shares only "river" and "winter" with b.md
    question = "Where do emperor penguins huddle in winter, far from any river?"
    for mode in ALL_MODES:
        unfiltered = ix.search(question, k=3, mode=mode)
        assert unfiltered[0].document == "g.txt", mode
        only_b = ix.search(question, k=5, mode=mode, documents=["b.md"])
        assert only_b, mode
        assert {p.document for p in only_b} == {"b.md"}, mode
        if mode != "lexical":  # dense ranks every chunk of b.md; BM25 only those sharing a word
            assert len(only_b) == min(5, b_chunks), mode
        assert len({p.id for p in only_b}) == len(only_b)
        two = ix.search(question, k=5, mode=mode, documents=["b.md", "g.txt"])
        assert {p.document for p in two} <= {"b.md", "g.txt"} and two[0].document == "g.txt", mode
    assert ix.search(question, documents=["no-such-document.md"], mode="dense") == []

    for mode in ("hybrid", "dense"):
        plain = ix.search("Which capital city is worth visiting?", k=5, mode=mode)
        diverse = ix.search("Which capital city is worth visiting?", k=5, mode=mode, mmr=True)
        assert len(plain) == len(diverse) == 5
        assert len({p.id for p in diverse}) == 5
        assert [p.rank for p in diverse] == [1, 2, 3, 4, 5]
    diverse_b = ix.search("Cairo", k=3, mode="hybrid", mmr=True, documents=["b.md"])
    assert len({p.id for p in diverse_b}) == len(diverse_b) == min(3, b_chunks)
    assert {p.document for p in diverse_b} == {"b.md"}
