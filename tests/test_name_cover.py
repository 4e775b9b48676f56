"""A question about two things whose first passages are all about one (issue 15): the best later passage that
names the other takes the last of the first five places (rag.retrieval.covering), with the real embedding model."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from conftest import write_corpus
from rag.records import ChunkRecord
from rag.retrieval import covering

PLAYS = {  # made up: seven pages on one playwright and what bears his name, one page on the other writer
    "marlowe.md": "# Edwin Marlowe\n\nEdwin Marlowe was an American playwright known for The Glass Orchard and Salt "
                  "Wives. He was born in 1911 in Ohio and died in 1999 in New York, after a life spent mostly in "
                  "small theatres.\n",
    "marlowe-foundation.md": "# Edwin Marlowe Foundation\n\nThe Edwin Marlowe Foundation runs a summer residence for "
                             "young playwrights on Long Island. The playwright founded it in 1967 with the royalties "
                             "of his longest-running play.\n",
    "glass-orchard.md": "# The Glass Orchard\n\nThe Glass Orchard is a 1948 play by the playwright Edwin Marlowe. It "
                        "follows two sisters who run a failing orchard and quarrel over the life their father "
                        "lived.\n",
    "salt-wives.md": "# Salt Wives\n\nSalt Wives is a play by Edwin Marlowe, first staged in 1955. The playwright "
                     "called it the play of his life; it ran for four hundred nights.\n",
    "reed-marlowe.md": "# Reed Marlowe\n\nReed Marlowe was a theatre owner and the adoptive father of the playwright "
                       "Edwin Marlowe. He lived a long life in the theatre business of Boston.\n",
    "marlowe-at-home.md": "# Marlowe at Home\n\nMarlowe at Home is a 2004 revival that joins two plays by Edwin "
                          "Marlowe. Critics praised how the playwright's late life is shown on stage.\n",
    "marlowe-letters.md": "# Letters of Edwin Marlowe\n\nThe letters of the playwright Edwin Marlowe were published "
                          "in 2010. In them he writes about the long life of a play on the road.\n",
    "quill.md": "# Hester Quill\n\nHester Quill (1860 - 1937) was a Scottish novelist and journalist, remembered for a "
                "book about a boy who never grows up. She was born in Kirriemuir, the ninth child of a weaver, and "
                "wrote for newspapers in Nottingham before moving to London.\n",
}
QUESTION = "Which playwright lived a longer life, Edwin Marlowe or Hester Quill?"


@pytest.fixture(scope="module")
def plays(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """An index of PLAYS; its folder. Ranked by the dense side alone (dense weight 1), the Quill page comes last:
    the seven Marlowe pages are closer to the question's words."""
    root = tmp_path_factory.mktemp("plays")
    index = rag.open_index(root / "index", embedder=embedder, dense_weight=1.0)
    index.ingest(write_corpus(root / "corpus", PLAYS), progress=False)
    return root / "index"


def documents(folder: Path, embedder, question: str = QUESTION, k: int = 5, **settings) -> list[str]:
    index = rag.open_index(folder, embedder=embedder, dense_weight=1.0, **settings)
    return [p.document for p in index.search(question, k=k)]


def test_the_other_name_gets_the_fifth_place(plays: Path, embedder) -> None:
    plain = documents(plays, embedder, cover_names=False)
    assert "quill.md" not in plain and len(plain) == 5  # the case: five pages on Marlowe, none on Quill
    covered = documents(plays, embedder)
    assert covered == plain[:4] + ["quill.md"]
    quill = rag.open_index(plays, embedder=embedder, dense_weight=1.0).search(QUESTION, k=5)[4]
    assert quill.document == "quill.md" and quill.rank == 5 and quill.dense_score is not None
    assert quill.dense_score > 0
    # asked for ten, the first five are the same; the page that lost its place comes next
    ten = documents(plays, embedder, k=10)
    assert ten[:5] == covered and ten[5] == plain[4] and len(ten) == len(set(ten)) == len(PLAYS)


def test_nothing_moves_when_the_first_passages_name_everything(plays: Path, embedder) -> None:
    for question in ("Which plays did Edwin Marlowe write?",
                     "which playwright lived a longer life, edwin marlowe or hester quill?"):  # no capitals: no names
        assert documents(plays, embedder, question) == documents(plays, embedder, question, cover_names=False)


def test_a_name_no_passage_mentions_moves_nothing(plays: Path, embedder) -> None:
    question = "Which playwright lived a longer life, Edwin Marlowe or Zygmunt Wrobel?"
    assert documents(plays, embedder, question) == documents(plays, embedder, question, cover_names=False)


def test_a_shorter_search_is_the_start_of_a_longer_one(plays: Path, embedder) -> None:
    five = documents(plays, embedder)
    assert documents(plays, embedder, k=3) == five[:3]  # fewer than five asked: nothing brought in
    assert documents(plays, embedder, k=4) == documents(plays, embedder, k=4, cover_names=False)


def chunk(cid: str, text: str) -> ChunkRecord:
    return ChunkRecord(cid, text, f"{cid}.md", cid.title(), None, 0, len(text), 0, "", "", 1)


def test_the_passage_moved_down_is_not_the_only_one_naming_another_thing() -> None:
    chunks = {c.id: c for c in (
        chunk("a", "Alpha founded the Guild."), chunk("b", "Alpha wrote plays."), chunk("c", "Alpha lived long."),
        chunk("d", "Alpha and Gamma met."), chunk("e", "Delta was a city Alpha liked."),
        chunk("f", "Alpha again."), chunk("g", "Beta was a poet."))}
    ranked = list("abcdefg")
    # "Delta" is only in e (5th): d goes down instead, and Beta's page comes in last
    assert covering("Did Alpha, Beta or Delta live longer?", ranked[:6], ranked, chunks, None) == \
        ["a", "b", "c", "e", "g", "d"]
    # every name already in the first five: nothing moves
    assert covering("Did Alpha meet Gamma in Delta?", ranked[:6], ranked, chunks, None) == ranked[:6]
    # a name nowhere further down: nothing moves; a pasted text with many names: nothing is looked up
    assert covering("Did Alpha meet Omega?", ranked[:6], ranked, chunks, None) == ranked[:6]
    many = " ".join(f"Name{i}" for i in range(20))
    assert covering(f"Was Beta among {many}?", ranked[:6], ranked, chunks, None) == ranked[:6]
