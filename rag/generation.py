"""Calls to the language model, through litellm (the only module of `rag` that imports it).

    config = LLMConfig(model="openai/gpt-4o-mini")                       # or "ollama/llama3", "anthropic/..."
    config = LLMConfig(model="openai/qwen2", api_base="http://localhost:8000/v1")  # OpenAI-compatible
    complete(messages, config) -> str          # the whole answer
    stream(messages, config) -> Iterator[str]  # text deltas as they arrive
    describe(config) -> str                    # short label for UIs

Every failure, including one raised while a stream is being iterated, becomes `rag.errors.LLMError`
with a one-line message naming the model and what went wrong, and `kind` one of: timeout, rate_limit,
server, auth, connection, context_length, bad_request, unknown. An empty answer is an LLMError too.

litellm quirks this module relies on (litellm 1.110):
  * `num_retries=N` is applied twice for OpenAI-compatible models: the openai SDK retries 408/429/5xx/
    connection errors N times, then litellm's wrapper re-calls N more times (for any API error, 401 and
    400 included). A persistent 500 thus costs 2N+1 requests; N=0 means exactly one.
  * A refused connection surfaces as `litellm.InternalServerError` ("Connection error."), and a stream
    cut off mid-body as `MidStreamFallbackError` (a 5xx class): the real cause is found by walking
    `original_exception` / `__cause__`, which `_kind` does before falling back to the status code.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # else importing litellm fetches a price list

import httpx  # noqa: E402
import litellm  # noqa: E402
import openai  # noqa: E402

from rag.errors import ConfigError, LLMError  # noqa: E402

litellm.suppress_debug_info = True
warnings.filterwarnings("ignore", message=r".*is using the `ReadOnly` qualifier", category=UserWarning)
for _name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

NO_KEY = "sk-no-key"  # OpenAI-compatible local servers ignore the key, but the client insists on one


@dataclass(frozen=True)
class LLMConfig:
    """Which model to call and how. `model` is any litellm model string ("provider/name")."""

    model: str
    api_base: str | None = None
    api_key: str | None = None
    timeout: float = 60.0
    retries: int = 2
    temperature: float = 0.0
    max_tokens: int | None = 800

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise ConfigError("The LLM model name is empty: set it, e.g. openai/gpt-4o-mini.")
        if self.timeout <= 0:
            raise ConfigError(f"The LLM timeout must be positive, not {self.timeout}.")
        if self.retries < 0:
            raise ConfigError(f"The LLM retries must be 0 or more, not {self.retries}.")


def describe(config: LLMConfig) -> str:
    """A short label for UIs: the model, plus the server's host:port when api_base is set."""
    if config.api_base:
        host = urlparse(config.api_base).netloc or config.api_base
        return f"{config.model} @ {host}"
    return config.model


def complete(messages: list[dict[str, Any]], config: LLMConfig) -> str:
    """Return the model's whole answer to `messages`; raise LLMError on any failure or empty answer."""
    try:
        response = litellm.completion(**_kwargs(messages, config, stream=False))
        text = response.choices[0].message.content or ""
    except Exception as exc:  # every litellm/openai/httpx failure, translated below
        raise _translate(exc, config) from exc
    if not text.strip():
        raise LLMError(f"LLM {config.model} returned an empty answer", "unknown")
    return text


def stream(messages: list[dict[str, Any]], config: LLMConfig) -> Iterator[str]:
    """Yield the answer's text deltas as they arrive; raise LLMError on failure, also mid-stream."""
    got_text = False
    try:
        chunks = litellm.completion(**_kwargs(messages, config, stream=True))
        for chunk in chunks:
            delta = chunk.choices[0].delta.content if chunk.choices else None
            if delta:
                got_text = got_text or bool(delta.strip())
                yield delta
    except Exception as exc:
        raise _translate(exc, config) from exc
    if not got_text:
        raise LLMError(f"LLM {config.model} returned an empty answer", "unknown")


def _kwargs(messages: list[dict[str, Any]], config: LLMConfig, *, stream: bool) -> dict[str, Any]:
    api_key = config.api_key if config.api_key is not None or config.api_base is None else NO_KEY
    return {
        "model": config.model,
        "messages": messages,
        "api_base": config.api_base,
        "api_key": api_key,
        "timeout": config.timeout,
        "num_retries": config.retries,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "stream": stream,
        "drop_params": True,  # a provider that lacks e.g. temperature gets the call without it
    }


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
_CONTEXT_WORDS = re.compile(
    r"context_length_exceeded|maximum context length|context window|prompt is too long|too many tokens", re.I
)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


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


def _translate(exc: BaseException, config: LLMConfig) -> LLMError:
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
