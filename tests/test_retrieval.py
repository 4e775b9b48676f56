"""Fusion of the dense and lexical sides: the convex combination (default) and reciprocal rank fusion."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.errors import ConfigError
from rag.retrieval import convex, rrf
from rag.settings import Settings

# Hand-worked: dense cosine and BM25 candidate lists, best first.
DENSE = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
LEXICAL = [("c", 12.0), ("a", 4.0), ("d", 2.0)]


def test_convex_fusion_matches_the_hand_worked_scores() -> None:
    # dense normalised: a 1, b 0.5, c 0; lexical normalised: c 1, a 0.2, d 0
    scores = convex(DENSE, LEXICAL, 0.4)
    assert scores == pytest.approx({"a": 0.4 + 0.6 * 0.2, "b": 0.2, "c": 0.6, "d": 0.0})
    assert sorted(scores, key=lambda c: -scores[c]) == ["c", "a", "b", "d"]
    # rank fusion sees only positions: a (1st and 2nd) beats c (3rd and 1st)
    fused = rrf([[c for c, _ in DENSE], [c for c, _ in LEXICAL]], 60)
    assert max(fused, key=fused.__getitem__) == "a"


def test_convex_fusion_edge_cases() -> None:
    assert convex([], [], 0.4) == {}
    assert convex(DENSE, [], 1.0) == pytest.approx({"a": 1.0, "b": 0.5, "c": 0.0})
    assert convex([("x", 0.3), ("y", 0.3)], [], 0.5) == {"x": 0.5, "y": 0.5}  # all equal: no spread, full credit


def test_an_index_set_to_convex_fusion_ranks_by_it(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "camels.txt").write_text("Camels store fat in their humps, not water. "
                                       "A camel can drink 100 litres of water in ten minutes.")
    (corpus / "otters.md").write_text("# Sea otters\n\nSea otters hold hands while they sleep so they do not drift "
                                      "apart. They use rocks as tools to open shellfish.")
    (corpus / "owls.md").write_text("# Owls\n\nOwls cannot move their eyes, so they turn their heads up to 270 "
                                    "degrees.")
    index = rag.open_index(tmp_path / "index", embedder=embedder, fusion="convex", dense_weight=0.4)
    index.ingest(corpus, progress=False)
    passages = index.search("How much water can a camel drink?", k=3)
    assert passages[0].document == "camels.txt"
    # the best passage on both sides scores 1; every fused score lies in [0, 1], best first
    assert passages[0].score == pytest.approx(1.0)
    assert all(0.0 <= p.score <= 1.0 for p in passages)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert index.settings.answer_hash() != rag.open_index(tmp_path / "other", embedder=embedder,
                                                          fusion="rrf").settings.answer_hash()


def test_the_default_fusion_is_convex_and_rrf_stays_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAG_FUSION", raising=False)
    monkeypatch.delenv("RAG_DENSE_WEIGHT", raising=False)
    assert (Settings(_env_file=None).fusion, Settings(_env_file=None).dense_weight) == ("convex", 0.5)
    monkeypatch.setenv("RAG_FUSION", "rrf")
    assert Settings(_env_file=None).fusion == "rrf"


def test_an_unknown_fusion_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fusion"):
        rag.open_index(tmp_path, fusion="average")
