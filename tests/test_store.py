"""The index end to end: real all-MiniLM-L6-v2, real Chroma (local and server), real bm25s.

Corpora are written in tmp_path at run time. One embedder (the default backend's) is shared by the module, so the
model loads once; the interruption tests start child processes that load it themselves.
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
    return list(store.collection.get(include=[])["ids"])


def manifest_ids(store: Store) -> list[str]:
    return [i for d in store.read_manifest().get("documents", {}).values() for i in d["chunks"]]


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


def assert_consistent(ix: rag.Index, corpus: Path, embedder: Embedder) -> None:
    """Chroma, manifest and BM25 hold exactly one complete, current copy of every document of `corpus`."""
    store = ix.store
    expected = expected_chunk_ids(corpus, embedder, ix.settings)
    states = store.scan()
    assert sorted(states) == sorted(expected)
    incomplete = [d for d, s in states.items() if not s.complete]
    assert incomplete == []
    for doc_id, state in states.items():
        assert sorted(state.ids) == sorted(expected[doc_id]), doc_id
        assert state.sha256 == hashlib.sha256((corpus / doc_id).read_bytes()).hexdigest(), doc_id
    assert [d.id for d in ix.documents()] == sorted(expected)

    in_chroma, in_manifest, in_bm25 = chroma_ids(store), manifest_ids(store), list(store.lexical().ids)
    for ids in (in_chroma, in_manifest, in_bm25):
        duplicates = [i for i, c in Counter(ids).items() if c > 1]
        assert duplicates == []
    wanted = {i for ids in expected.values() for i in ids}
    assert set(in_chroma) == wanted
    assert set(in_manifest) == wanted
    assert set(in_bm25) == wanted
    assert store.count() == len(wanted)
    generation = store.read_manifest()["generation"]
    assert generation == store.generation() == store.lexical().generation
    assert generation != ""


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
        assert not (tmp_path / "app1" / "chroma").exists()  # nothing stored locally but BM25 + manifest

        hits = first.search(OCTOPUS_QUESTION, k=3)
        assert hits[0].document == "c.txt"
        generation = first.store.read_manifest()["generation"]

        # a second app process: its own folder, the same server
        second = rag.open_index(tmp_path / "app2", embedder=embedder, chroma_url=url)
        assert first.store.generation() == generation  # opening did not reset the stamp
        assert [(d.id, d.chunks) for d in second.documents()] == [(d.id, d.chunks) for d in first.documents()]
        assert not (tmp_path / "app2" / "bm25").exists()
        hits2 = second.search(OCTOPUS_QUESTION, k=3)
        assert hits2[0].document == "c.txt"
        assert hits2[0].id == hits[0].id
        lexical = second.store.lexical()
        assert lexical.generation == generation  # rebuilt from the server's chunks
        assert sorted(lexical.ids) == sorted(chroma_ids(first.store))
        assert (tmp_path / "app2" / "bm25" / "ids.json").exists()
        for mode in ALL_MODES:
            assert second.search("Which city has yellow trams and fado?", k=2, mode=mode)[0].document == "h.md"
        assert second.search("Quorvath blackberries", mode="lexical") == []

        # the first process changes a document; the second sees it once its generation check comes round
        (corpus / "a.md").write_text(
            SMALL_CORPUS["a.md"] + " Foxes in the Quorvath forest gorge themselves on blackberries in autumn.\n"
        )
        report = first.ingest(corpus, progress=False)
        assert report.updated == ["a.md"]
        assert sorted(report.unchanged) == sorted(set(SMALL_CORPUS) - {"a.md"})
        new_generation = first.store.read_manifest()["generation"]
        assert new_generation != generation
        time.sleep(2.1)  # the generation check runs at most once per 2 s
        hits = second.search("Quorvath blackberries", k=3, mode="lexical")
        assert hits and hits[0].document == "a.md" and "Quorvath" in hits[0].text
        assert second.store.lexical().generation == new_generation
        assert sorted(second.store.lexical().ids) == sorted(chroma_ids(first.store))
        assert second.search("Quorvath blackberries", k=1)[0].document == "a.md"  # hybrid too

        # a third process started later loads nothing stale either
        third = rag.open_index(tmp_path / "app3", embedder=embedder, chroma_url=url)
        assert third.search("Quorvath blackberries", k=1, mode="lexical")[0].document == "a.md"
        assert third.ingest(corpus, progress=False).unchanged == sorted(SMALL_CORPUS)


# --- 2. interrupted ingestion --------------------------------------------------------------------
# The child ingests with GROUP_CHUNKS=64 and Store.add wrapped to store each group in two halves, cut inside a
# document, printing "ADDED <call> ..." after each half. At call `stop_at` it prints PARTIAL after the first half
# and sleeps: the parent sends the signal then, so the store deterministically holds complete groups, one half
# group with a document cut in two, and nothing of the rest; no commit, so no new generation, BM25 or manifest.

CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    import rag, rag.ingest, rag.store

    index_dir, corpus, stop_at, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    rag.ingest.GROUP_CHUNKS = 64
    original = rag.store.Store.add
    calls = 0
    armed = mode != "update"

    def add(self, chunks, embeddings):
        # store each group in two halves, the cut inside a document, so a kill can leave one incomplete
        global calls
        if not armed:
            return original(self, chunks, embeddings)
        calls += 1
        cut = len(chunks) // 2
        while cut < len(chunks) - 1 and chunks[cut].document != chunks[cut - 1].document:
            cut += 1
        original(self, chunks[:cut], embeddings[:cut])
        print(f"ADDED {calls} {cut} {chunks[cut].document}", flush=True)
        if calls == stop_at:
            print("PARTIAL", flush=True)
            time.sleep(120)  # killed here
        original(self, chunks[cut:], embeddings[cut:])
        print(f"ADDED {calls} {len(chunks)}", flush=True)

    rag.store.Store.add = add
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


def run_child_until(tmp_path: Path, index_dir: Path, corpus: Path, stop_at: int, mode: str, sig: int) -> list[str]:
    """Run CHILD, send `sig` when it prints PARTIAL, return its output lines."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1",
           "OMP_NUM_THREADS": "1"}
    stderr_path = tmp_path / "child.stderr"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(script), str(index_dir), str(corpus), str(stop_at), mode,
             json.dumps(GENERATED_SETTINGS)],
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
            deadline = time.monotonic() + 60
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
            returncode = process.wait(timeout=20)
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
    assert seen[0].startswith("ADDED 1 ") and seen[-1] == "PARTIAL"
    split_document = seen[-2].split()[3]  # the document cut in half by the kill

    ix = rag.open_index(index_dir, embedder=embedder, **GENERATED_SETTINGS)
    before = ix.store.scan()
    assert 0 < ix.store.count() < 600
    assert not (index_dir / "manifest.json").exists()
    incomplete = sorted(d for d, s in before.items() if not s.complete)
    assert incomplete == [split_document]
    complete_before = {d for d, s in before.items() if s.complete}
    assert len(complete_before) > 20  # the first group and half of the second

    report = ix.ingest(corpus, progress=False)
    assert report.repaired == [split_document]
    assert report.failed == [] and report.removed == [] and report.updated == []
    assert sorted(report.unchanged) == sorted(complete_before)  # stored chunks are kept, not re-embedded
    assert sorted(report.added) == sorted({f"doc_{i:03d}.txt" for i in range(300)} - complete_before)
    assert report.embedded == report.chunks - sum(len(before[d].ids) for d in complete_before)
    assert_consistent(ix, corpus, embedder)

    for doc_id, sentence in DISTINCT.items():
        for mode in ALL_MODES:
            assert ix.search(sentence, k=3, mode=mode)[0].document == doc_id, (doc_id, mode)

    again = ix.ingest(corpus, progress=False)
    assert again.embedded == 0 and len(again.unchanged) == 300 and again.repaired == []


