"""One typed settings object for the whole package.

Every field can be set by keyword, or from the environment with the `RAG_` prefix (`RAG_INDEX_DIR=.rag`,
`RAG_MODEL=openai/gpt-4o-mini`, `RAG_CHROMA_URL=http://127.0.0.1:8000`, ...), or from a `.env` file.
`fingerprint()` hashes the fields that decide what the index holds; `answer_hash()` hashes everything that
shapes an answer, so each answer can be traced back to the settings that produced it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Mode = Literal["hybrid", "dense", "lexical"]
Fusion = Literal["rrf", "convex"]
Backend = Literal["torch", "onnx", "onnx-int8"]

# Fields that decide the content of the index: changing one rebuilds what it affects.
INDEX_FIELDS = ("embedding_model", "chunk_tokens", "chunk_overlap_sentences")
# Fields that do not shape an answer (where things live, how big a file may be, how fast to embed).
NON_ANSWER_FIELDS = ("index_dir", "corpus", "chroma_url", "api_key", "max_file_mb", "batch_size", "host", "port",
                     "allowed_hosts", "allowed_models", "max_question_chars", "max_history_chars", "max_request_mb",
                     "max_request_ids", "max_upload_files", "server_key", "parse_timeout", "parse_memory_mb")
# a list setting read from the environment as comma-separated names (RAG_ALLOWED_HOSTS=a.example,b.example)
Names = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """All settings of `rag`, with their defaults."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore", frozen=True)

    # where things live
    corpus: Path = Field(Path("seeds"), description="Folder or corpus.jsonl ingested by default.")
    index_dir: Path = Field(Path(".rag"), description="Folder holding the Chroma store, BM25 index and manifest.")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (e.g. http://127.0.0.1:8000); unset means a local store."
    )
    collection: str = Field("rag-chunks", description="Name of the Chroma collection.")

    # documents and chunks
    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are skipped with a message.")
    parse_timeout: float = Field(
        20.0, gt=0, description="Seconds a file's parse may run without progress (a PDF page, or a whole file of "
        "another format), and 20 times that in all; a parse that takes longer is stopped and the file skipped "
        "with a message.")
    parse_memory_mb: int = Field(
        1024, ge=0, description="Address space of the worker process that parses a file, in MB (0: no limit); a "
        "parse that needs more is stopped and the file skipped with a message.")
    embedding_model: str = Field(
        "", description="sentence-transformers model name or path; empty means the bundled all-MiniLM-L6-v2."
    )
    embedding_backend: Backend = Field(
        "onnx-int8", description="What runs the bundled model: torch (sentence-transformers), onnx (onnxruntime, "
        "fp32: the same vectors as torch) or onnx-int8 (onnxruntime, int8-quantised: its own index). Other "
        "embedding models always run on sentence-transformers.",
    )
    chunk_tokens: int = Field(
        128,
        ge=16,
        description="Chunk size in the embedding model's tokens, capped at its max sequence length "
        "(all-MiniLM-L6-v2 was trained on 128-token texts and truncates at 256).",
    )
    chunk_overlap_sentences: int = Field(1, ge=0, le=5, description="Sentences repeated between neighbouring chunks.")
    batch_size: int = Field(64, ge=1, description="Chunks embedded per batch.")

    # retrieval
    mode: Mode = Field("hybrid", description="Retrieval mode: hybrid (dense + BM25, fused), dense or lexical.")
    top_k: int = Field(5, ge=1, le=100, description="Passages returned per question.")
    candidates: int = Field(50, ge=1, description="Candidates taken from each side before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    fusion: Fusion = Field(
        "convex", description="How hybrid mode fuses the two sides: convex (dense_weight x min-max-normalised "
        "dense score + the rest x normalised BM25; the best measured, see eval/README.md) or rrf (reciprocal rank "
        "fusion).",
    )
    dense_weight: float = Field(0.5, ge=0, le=1, description="Weight of the dense side in convex fusion.")
    sentence_weight: float = Field(
        0.7, ge=0, le=1, description="In convex fusion, the weight of a passage's best-matching sentence in its "
        "dense score (the rest: the passage as a whole); 0 scores passages as a whole only.")
    distinct_documents: bool = Field(
        True, description="Put the best passage of each document before any document's second (among the first "
        "30 ranked, while it scores at least half the top score).")
    cover_names: bool = Field(
        True, description="When a search asks for 5 passages or more and none of the first 5 mentions a name of "
        "the question (a capitalised word past its first; at most 12 names), the best later passage that does "
        "(among the first 30, from another document) takes the last of those places whose passage is not the only "
        "one to mention another name: a question about two things whose first passages are all about one.")
    question_words: bool = Field(
        False, description="Let the BM25 side search the question's question words too (what, which, who, did, "
        "how many, ...); by default it leaves them out: they say what kind of answer is wanted, not where it is.")
    mmr: bool = Field(False, description="Re-rank with maximal marginal relevance for diversity.")
    mmr_lambda: float = Field(0.7, ge=0, le=1, description="MMR trade-off: 1 is pure relevance.")

    # answering
    model: str | None = Field(
        None, description="litellm model string (openai/gpt-4o-mini, ollama/llama3, ...); unset answers offline."
    )
    api_base: str | None = Field(None, description="Base URL of an OpenAI-compatible server (vLLM, llama.cpp, ...).")
    api_key: str | None = Field(None, description="API key for the model; provider env vars also work.")
    llm_timeout: float = Field(
        60.0, gt=0, description="Deadline in seconds for a whole LLM call (connecting, every byte of the reply and "
        "the retries): past it, the offline answer is given with a notice.")
    llm_retries: int = Field(2, ge=0, description="Retries of a failed LLM call (litellm num_retries), within the "
                             "deadline.")
    max_tokens: int = Field(800, ge=16, description="Most tokens the LLM may write per answer; a reply cut there "
                            "gets a notice.")
    context_window: int | None = Field(
        None, ge=512, description="The model's context window in tokens: passages that do not fit (with "
        "max_tokens for the reply) are left out. Unset: litellm's model information, else 8192. Also sent to "
        "Ollama as num_ctx.")
    temperature: float = Field(0.0, ge=0, le=2, description="LLM sampling temperature.")
    min_relevance: float = Field(
        0.25,
        description="Refusal floor: when no retrieved passage reaches this cosine similarity to the question, "
        "it is refused without answering (calibrated on eval/seeds.jsonl and SQuAD v2, see eval/README.md).",
    )
    answer_sentences: int = Field(3, ge=1, le=5, description="Most sentences in an offline extractive answer.")
    offline_refusals: bool = Field(
        True, description="Offline, refuse (saying why) when the passages show they do not hold the answer: a name "
        "or figure of the question in no passage, a lost negation, a flipped word, no number where one is asked "
        "for. Off: offline answers refuse only below RAG_MIN_RELEVANCE. On multi-hop questions (HotpotQA) the "
        "first sign also refuses answerable questions whose bridge fact was not retrieved: see eval/README.md.")

    # serving
    host: str = Field("127.0.0.1", description="Address the app binds to.")
    port: int = Field(7860, description="Port the app listens on.")
    allowed_hosts: Names = Field(
        default_factory=list, description="Host names the server answers to besides localhost, 127.0.0.1 and [::1] "
        "(and the --host address), comma-separated; a request with any other Host header gets 400.",
    )
    allowed_models: Names = Field(
        default_factory=list, description="Models a client of the server may choose besides RAG_MODEL, "
        "comma-separated litellm strings; a request naming any other model gets 400.",
    )
    max_question_chars: int = Field(4000, ge=1, description="Longest question (or search query) the server takes.")
    max_history_chars: int = Field(
        32000, ge=0, description="Longest conversation history (all turns' characters) a server request may send.",
    )
    max_request_mb: float = Field(1.0, gt=0, description="Largest request body the server reads, uploads aside.")
    max_request_ids: int = Field(1000, ge=1, description="Most document ids one server request may name.")
    max_upload_files: int = Field(
        20, ge=1, description="Most files in one upload; an upload request may carry this many x RAG_MAX_FILE_MB.",
    )

    server_key: SecretStr | None = Field(
        None, description="Key the server asks for (a Bearer token on /api, /v1 and /mcp; the chat's login "
        "password); required to bind to anything but loopback. Unset on loopback means no key is asked.",
    )

    @field_validator("allowed_hosts", "allowed_models", mode="before")
    @classmethod
    def _names(cls, v: object) -> object:
        if isinstance(v, str):
            return [name.strip() for name in v.split(",") if name.strip()]
        return v

    @field_validator("embedding_model", "embedding_backend", mode="before")
    @classmethod
    def _strip(cls, v: object) -> object:
        return v.strip() if isinstance(v, str) else v

    @field_validator("server_key", mode="before")
    @classmethod
    def _no_blank_key(cls, v: object) -> object:
        return (v.strip() or None) if isinstance(v, str) else v

    def fingerprint(self) -> dict[str, object]:
        """The settings that built the index, as recorded in its manifest."""
        return {name: getattr(self, name) for name in INDEX_FIELDS}

    def answer_hash(self) -> str:
        """A short hash of every setting that shapes an answer."""
        data = self.model_dump(exclude=set(NON_ANSWER_FIELDS), mode="json")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
