"""Reasoning in a model's reply: what is thinking (never shown) and what is the answer (pure: text in, text out).

Reasoning models write their thinking into the reply itself, in every shape seen in the wild:

    <think> ... </think> answer          Qwen3, DeepSeek-R1 through vLLM/Ollama (also <thinking>, <reasoning>)
    <think>\\n\\n</think> answer          an empty block (thinking switched off)
    ... reasoning ... </think> answer    the chat template opened <think> in the prompt: only the closing tag
    <think> ... (cut at the token limit)  an unclosed block: there is no answer at all
    <answer> ... </answer>               an answer wrapper (tags dropped, text kept)

`ReasoningFilter` removes all of it incrementally, so a streamed reply never shows a line of thinking:
`feed(delta)` returns the text that is safe to show now, `close()` the rest. Text that opens like thinking
("Okay, so the user...", "Let me check...") is held back until a `</think>` proves it was (and it is dropped)
or the reply ends without one (and it is shown: holding costs time, showing is irreversible). A lone
`</think>` after text already shown is removed, and the text before it stays. `strip_reasoning(text)` does
the same for a whole reply. litellm's non-streaming path removes a leading block itself; this module is the
one place that handles every other case, identically for both paths.
"""

from __future__ import annotations

import re

_TAGS = "think|thinking|reasoning|thought"
_OPEN = re.compile(rf"<\s*(?:{_TAGS})\s*>", re.I)
_CLOSE = re.compile(rf"<\s*/\s*(?:{_TAGS})\s*>", re.I)
_ANY_TAG = re.compile(rf"<\s*/?\s*(?:{_TAGS}|answer)\s*>", re.I)
_ANSWER_TAG = re.compile(r"<\s*/?\s*answer\s*>", re.I)
# how thinking opens when the <think> tag itself is missing (it was in the prompt's chat template)
_OPENERS = re.compile(
    r"\s*(?:okay|ok|alright|all right|hmm+|let me|let's (?:see|check|think|look)|so,? (?:the|i|we)|"
    r"the user (?:is |wants|asks|asked)|i need to|we need to|first,? (?:i|let)|wait)\b", re.I)
_DECIDE_AFTER = 40  # characters of the reply's opening needed to tell thinking from an answer


def _tag_prefix_at_end(text: str) -> int:
    """Where a possibly unfinished tag ('<', '</thi', ...) starts at the end of `text`, else len(text)."""
    cut = text.rfind("<")
    if cut < 0 or ">" in text[cut:]:
        return len(text)
    tail = re.sub(r"\s+", "", text[cut:].lower())
    names = [f"<{name}>" for name in _TAGS.split("|") + ["answer"]]
    names += [f"</{name}>" for name in _TAGS.split("|") + ["answer"]]
    return cut if any(name.startswith(tail) for name in names) and len(text) - cut < 20 else len(text)


class ReasoningFilter:
    """Incremental: feed the raw reply in pieces, get back only the answer's text."""

    def __init__(self) -> None:
        self.state = "start"  # start -> (block | maybe) -> answer
        self.pending = ""  # raw text not decided yet
        self.shown_any = False  # some answer text was returned
        self.unfinished = False  # the reply ended inside a reasoning block: it has no answer
        self.had_reasoning = False

    def feed(self, delta: str) -> str:
        self.pending += delta
        return self._run(final=False)

    def close(self) -> str:
        return self._run(final=True)

    def _run(self, final: bool) -> str:
        out: list[str] = []
        while True:
            before = (self.state, len(self.pending))
            if self.state == "start":
                self._start(final)
            elif self.state == "block":
                self._block(final)
            elif self.state == "maybe":
                self._maybe(final)
            else:
                out.append(self._answer(final))
            if (self.state, len(self.pending)) == before:
                break
        text = "".join(out)
        if not self.shown_any:
            text = text.lstrip()
        self.shown_any = self.shown_any or bool(text)
        return text

    def _start(self, final: bool) -> None:
        head = self.pending.lstrip()
        opening = _OPEN.match(head)
        if opening:
            self.pending, self.state, self.had_reasoning = head[opening.end():], "block", True
        elif head.startswith("<") and _tag_prefix_at_end(head) == 0 and not final:
            return  # "<thi": wait for the rest of the tag
        elif len(head) < _DECIDE_AFTER and "\n" not in head and not final and not _CLOSE.search(head):
            return
        elif _OPENERS.match(head) or _CLOSE.search(head[:_DECIDE_AFTER + 20]):
            self.state = "maybe"
        else:
            self.state = "answer"

    def _block(self, final: bool) -> None:
        closing = _CLOSE.search(self.pending)
        if closing:
            self.pending, self.state = self.pending[closing.end():].lstrip(), "answer"
        else:
            keep = self.pending[-20:]  # a closing tag may be arriving in pieces
            self.pending = "" if final else keep
            if final:
                self.unfinished = True

    def _maybe(self, final: bool) -> None:
        closing = _CLOSE.search(self.pending)
        if closing:
            self.had_reasoning = True
            self.pending, self.state = self.pending[closing.end():].lstrip(), "answer"
        elif final:
            self.state = "answer"  # it was not thinking after all: show it

    def _answer(self, final: bool) -> str:
        text = self.pending
        opening = _OPEN.search(text)
        if opening:  # a reasoning block in the middle: show what came before it
            self.pending, self.state, self.had_reasoning = text[opening.end():], "block", True
            return _ANSWER_TAG.sub("", _CLOSE.sub("", text[: opening.start()]))
        cut = len(text) if final else _tag_prefix_at_end(text)
        self.pending = text[cut:]
        return _ANY_TAG.sub("", text[:cut])


def strip_reasoning(text: str) -> tuple[str, bool]:
    """The answer part of a whole reply, and whether the reply ended inside reasoning (so has no answer)."""
    reasoning = ReasoningFilter()
    shown = reasoning.feed(text) + reasoning.close()
    return shown.strip(), reasoning.unfinished
