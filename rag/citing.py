"""From a reply's pieces (rag.replies) to the cited answer the user sees, checking each claim as it arrives.

    cited = CitedAnswer(checker, passages)
    shown = cited.add(reader.feed(delta))        # text to stream now: markers already checked and numbered
    citations, support = cited.finish(reader.listed)

Each `Cite` piece is checked when it arrives (rag.claims.ClaimChecker): its passages are kept, or moved to a
passage that supports the claim, or kept and flagged. Each (passage, quote, verdict) gets the next number in
order of first use, so three claims citing one passage with three different supporting sentences read
[1] [2] [3], each opening its own sentence; two claims resting on the same sentence share a number. The text
streamed is the final text: numbers are given once and never change.

After the reply: an answer with no marker at all gets *inferred* citations (each claim's best supporting
passage, if one supports it), listed without markers in the text; passages named only by a trailing "Sources:"
list are cited the same way (not inferred: the model named them); in an answer that cites some claims, a claim
without a citation counts as unsupported. `Support` sums it up.

Not handled: a claim spread over several sentences is checked sentence by sentence.
"""

from __future__ import annotations

import re

from rag.claims import ClaimChecker, Verdict
from rag.replies import Cite, Piece, SentenceEnd, Text
from rag.refusals import says_not_found
from rag.types import Citation, Passage, Support


def is_claim(sentence: str) -> bool:
    """A sentence that states something checkable: not a preamble, a heading, a question or a 'not found'."""
    text = sentence.strip()
    return (len(re.findall(r"\w+", text)) >= 4 and not text.endswith((":", "?")) and not text.startswith("#")
            and not says_not_found(text))


class CitedAnswer:
    """Accumulates one answer; see the module docstring."""

    def __init__(self, checker: ClaimChecker, passages: list[Passage]) -> None:
        self.checker, self.passages = checker, passages
        self.text = ""
        self.citations: list[Citation] = []
        self._numbers: dict[tuple, int] = {}
        self.claims: list[tuple[str, bool]] = []  # (claim, supported)
        self.uncited: list[str] = []  # claim sentences without a marker
        self.written = self.written_supported = self.moved = 0

    def add(self, pieces: list[Piece]) -> str:
        out = []
        for piece in pieces:
            if isinstance(piece, Text):
                out.append(piece.text)
            elif isinstance(piece, Cite):
                out.append(self._cite(piece))
            elif isinstance(piece, SentenceEnd) and not piece.cited and piece.complete and is_claim(piece.sentence):
                self.uncited.append(piece.sentence)
        shown = "".join(out)
        self.text += shown
        return shown

    def _cite(self, piece: Cite) -> str:
        verdicts = self.checker.check(piece.claim, [p - 1 for p in piece.passages],
                                      facts_only=says_not_found(piece.claim))
        numbers: list[int] = []
        for verdict in verdicts:
            self.written += 1
            self.written_supported += verdict.supported and verdict.passage == verdict.cited
            self.moved += verdict.passage != verdict.cited
            n = self._number(verdict)
            if n not in numbers:
                numbers.append(n)
        self.claims.append((piece.claim, any(v.supported for v in verdicts)))
        return f" [{', '.join(map(str, numbers))}]" if numbers else ""

    def _number(self, verdict: Verdict, inferred: bool = False) -> int:
        p = self.passages[verdict.passage]
        quote = verdict.quote
        start, end, text = (quote.start, quote.end, quote.text) if quote else (p.start, p.end, p.text)
        moved_from = self.passages[verdict.cited].id if verdict.passage != verdict.cited else None
        key = (verdict.passage, start, end, verdict.supported, inferred, moved_from)
        if key not in self._numbers:
            n = len(self.citations) + 1
            self._numbers[key] = n
            self.citations.append(Citation(n, p.id, p.document, p.title, p.url, text, start, end, inferred,
                                           verdict.supported, moved_from))
        return self._numbers[key]

    def finish(self, listed: list[int] | None = None) -> tuple[list[Citation], Support]:
        """The citations and the support summary, once the reply has ended. `listed`: 1-based passages a
        trailing sources list named."""
        claims = list(self.claims)
        sources = [n - 1 for n in listed or [] if self.passages[n - 1].id not in {c.passage_id for c in self.citations}]
        if self.citations or not self.uncited:
            claims += [(sentence, False) for sentence in self.uncited]  # a partly cited answer
        elif sources:  # cited only by a trailing list: each listed passage on the claims it supports best
            best: dict[int, Verdict] = {}
            for sentence in self.uncited:
                verdicts = self.checker.check(sentence, sources, move=False)
                claims.append((sentence, any(v.supported for v in verdicts)))
                for v in verdicts:
                    if v.passage not in best or v.score > best[v.passage].score:
                        best[v.passage] = v
            for p in sources:
                if p in best:
                    self.written += 1
                    self.written_supported += best[p].supported
                    self._number(best[p])
        else:  # no citation at all: infer one per claim, without a marker in the text
            for sentence in self.uncited:
                verdict = self.checker.infer(sentence)
                claims.append((sentence, verdict is not None))
                if verdict is not None:
                    self._number(verdict, inferred=True)
        unsupported = [claim for claim, ok in claims if not ok]
        support = Support(len(claims), len(claims) - len(unsupported), self.written, self.written_supported,
                          self.moved, unsupported)
        return self.citations, support