UPDATE_DOCUMENTS = 96


def test_update_interrupted_by_ctrl_c_is_repaired(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_generated_corpus(tmp_path / "corpus", n=UPDATE_DOCUMENTS)  # ingested twice by the child
    index_dir = tmp_path / "idx"
    seen = run_child_until(tmp_path, index_dir, corpus, stop_at=3, mode="update", sig=signal.SIGINT)
    assert "REVISED" in seen
    split_document = seen[-2].split()[3]

    ix = rag.open_index(index_dir, embedder=embedder, **GENERATED_SETTINGS)
    old_manifest = ix.store.read_manifest()
    assert len(old_manifest["documents"]) == UPDATE_DOCUMENTS  # from the first, complete run
    before = ix.store.scan()
    shas = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus.iterdir()}
    assert sorted(d for d, s in before.items() if not s.complete) == [split_document]
    current = {d for d, s in before.items() if s.complete and s.sha256 == shas[d]}
    stale = {d for d, s in before.items() if s.complete and s.sha256 != shas[d]}
    missing = set(shas) - set(before)
    assert current and stale and missing  # groups 1-2 revised, group 3 half-done, the rest old

    report = ix.ingest(corpus, progress=False)
    assert report.repaired == [split_document]
    assert sorted(report.unchanged) == sorted(current)
    assert sorted(report.updated) == sorted(stale)
    assert sorted(report.added) == sorted(missing | {split_document})
    assert report.removed == [] and report.failed == []
    assert_consistent(ix, corpus, embedder)
    assert ix.store.read_manifest()["generation"] != old_manifest["generation"]

    last = f"doc_{UPDATE_DOCUMENTS - 1:03d}.txt"
    hits = ix.search(f"Revised edition, with a note on {last.replace('.', ' ')}", k=3, mode="lexical")
    assert hits[0].document == last
    for doc_id, sentence in DISTINCT.items():
        if (corpus / doc_id).exists():
            assert ix.search(sentence, k=3)[0].document == doc_id


