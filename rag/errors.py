"""The exception family of `rag`.

    RagError                    base: every error the package raises on purpose
    ├── ConfigError             a setting is invalid (bad model name, bad path, bad value)
    ├── DocumentError           one document cannot be loaded (corrupt, encrypted, binary, too large, not UTF-8)
    ├── IndexError_             the index folder or Chroma store cannot be opened or is inconsistent
    │   └── ModelMismatchError  the index was built with another embedding model (`rag ingest --rebuild` replaces it)
    ├── EmptyQuestionError      the question is empty or whitespace only
    └── LLMError                the language model call failed (timeout, rate limit, 5xx, bad key, refused
                                connection, context too long); `kind` names which, `str()` is one line for a user

Library code raises these; only `rag.cli` turns them into exit codes, and the app into messages.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: the message is one line meant for a user, saying what to do where it can."""


class ConfigError(RagError):
    """A setting is invalid."""


class DocumentError(RagError):
    """A document cannot be read; the message names the reason (the caller adds the path)."""


class IndexError_(RagError):
    """The index cannot be opened or used."""


class ModelMismatchError(IndexError_):
    """The index was built with another embedding model; the message names both and `rag ingest --rebuild`."""

    def __init__(self, message: str, built_with: str = "") -> None:
        super().__init__(message)
        self.built_with = built_with  # the vector space the index records


class EmptyQuestionError(RagError):
    """The question is empty."""

    def __init__(self, message: str = "The question is empty: type a question to ask.") -> None:
        super().__init__(message)


class LLMError(RagError):
    """A language-model call failed. `kind` is one of: timeout, rate_limit, server, auth, connection,
    context_length, bad_request, unknown."""

    def __init__(self, message: str, kind: str = "unknown") -> None:
        super().__init__(message)
        self.kind = kind
