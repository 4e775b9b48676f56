"""Shared fixtures: one real embedding model per session (the default backend's), a seed index per module,
isolated folders."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
for _name in list(os.environ):  # the user's own settings must not leak into tests
    if _name.startswith("RAG_"):
        del os.environ[_name]

from pathlib import Path  # noqa: E402

import secrets  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rag  # noqa: E402
from rag.embeddings import Embedder, default_embedder  # noqa: E402
from app_server import running_app  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_DATA = ROOT.parent / "shared" / "data"


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_tokens = inner.max_tokens
        self.calls = 0
        self.texts = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed(texts)

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        return self.inner.token_offsets(texts)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """What `rag` embeds with by default (RAG_EMBEDDING_BACKEND's default, exported first if need be)."""
    return default_embedder().loaded


@pytest.fixture()
def counting(embedder: Embedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> rag.Index:
    index = rag.open_index(tmp_path_factory.mktemp("seed-index"), embedder=embedder, corpus=SEEDS)
    report = index.ingest(SEEDS, progress=False)
    assert report.failed == [] and report.chunks > 0
    return index


@pytest.fixture(scope="session")
def keyed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The real app (`rag serve` on the seed corpus, offline answers) on 127.0.0.1 with RAG_SERVER_KEY set:
    (base URL, key). Shared by the OpenAI-API, MCP-over-HTTP and authentication tests."""
    key = f"test-key-{secrets.token_hex(8)}"
    with running_app(tmp_path_factory.mktemp("keyed") / "index", {"RAG_SERVER_KEY": key}) as url:
        yield url, key


# a small corpus of three files (one in a subfolder) for the ingestion tests
ANIMALS = {
    "otters.md": "# Sea otters\n\nSea otters hold hands while they sleep so they do not drift apart. "
    "They use rocks as tools.",
    "camels.txt": "Camels store fat in their humps, not water. A camel can drink 100 litres in ten minutes.",
    "notes/owls.md": "# Owls\n\nOwls cannot move their eyes, so they turn their heads up to 270 degrees.",
}


def write_corpus(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
