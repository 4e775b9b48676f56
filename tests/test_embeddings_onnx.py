"""The ONNX embedding backends against sentence-transformers: vectors, token offsets, limits, names, threads,
the export (cached, two processes at once), vector spaces never mixed in one index, and no torch on the
query-time paths (`rag search`, `rag ask`, the server's questions)."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

import rag
from rag.errors import ModelMismatchError
from app_server import running_app
from conftest import ROOT, SEEDS
from rag.embeddings import BUNDLED_MODEL, INT8_MODEL, SentenceTransformerEmbedder, default_embedder
from rag.embeddings_onnx import OnnxEmbedder
from rag.onnx_export import ensure_exported, onnx_paths

QUESTION = "Who is Belarus's foreign minister?"
HEAVY = ("torch", "transformers", "sentence_transformers")
SAMPLES = [
    "", "a", "?", " ", "   leading and trailing spaces   ", "\n\ttabs\tand\nnewlines\n",
    "What is the capital of France?", "UPPER CASE AND lower case And Mixed",
    "Die Katze sitzt auf der Matte und schläft in der Sonne.", "L'été dernier, nous sommes allés à Montréal.",
    "Быстрая коричневая лиса перепрыгивает через ленивую собаку.", "東京は日本の首都です。", "我们明天去北京大学参观。",
    "مرحبا بالعالم، كيف حالك اليوم؟", "नमस्ते, आप कैसे हैं?", "emoji 😀🎉👍🏽 and flags 🇫🇷🇯🇵", "👨‍👩‍👧‍👦",
    "café naïve résumé coöperate", "ﬁ ligature and ½ fractions ²", "def f(x): return x ** 2  # python",
    "https://example.org/a/b?q=1&r=2", "3.14159 2,718 1e-9 -42 100%", "!!!???...;;;:::",
    "Zero\u200bwidth\u200bspace and non\u00a0breaking space", "control\x00char\x07s", "A" * 300,
    "Super Bowl 50 was an American football game to determine the champion of the National Football League.",
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """The samples, some joined, some cut, and 20 texts well over the model's 256 tokens."""
    rng = random.Random(7)
    words = " ".join(SAMPLES).split()
    out = list(SAMPLES)
    out += [" ".join(rng.sample(SAMPLES, 3)) for _ in range(20)]
    out += [" ".join(rng.choice(words) for _ in range(rng.randint(300, 700))) for _ in range(20)]
    out += [s[: rng.randint(0, len(s))] for s in rng.sample(SAMPLES, 15)]
    return out


@pytest.fixture(scope="module")
def reference() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(batch_size=16)


@pytest.fixture(scope="module")
def fp32() -> OnnxEmbedder:
    return OnnxEmbedder(BUNDLED_MODEL, "fp32", batch_size=16)


@pytest.fixture(scope="module")
def int8() -> OnnxEmbedder:
    return OnnxEmbedder(INT8_MODEL, "int8", batch_size=16)


def test_fp32_gives_sentence_transformers_vectors(texts: list[str], reference, fp32) -> None:  # type: ignore[no-untyped-def]
    ref, got = reference.embed(texts), fp32.embed(texts)
    assert got.dtype == np.float32 and got.shape == ref.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosine = (got * ref).sum(axis=1)
    assert cosine.min() >= 0.9999, [(texts[i][:40], float(cosine[i])) for i in np.argsort(cosine)[:3]]


def test_int8_stays_close(texts: list[str], reference, int8) -> None:  # type: ignore[no-untyped-def]
    cosine = (int8.embed(texts) * reference.embed(texts)).sum(axis=1)
    assert cosine.mean() >= 0.99 and cosine.min() >= 0.95


def test_offsets_limits_and_truncation_match(texts: list[str], reference, fp32, int8) -> None:  # type: ignore[no-untyped-def]
    assert fp32.token_offsets(texts) == int8.token_offsets(texts) == reference.token_offsets(texts)
    assert fp32.max_tokens == int8.max_tokens == reference.max_tokens == 254
    assert fp32.embed([]).shape == (0, 384) and fp32.token_offsets([]) == []
    long_text = " ".join(f"w{i}" for i in range(400))  # cut after 254 content tokens, like sentence-transformers
    cut = long_text[: fp32.token_offsets([long_text])[0][fp32.max_tokens - 1][1]]
    a, b = fp32.embed([long_text, cut])
    assert float(a @ b) > 0.99999


def test_backends_name_their_vector_space(tmp_path: Path) -> None:
    """torch and onnx (fp32) share one name, so switching between them re-embeds nothing; int8 has its own; any
    other model runs on sentence-transformers whatever the backend."""
    names = {b: default_embedder("", 64, b).name for b in ("torch", "onnx", "onnx-int8")}
    assert names == {"torch": BUNDLED_MODEL, "onnx": BUNDLED_MODEL, "onnx-int8": INT8_MODEL}
    assert default_embedder().name == default_embedder("", 64, rag.Settings().embedding_backend).name
    other = default_embedder("some-org/some-model", 64, "onnx-int8")
    assert other.name == "some-org/some-model"  # the model setting, as given
    with pytest.raises(rag.ConfigError, match="cannot load embedding model 'some-org/some-model'"):
        other.embed(["x"])  # sentence-transformers' loader (offline: the model is not there)
    with pytest.raises(rag.ConfigError, match="embedding_backend"):
        rag.open_index(tmp_path / "index", embedding_backend="tensorflow")


