"""The bundled all-MiniLM-L6-v2 on onnxruntime and the `tokenizers` library: an Embedder that never imports torch.

It reproduces sentence-transformers' pipeline for this model: the tokenizer from tokenizer.json, truncating at
`max_seq_length` (sentence_bert_config.json) and padding to the batch's longest text; the transformer; mean
pooling over the attention mask (1_Pooling/config.json); L2 normalisation (the Normalize module). In fp32 its
vectors match sentence-transformers' (cosine >= 0.9999); int8 is a dynamically quantised copy (mean cosine
0.9965). Batches are length-sorted and run one at a time under a lock, so a question asked during a long
ingestion waits for one batch at most. The ONNX files come from rag.onnx_export (exported on first use).

Not handled: other models or pooling modes (CLS, max, weighted), Dense layers after pooling, task prefixes,
GPU execution providers.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Literal

import numpy as np

from rag.errors import ConfigError
from rag.onnx_export import OUTPUT_NAME, bundled_model_dir, ensure_exported

Variant = Literal["fp32", "int8"]


def session_options(threads: int | None = None):  # type: ignore[no-untyped-def]
    """One run at a time on all the cores this process may use, full graph optimisation, errors-only logging."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    affinity = getattr(os, "sched_getaffinity", None)
    opts.intra_op_num_threads = threads or (len(affinity(0)) if affinity else os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return opts


class OnnxEmbedder:
    """The bundled sentence-transformers model on onnxruntime: batched, length-sorted, normalized."""

    def __init__(self, name: str, variant: Variant = "int8", batch_size: int = 64, model_dir: Path | None = None,
                 cache: Path | None = None, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = name
        self.variant = variant
        self.batch_size = batch_size
        folder = model_dir or bundled_model_dir()
        _check_pipeline(folder)
        config = json.loads((folder / "sentence_bert_config.json").read_text())
        self._lower = bool(config.get("do_lower_case", False))
        max_length = min(int(config.get("max_seq_length", 512)), _model_limit(folder))

        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_length)  # counts [CLS] and [SEP], like transformers
        pad_id = self._tokenizer.token_to_id("[PAD]")
        self._tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")  # batch-longest
        self._plain = Tokenizer.from_file(str(folder / "tokenizer.json"))  # offsets: the whole text, no padding
        self._plain.no_truncation()
        self._plain.no_padding()
        self.max_tokens = max_length - self._tokenizer.num_special_tokens_to_add(is_pair=False)

        self.path = ensure_exported(folder, cache)[variant]
        try:
            self._session = ort.InferenceSession(str(self.path), session_options(threads),
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - a damaged cache file: say which and how to recover
            raise ConfigError(f"cannot load the ONNX embedding model {self.path}: {str(exc).splitlines()[0][:200]} "
                              f"(delete {self.path.parent} to export it again)") from exc
        self._inputs = [i.name for i in self._session.get_inputs()]
        self.dimension = int(self._session.get_outputs()[0].shape[-1])
        # Neither tokenizer nor the session is reconfigured after this point; Tokenizer.encode_batch and
        # InferenceSession.run may be called from several threads. The lock runs one batch at a time, so a
        # question waits for one batch of an ingestion, not all of it.
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Normalized float32 vectors, one row per text, in length-sorted batches, one batch under the lock."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for i in range(0, len(texts), self.batch_size):
            batch = order[i : i + self.batch_size]
            chunk = [texts[j].lower() if self._lower else texts[j] for j in batch]
            with self._lock:
                out[batch] = self._embed_batch(chunk)
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64), "attention_mask": mask,
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        hidden = self._session.run([OUTPUT_NAME], {k: feed[k] for k in self._inputs})[0]
        weights = mask.astype(np.float32)
        summed = np.einsum("bld,bl->bd", hidden, weights)
        pooled = summed / np.clip(weights.sum(axis=1, keepdims=True), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """For each text, the character span of each of its tokens (special tokens excluded, no truncation)."""
        if not texts:
            return []
        encodings = self._plain.encode_batch(texts, add_special_tokens=False)
        return [[(int(a), int(b)) for a, b in e.offsets] for e in encodings]


def _check_pipeline(folder: Path) -> None:
    """Refuse a model whose sentence-transformers pipeline is not Transformer, mean Pooling, [Normalize]."""
    modules = json.loads((folder / "modules.json").read_text())
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        raise ConfigError(f"the ONNX backend cannot run the pipeline {kinds} of {folder}: "
                          "use RAG_EMBEDDING_BACKEND=torch")
    pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
    pooling = json.loads((folder / pooling_dir / "config.json").read_text())
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if modes != ["pooling_mode_mean_tokens"]:
        raise ConfigError(f"the ONNX backend does only mean pooling, {folder} uses {modes}")


def _model_limit(folder: Path) -> int:
    """sentence-transformers caps max_seq_length by the tokenizer's and the position embeddings' limits."""
    limits = [512]
    for name, key in (("tokenizer_config.json", "model_max_length"), ("config.json", "max_position_embeddings")):
        try:
            value = json.loads((folder / name).read_text()).get(key)
        except OSError:
            continue
        if isinstance(value, int) and value > 0:
            limits.append(value)
    return min(limits)