def test_update_interrupted_before_commit_is_repaired(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    ix = rag.open_index(tmp_path / "idx", embedder=embedder)
    ix.ingest(corpus, progress=False)
    (corpus / "e.txt").write_text(SMALL_CORPUS["e.txt"] + " Beekeepers in Quorvath smoke the hives with sage.\n")

    def interrupted(self: Store, states: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(Store, "commit", interrupted)
        with pytest.raises(KeyboardInterrupt):
            ix.ingest(corpus, progress=False)

    ix = rag.open_index(tmp_path / "idx", embedder=embedder)
    ix.ingest(corpus, progress=False)
    hits = ix.search("Quorvath sage", k=1, mode="lexical")
    assert hits and hits[0].document == "e.txt"
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


def test_chunking_and_model_changes_rebuild_everything(tmp_path: Path, embedder: Embedder) -> None:
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
    small_ids = set(chroma_ids(small.store))
    assert not small_ids & original_ids
    assert small.store.read_manifest()["settings"]["chunk_tokens"] == "64"
    assert_consistent(small, corpus, embedder)
    assert small.search(OCTOPUS_QUESTION, k=1)[0].document == "c.txt"

    back = rag.open_index(index_dir, embedder=embedder)
    report = back.ingest(corpus, progress=False)
    assert sorted(report.updated) == names and report.unchanged == []
    assert report.embedded == report.chunks == len(original_ids)
    assert set(chroma_ids(back.store)) == original_ids  # chunk ids are stable for the same cut
    assert_consistent(back, corpus, embedder)
    assert back.ingest(corpus, progress=False).embedded == 0

    # another embedding model: the collection is rebuilt, every document embedded again
    other = rag.open_index(index_dir, embedder=RenamedEmbedder(embedder, "another-model"))
    report = other.ingest(corpus, progress=False)
    assert sorted(report.added + report.updated) == names and report.unchanged == []
    assert report.embedded == report.chunks == other.store.count() == len(original_ids)
    assert other.store.read_manifest()["embedding_model"] == "another-model"
    assert_consistent(other, corpus, embedder)
    assert other.search(OCTOPUS_QUESTION, k=1)[0].document == "c.txt"


# --- 4. document filter and MMR -------------------------------------------------------------------


def test_document_filter_and_mmr(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    ix = rag.open_index(tmp_path / "idx", embedder=embedder)
    ix.ingest(corpus, progress=False)
    b_chunks = len(ix.store.chunk_ids_of(["b.md"]))
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