@pytest.mark.parametrize("variant", ["fp32", "int8"])
def test_eight_threads_get_what_one_thread_gets(texts: list[str], variant: str, fp32, int8) -> None:  # type: ignore[no-untyped-def]
    embedder = fp32 if variant == "fp32" else int8
    jobs = [texts[i::8] for i in range(8)]
    expected = [(embedder.embed(job), embedder.token_offsets(job)) for job in jobs]
    results: dict[int, tuple[np.ndarray, list]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(k: int) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                results[k] = (embedder.embed(jobs[k]), embedder.token_offsets(jobs[k]))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    for k in range(8):
        np.testing.assert_allclose(results[k][0], expected[k][0], rtol=0, atol=1e-6)
        assert results[k][1] == expected[k][1]


def test_two_processes_exporting_at_once_export_once(tmp_path: Path, fp32) -> None:  # type: ignore[no-untyped-def]
    """Into an empty cache (RAG_ONNX_CACHE): both processes get whole, working files, one of them exported
    while the other waited, and no temporary file is left."""
    cache = tmp_path / "cache"
    code = "from rag.embeddings import default_embedder; print(default_embedder().embed(['a question?']).shape)"
    env = {**os.environ, "RAG_ONNX_CACHE": str(cache)}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["(1, 384)", "(1, 384)"]
    assert sum(err.count("Exporting the embedding model to ONNX") for _, err in outputs) == 1
    folder = onnx_paths(cache=cache)["fp32"].parent
    assert sorted(p.name for p in folder.iterdir() if p.name != ".export.lock") == [
        "meta.json", "model-int8.onnx", "model.onnx"]
    fresh = OnnxEmbedder(BUNDLED_MODEL, "fp32", cache=cache)
    np.testing.assert_allclose(fresh.embed([QUESTION]), fp32.embed([QUESTION]), atol=1e-5)


def test_switching_backends_keeps_each_index_to_one_vector_space(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    first = rag.open_index(folder, embedding_backend="torch").ingest(SEEDS, progress=False)
    assert first.embedded == first.chunks > 0
    same = rag.open_index(folder, embedding_backend="onnx")  # the same vectors: nothing is embedded again
    assert same.ingest(SEEDS, progress=False).embedded == 0
    assert "Vladimir Makei" in same.search(QUESTION, k=1)[0].text
    same.store.close()
    with pytest.raises(ModelMismatchError, match="RAG_EMBEDDING_BACKEND"):  # other vectors: refused, not mixed
        rag.open_index(folder, embedding_backend="onnx-int8")
    assert "Vladimir Makei" in rag.open_index(folder).search(QUESTION, k=1)[0].text  # no backend chosen: kept as is
    quantised = rag.open_index(folder, embedding_backend="onnx-int8", rebuild=True)  # replaced, on request
    report = quantised.ingest(SEEDS, progress=False)
    assert report.embedded == report.chunks == first.chunks
    assert json.loads((folder / "manifest.json").read_text())["embedding_model"] == INT8_MODEL
    assert "Vladimir Makei" in quantised.search(QUESTION, k=1)[0].text


def _no_torch_run(code: str, index: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` (with INDEX set) in a fresh python with the onnx-int8 backend; it prints the heavy modules."""
    env = {**os.environ, "RAG_EMBEDDING_BACKEND": "onnx-int8"}
    script = (f"import sys\nINDEX = {str(index)!r}\n{code}\n"
              f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_rag_search_and_ask_never_import_torch(tmp_path: Path) -> None:
    ensure_exported()  # the export (which needs torch) is not what this test is about
    cli = ("from rag.cli import main\ntry:\n    main([{args}, '--index', INDEX])\nexcept SystemExit as exc:\n"
           "    assert not exc.code, exc.code\n")
    for args in ("'ingest'", f"'search', {QUESTION!r}", f"'ask', {QUESTION!r}", f"'ask', {QUESTION!r}, '--json'"):
        done = _no_torch_run(cli.format(args=args), tmp_path / "index")
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip().splitlines()[-1] == "HEAVY:", (args, done.stdout[-300:])
    assert "Vladimir Makei" in done.stdout
    api = "import rag\nix = rag.open_index(INDEX)\nprint(ix.ask('And who is its president?').text)"
    done = _no_torch_run(api, tmp_path / "index")
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "HEAVY:", done.stderr[-2000:]


def test_the_server_answers_without_importing_torch(tmp_path: Path) -> None:
    """PYTHONPROFILEIMPORTTIME makes the server log every module it imports (to its log file)."""
    ensure_exported()
    env = {"RAG_EMBEDDING_BACKEND": "onnx-int8", "PYTHONPROFILEIMPORTTIME": "1"}
    with running_app(tmp_path / "index", env) as url:
        answer = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=120)
        assert answer.status_code == 200 and "Makei" in answer.json()["answer"]
        chat = httpx.post(f"{url}/v1/chat/completions", timeout=120,
                          json={"model": "rag", "messages": [{"role": "user", "content": QUESTION}]})
        assert chat.status_code == 200 and "Makei" in chat.json()["choices"][0]["message"]["content"]
    log = next(tmp_path.glob("app-*.log")).read_text()
    imported = {m.group(1) for m in re.finditer(r"^import time:.*\|\s*([\w.]+)$", log, re.M)}
    assert "onnxruntime" in imported and "chromadb" in imported  # the log does list what was imported
    assert not {m.split(".")[0] for m in imported} & set(HEAVY)


def test_a_damaged_cache_file_is_one_clear_error(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    paths = onnx_paths(cache=cache)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not an onnx file")
    with pytest.raises(rag.ConfigError, match=f"cannot load the ONNX embedding model {re.escape(str(paths['int8']))}"):
        OnnxEmbedder(INT8_MODEL, "int8", cache=cache)
