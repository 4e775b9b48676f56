"""What went wrong in a call to the language model, in one line: an exception raised by litellm, openai or httpx
becomes an `LLMError` naming the model and the failure, with `kind` one of timeout, rate_limit, server, auth,
connection, context_length, bad_request, unknown. The api_base URL and the key never appear in the message
(notices are shown to every user of the chat). This module classifies; it makes no calls (rag.generation does).
"""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import urlparse

import httpx
import litellm
import openai

from rag.errors import LLMError

__all__ = ["translate"]


class LLMConfig(Protocol):
    """What a message needs of the call's configuration (rag.generation.LLMConfig has it)."""

    model: str
    api_base: str | None
    api_key: str | None
    timeout: float


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes: litellm's `original_exception`, then `__cause__`/`__context__`."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 12:
        seen.append(current)
        original = getattr(current, "original_exception", None)
        if isinstance(original, BaseException) and original not in seen:
            current = original
        else:
            current = current.__cause__ or current.__context__
    return seen


_TIMEOUTS = (litellm.Timeout, openai.APITimeoutError, httpx.TimeoutException, TimeoutError)
_CONNECTION = (openai.APIConnectionError, httpx.TransportError, ConnectionError)
_SERVER = (litellm.InternalServerError, litellm.ServiceUnavailableError, litellm.BadGatewayError)
# providers word it differently, and litellm recognises only some wordings as ContextWindowExceededError
_CONTEXT_WORDS = re.compile(r"context_length_exceeded|maximum context length|context window|prompt is too long|"
                            r"too many tokens", re.I)


def _status(exc: BaseException) -> int | None:
    return status if isinstance(status := getattr(exc, "status_code", None), int) else None


def _kind(exc: BaseException) -> str:
    """Classify a failure. Order matters: ContextWindowExceededError subclasses BadRequestError,
    litellm.Timeout subclasses APIConnectionError, and connection failures hide inside 5xx classes."""
    chain, status = _chain(exc), _status(exc)
    if isinstance(exc, litellm.ContextWindowExceededError) or _CONTEXT_WORDS.search(str(exc)):
        return "context_length"
    if isinstance(exc, litellm.RateLimitError) or status == 429:
        return "rate_limit"
    if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)) or status in (401, 403):
        return "auth"  # a 403 from an OpenAI-compatible server arrives as a plain litellm.APIError
    if isinstance(exc, (litellm.BadRequestError, litellm.NotFoundError)) or status in (400, 404, 413, 422):
        return "bad_request"
    if any(isinstance(e, _TIMEOUTS) for e in chain):
        return "timeout"
    if any(isinstance(e, _CONNECTION) for e in chain):
        return "connection"
    if isinstance(exc, _SERVER) or (status or 0) >= 500:
        return "server"
    return "unknown"


def _detail(exc: BaseException) -> str:
    """The provider's own message, first line only, without litellm's stacked class-name prefixes."""
    first = (str(exc).strip().splitlines() or [""])[0]
    text = " ".join(re.sub(r"(?:litellm\.)?\w*(?:Error|Exception)(?::\s*|\s+-\s+)", "", first).split())
    return text[:200] + ("..." if len(text) > 200 else "")


def translate(exc: BaseException, config: LLMConfig) -> LLMError:
    """Turn any exception from a call into a one-line LLMError naming the model and the failure."""
    model, kind, status, chain = config.model, _kind(exc), _status(exc), _chain(exc)
    where = "the model's server"  # never the api_base URL: notices are shown to every user of the chat
    detail = _detail(exc)
    if kind == "timeout":
        message = f"LLM {model} timed out after {config.timeout:g}s"
    elif kind == "rate_limit":
        message = f"LLM {model} is rate-limited ({status or 429})"
    elif kind == "auth":
        message = f"LLM {model} rejected the API key ({status or 401})"
    elif kind == "context_length":
        message = f"LLM {model}: the prompt is longer than the model's context window"
    elif kind == "connection" and any(isinstance(e, ConnectionRefusedError) for e in chain):
        message = f"LLM {model}: connection refused at {where}"
    elif kind == "connection" and any(isinstance(e, (httpx.RemoteProtocolError, httpx.ReadError)) for e in chain):
        message = f"LLM {model}: the connection to {where} dropped before the answer was complete"
    elif kind == "connection":
        message = f"LLM {model}: could not connect to {where}" + (f" ({detail})" if detail else "")
    elif kind == "server":
        message = f"LLM {model}: server error ({status or 500})" + (f": {detail}" if detail else "")
    elif kind == "bad_request":
        message = f"LLM {model} rejected the request ({status or 400}): {detail or type(exc).__name__}"
    else:
        message = f"LLM {model} failed: {type(exc).__name__}" + (f": {detail}" if detail else "")
    return LLMError(_redact(" ".join(message.split()), config), kind)


def _redact(message: str, config: LLMConfig) -> str:
    """Take the api_base (URL and host) and the key out of a provider's text quoted in a notice."""
    secrets = [config.api_key, config.api_base, urlparse(config.api_base or "").netloc]
    for secret in sorted((x for x in secrets if x and len(x) >= 4), key=len, reverse=True):
        message = message.replace(secret, "[redacted]")
    return message
