"""rag: a retrieval-augmented question-answering chatbot over your documents.

The public API, also documented in the README:

    import rag
    index = rag.open_index(".rag")
    index.ingest("seeds/")
    index.search("Who is Belarus's foreign minister?")

The package is three rooms: this engine (`rag.*`), the evaluation wing (`rag.eval`: question sets, metrics,
runs, reports, the `rag eval` command) and the web wing (`rag.web`: the server, REST, the chat). The wings use
only the engine's public names; the engine never imports them. Importing `rag` loads no torch, gradio or litellm:
the embedding model loads on first use, litellm on the first LLM call.
"""

from __future__ import annotations

import os as _os

_os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
_os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
_os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from rag.errors import ConfigError, DocumentError, EmptyQuestionError, IndexError_, LLMError, RagError  # noqa: E402
from rag.index import Index, ask, default_index, open_index, stream  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.types import Answer, Citation, Document, DocumentInfo, IngestReport, LoadFailure, Passage  # noqa: E402

__all__ = [
    "Answer", "Citation", "ask", "default_index", "stream",
    "ConfigError", "Document", "DocumentError", "DocumentInfo", "EmptyQuestionError", "Index", "IndexError_",
    "IngestReport", "LLMError", "LoadFailure", "Passage", "RagError", "Settings", "open_index",
]
