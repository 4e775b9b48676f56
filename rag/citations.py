"""Citation markers in answer text: parse, validate, renumber (pure: no I/O, no model).

Markers are `[1]`, `[1, 3]`, `[1][3]` (and `[1-3]` as a range). A number that points to no passage is dropped;
a marker left empty disappears with the space before it. The rest are renumbered so the user sees 1, 2, 3 in
order of first use. Each claim (sentence) of the answer is returned with the passages it cites, so the caller
can find the supporting sentence inside each cited passage.

Not handled: footnote styles other than square brackets (`^1`, `(1)`), and citations to passages by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = re.compile(r"\s*\[(\d+(?:\s*[-,–]\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Claim:
    text: str  # the sentence without its markers
    passages: list[int]  # 0-based passage indexes it cites, in order


@dataclass(frozen=True)
class Parsed:
    text: str  # markers rewritten to the new numbers, invalid ones removed
    order: list[int]  # 0-based passage index of citation n (order[n-1])
    claims: list[Claim]
    had_markers: bool  # the raw text had at least one marker, valid or not


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*,\s*", group.strip()):
        if re.fullmatch(r"\d+\s*[-–]\s*\d+", part):
            a, b = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            out.extend(range(a, b + 1) if 0 < b - a < 20 else [a, b])
        elif part:
            out.append(int(part))
    return out


def parse(text: str, n_passages: int) -> Parsed:
    """Validate and renumber the markers in `text` against `n_passages` numbered passages (from 1)."""
    order: list[int] = []
    had = False

    def renumber(match: re.Match[str]) -> str:
        nonlocal had
        had = True
        kept = []
        for n in _numbers(match.group(1)):
            if 1 <= n <= n_passages:
                if n - 1 not in order:
                    order.append(n - 1)
                new = order.index(n - 1) + 1
                if new not in kept:
                    kept.append(new)
        return f" [{', '.join(map(str, kept))}]" if kept else ""

    rewritten = MARKER.sub(renumber, text)
    rewritten = re.sub(r" +([.,;:!?])", r"\1", rewritten).strip()
    claims = []
    for sentence in split_sentences(rewritten):
        cited = [order[n - 1] for m in MARKER.finditer(sentence) for n in _numbers(m.group(1))]
        bare = MARKER.sub("", sentence).strip()
        if bare:
            claims.append(Claim(bare, list(dict.fromkeys(cited))))
    return Parsed(rewritten, order, claims, had)


_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[[\d,\s\-–]+\])+)")


def split_sentences(text: str) -> list[str]:
    """Answer sentences; a marker after the full stop ("claim. [1]") stays with its sentence."""
    text = _AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), text)
    return [p.strip() for p in _SENTENCE_END.split(text) if p.strip()]


def strip_markers(text: str) -> str:
    return re.sub(r" +([.,;:!?])", r"\1", MARKER.sub("", text)).strip()
