"""Streaming an answer to a client that cannot take back what it was sent (an OpenAI client, a terminal).

The engine streams the model's raw text and then gives the final Answer, whose markers are renumbered (1, 2, 3 in
order of first use, those pointing nowhere dropped). `MarkerRelay` sends each delta already renumbered the same way,
by running the engine's own `citations.parse` on what has arrived, holding back a marker (or the spaces before one)
until it is complete, so that what the client shows is the final text. What cannot be known while streaming (an
LLM failure replaced by the offline answer, a refusal's hint, markers inferred afterwards) is settled by `finish`:
the rest of the final text when what was sent is its beginning; nothing when they differ only in markers; else the
final text after a blank line, with the notice that explains it.

Pure: no I/O. Not handled: taking back text already sent.
"""

from __future__ import annotations

import re

from rag import Answer
from rag.citations import parse, strip_markers

# what may still grow into a marker: trailing spaces, or an open bracket with digits, commas, dashes or spaces
_OPEN_TAIL = re.compile(r"(?:\s*\[[\d\s,\-–]*|\s+)$")


class MarkerRelay:
    def __init__(self, n_passages: int) -> None:
        self.n_passages = n_passages  # markers above this point nowhere and are dropped, as the engine does
        self.raw = ""
        self.sent = ""

    def feed(self, delta: str) -> str:
        """The text to send now for this raw delta (possibly empty)."""
        self.raw += delta
        tail = _OPEN_TAIL.search(self.raw)
        ready = self.raw[: tail.start()] if tail else self.raw
        return self._advance(parse(ready, self.n_passages).text)

    def finish(self, answer: Answer) -> str:
        """The last text to send, so that the client ends up with the final answer."""
        final = answer.text
        if final.startswith(self.sent):
            return self._advance(final)
        if strip_markers(final) == strip_markers(self.sent):
            return ""
        prefix = f"\n\n({answer.notice})" if answer.notice else ""
        self.sent = final
        return f"{prefix}\n\n{final}"

    def _advance(self, text: str) -> str:
        if not text.startswith(self.sent):  # cannot happen with parse's prefix-stable renumbering; never resend
            return ""
        delta, self.sent = text[len(self.sent):], text
        return delta
