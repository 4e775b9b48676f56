"""rag: a retrieval-augmented question-answering chatbot over your documents.

The public API, also documented in the README:

    import rag
    index = rag.open_index(".rag")
    index.ingest("seeds/")
    index.search("Who is Belarus's foreign minister?")
"""

from __future__ import annotations

import os as _os

_os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
_os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
_os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from rag.documents import Document, LoadFailure  # noqa: E402
from rag.errors import ConfigError, DocumentError, EmptyQuestionError, IndexError_, LLMError, RagError  # noqa: E402
from rag.ingest import IngestReport  # noqa: E402
from rag.answers import Answer, Citation  # noqa: E402
from rag.pipeline import DocumentInfo, Index, ask, default_index, open_index, stream  # noqa: E402
from rag.retrieval import Passage  # noqa: E402
from rag.settings import Settings  # noqa: E402

__all__ = [
    "Answer", "Citation", "ask", "default_index", "stream",
    "ConfigError", "Document", "DocumentError", "DocumentInfo", "EmptyQuestionError", "Index", "IndexError_",
    "IngestReport", "LLMError", "LoadFailure", "Passage", "RagError", "Settings", "open_index",
]
