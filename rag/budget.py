"""Fitting the answer prompt into the model's context window.

    passages, dropped = fit(question, passages, config)

The prompt's size is counted in the model's own tokens (litellm's token counter, through rag.generation) and
must leave room for the reply (`max_tokens`, RAG_MAX_TOKENS) inside the window (`RAG_CONTEXT_WINDOW`, else
litellm's model information, else 8,192 tokens). While it does not fit, the lowest-ranked passage is left out;
a single passage that still does not fit is cut to the characters that fit. `dropped` counts the
passages left out, for a notice. The passages given to the model are the ones the answer cites from.

Not handled: the conversation history (rewritten into one question before this) and tool schemas (none).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rag import prompts
from rag.types import Passage

if TYPE_CHECKING:
    from rag.generation import LLMConfig

MARGIN = 64  # tokens kept free for the provider's own message framing


def fit(question: str, passages: list[Passage], config: LLMConfig) -> tuple[list[Passage], int]:
    from rag import generation

    limit = generation.context_window(config) - (config.max_tokens or 0) - MARGIN
    code = "0" * 8  # the size of a real fence code; the code itself does not matter for counting

    def size(kept: list[Passage]) -> int:
        return generation.count_tokens(prompts.answer_messages(question, kept, code=code), config)

    kept = list(passages)
    while len(kept) > 1 and size(kept) > limit:
        kept.pop()
    if kept and size(kept) > limit:  # one passage alone is too long: keep the share that fits
        first = kept[0]
        for _ in range(8):
            over = size([first]) - limit
            if over <= 0:
                break
            keep = max(0, len(first.text) - int(over * 4.5) - 16)
            first = replace(first, text=first.text[:keep], end=first.start + keep)
        kept = [first] if first.text.strip() else []
    return kept, len(passages) - len(kept)
