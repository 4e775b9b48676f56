"""Reading a model's reply as it streams: what to show, which claim cites which passage, refused or partial.

    reader = ReplyReader(n_passages=5)
    for delta in llm_stream:
        pieces = reader.feed(delta)          # Text / Cite / SentenceEnd pieces, final once returned
    pieces = reader.close(truncated=False)   # the rest; then reader.refused, .partial, .listed, .no_answer

Every piece is final when returned, so what streams is what stays: text is held back only while it could still
change (a half-written marker, a stop a marker may follow, a line that may open a "Sources:" list, the opening
until it is known not to be a refusal, text after a footnote until its definitions arrive). The reader:

- removes reasoning (rag.reasoning), footnote definitions, reference lists and trailing "Sources:" blocks
  (their passage numbers are kept in `listed`);
- turns every citation style (rag.markers) into a `Cite` of valid 1-based passage numbers, moved before the
  stop when written after it ("claim. [1]" shows as "claim [1]."), adjacent markers merged, invalid numbers
  and empty markers dropped with the blank before them; each Cite carries its claim: the text since the
  previous marker or the sentence start, or, for a marker that opens its sentence ("According to passage [3],
  ..."), the rest of the sentence;
- decides a refusal from the opening sentence (rag.refusals.opens_with_refusal): then nothing is shown;
  a later "the documents do not say ..." makes the answer `partial`;
- on a reply cut at the token limit (`close(truncated=True)`), drops a dangling half marker.

Not handled: citation keys the prompt did not define (author-year), markers inside code blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex

from rag import markers
from rag.reasoning import ReasoningFilter
from rag.refusals import opens_with_refusal, says_not_found


@dataclass(frozen=True)
class Text:
    text: str  # shown as is


@dataclass(frozen=True)
class Cite:
    passages: tuple[int, ...]  # 1-based, as numbered in the prompt, first-use order
    claim: str  # the text this marker cites (markers and Markdown removed)


@dataclass(frozen=True)
class SentenceEnd:
    sentence: str  # the sentence's text without markers
    cited: bool  # it carried at least one valid marker
    complete: bool = True  # False for the last sentence of a reply cut at the token limit


Piece = Text | Cite | SentenceEnd

_BLANKS = re.compile(r"[ \t]*")
_STOP = re.compile(r"(?:[.!?…]+|。)[\"”’'»)\]*_]*")
_SPECIAL = re.compile(r"[\[(【［.!?…。\n \t⁰¹²³⁴⁵⁶⁷⁸⁹]")
_SOURCES = regex.compile(
    r"[ \t]*(?:[*_#>]+[ \t]*)*(?:sources?|references?|citations?|bibliography|footnotes|quellen|références|fuentes)"
    r"[ \t]*[*_]*[ \t]*:|[ \t]*\[\^?\d{1,3}\][ \t]*:|[ \t]*\[\d{1,3}\][ \t]+(?:passage|source|document|doc)\b",
    regex.I)
_LEADING = re.compile(r"(?:^|\b)(?:passages?|sources?|documents?|docs?|citations?)\W*$", re.I)
_MARKDOWN = re.compile(r"[*_`#>]+|^\s*(?:[-*•]|\d+[.)])\s+", re.M)
_OPENING_LIMIT = 600  # characters held at most while deciding whether the reply is a refusal


def claim_text(text: str) -> str:
    """A claim as plain words: Markdown, list bullets and the joining punctuation at its ends removed."""
    return " ".join(_MARKDOWN.sub(" ", text).split()).strip(" ,;:-–—")


class ReplyReader:
    """See the module docstring. One reader per reply."""

    def __init__(self, n_passages: int) -> None:
        self.n = n_passages
        self.reasoning = ReasoningFilter()
        self.buf = ""  # the visible reply so far (kept whole: the "(1)" style looks behind)
        self.pos = 0
        self.out: list[Piece] = []
        self.opening: list[Piece] | None = []  # pieces held until the opening is known not to be a refusal
        self.leading: tuple[tuple[int, ...], list[Piece]] | None = None  # a marker waiting for its claim
        self.sentence = self.segment = self.marked = ""  # text of the sentence / since the last marker
        self.cited = False
        self.line_start = True
        self.mode = "text"  # text | sources (a trailing list, not shown) | footnotes (held until close)
        self.tail_start = 0  # where the sources list or the footnoted text begins in buf
        self.footnotes: dict[int, int] | None = None
        self.refused = self.partial = self.truncated = False
        self.listed: list[int] = []  # passages a trailing sources list names
        self.shown = False  # some answer text was returned

    # -- public ------------------------------------------------------------------------------------
    def feed(self, delta: str) -> list[Piece]:
        self.buf += self.reasoning.feed(delta)
        self._scan(final=False)
        return self._drain()

    def close(self, truncated: bool = False) -> list[Piece]:
        self.truncated = truncated
        self.buf += self.reasoning.close()
        self._scan(final=True)
        if self.mode == "footnotes":
            self._resolve_footnotes()
        if self.mode == "sources":
            self._read_sources(self.buf[self.tail_start:])
        self._end_sentence(complete=not truncated)
        if self.opening is not None:
            self._decide_opening(force=True)
        return self._drain()

    @property
    def no_answer(self) -> bool:
        """Nothing to show: the reply was only reasoning (or cut inside it), or empty."""
        return not self.refused and not self.shown

    # -- scanning ----------------------------------------------------------------------------------
    def _scan(self, final: bool) -> None:
        while self.pos < len(self.buf) and self.mode == "text" and not self.refused:
            if not self._step(final):
                break

    def _step(self, final: bool) -> bool:
        b, i = self.buf, self.pos
        if self.line_start:
            head = _SOURCES.match(b, i, partial=True)
            if head is not None and head.partial and not final:
                return False
            if head is not None and not head.partial:
                self.mode, self.tail_start, self.pos = "sources", i, len(b)
                return True
        group = markers.GROUP.match(b, i, partial=True)
        if group is not None:
            if not final and self._unfinished(group):
                return False
            if group.partial:  # a half marker at the very end of the reply: drop it
                self.pos = len(b)
                return True
            return self._marker(group.group(0), group.end())
        stop = _STOP.match(b, i)
        if stop is not None:
            return self._stop(stop, final)
        if b[i] == "\n":
            run = re.match(r"\n[ \t\n]*", b[i:]).group(0)  # type: ignore[union-attr]
            head = _SOURCES.match(b, i + len(run), partial=True)
            if i + len(run) == len(b) or (head is not None and head.partial):
                if final:
                    self.pos = len(b)  # trailing blank lines (and a half sources header): dropped
                    return True
                return False
            if head is not None:  # the blank lines before a sources list are not shown either
                self.mode, self.tail_start, self.pos = "sources", i + len(run), len(b)
                return True
            self.pos = i + len(run)
            self._text(run)
            self._end_sentence()
            self.line_start = True
            return True
        if b[i] in " \t":
            j = _BLANKS.match(b, i).end()  # type: ignore[union-attr]
            if j == len(b):
                if final:
                    self.pos = j  # trailing blanks: dropped
                    return True
                return False
            self.pos = j
            self._text(b[i:j])
            return True
        nxt = _SPECIAL.search(b, i + 1)
        j = nxt.start() if nxt else len(b)
        self.pos = j
        self._text(b[i:j])
        return True

    def _unfinished(self, group: regex.Match[str]) -> bool:
        """The marker run may still grow: it is half written, or another marker may be arriving ("[1]" then
        "[", "¹" then "˒")."""
        if group.partial or group.end() == len(self.buf):
            return True
        more = markers.GROUP.match(self.buf, group.end(), partial=True)
        return (more is not None and more.partial) or bool(re.fullmatch(r"[ \t]*[˒,ʼ]?[ \t]*", self.buf[group.end():]))

    def _marker(self, text: str, end: int) -> bool:
        if markers.FOOTNOTE.search(text) and self.footnotes is None:
            self.mode, self.tail_start, self.pos = "footnotes", self.pos, len(self.buf)
            return True
        self.pos = end
        self._cite(markers.numbers(text, self.n, self.footnotes))
        return True

    def _stop(self, stop: re.Match[str], final: bool) -> bool:
        b, after = self.buf, stop.end()
        group = markers.GROUP.match(b, after, partial=True)
        if group is not None and not final and self._unfinished(group):
            return False
        if group is not None and not group.partial:
            if markers.FOOTNOTE.search(group.group(0)) and self.footnotes is None:
                self.mode, self.tail_start, self.pos = "footnotes", stop.start(), len(b)  # re-read at close
                return True
            self._cite(markers.numbers(group.group(0), self.n, self.footnotes))  # "claim. [1]" -> "claim [1]."
            self.pos = group.end()
            self._text(stop.group(0))
            self._end_sentence()
            return True
        if after == len(b) and not final:
            return False
        self.pos = after
        self._text(stop.group(0))
        if after == len(b) or b[after].isspace():
            self._end_sentence()
        return True

    # -- pieces ------------------------------------------------------------------------------------
    def _emit(self, piece: Piece) -> None:
        if self.refused:
            return
        if self.leading is not None:
            self.leading[1].append(piece)
        elif self.opening is not None:
            self.opening.append(piece)
        else:
            self.out.append(piece)

    def _text(self, text: str) -> None:
        self._emit(Text(text))
        self.sentence += text
        self.segment += text
        self.marked += text
        self.line_start = self.line_start and not text.strip()
        if self.opening is not None and len(self.marked) > _OPENING_LIMIT:  # a very long opening sentence
            self._decide_opening(sentence=self.marked, force=True)

    def _cite(self, passages: list[int]) -> None:
        if not passages:
            return
        self.marked += markers.canonical(passages)
        self.cited = True
        claim = claim_text(self.segment)
        self.segment = ""
        if self.leading is None and (len(re.findall(r"\w+", claim)) < 3 or _LEADING.search(claim)):
            self.leading = (tuple(passages), [])  # "According to passage [3], ...": its claim follows
        else:
            self._emit(Cite(tuple(passages), claim))

    def _end_sentence(self, complete: bool = True) -> None:
        if self.leading is not None:
            passages, held = self.leading
            self.leading = None
            self._emit(Cite(passages, claim_text(self.segment if self.segment.strip() else self.sentence)))
            for piece in held:
                self._emit(piece)
        sentence, marked = claim_text(self.sentence), self.marked
        if sentence:
            self._emit(SentenceEnd(sentence, self.cited, complete))
            if self.opening is not None:
                self._decide_opening(sentence=marked)
            elif says_not_found(sentence) and not self.refused:
                self.partial = True
        self.sentence = self.segment = self.marked = ""
        self.cited = False

    def _decide_opening(self, sentence: str = "", force: bool = False) -> None:
        held = self.opening or []
        text = "".join(p.text for p in held if isinstance(p, Text))
        words = len(re.findall(r"\w+", claim_text(sentence)))
        preamble = words < 4 or sentence.rstrip(" *_").endswith(":") or sentence.lstrip().startswith("#")
        if sentence and opens_with_refusal(sentence):
            self.refused, self.opening = True, None
            return
        if preamble and not force and len(text) < _OPENING_LIMIT:
            return  # "Sure!", "### Answer", "Here is what the passages say:": read on
        if sentence and says_not_found(sentence):
            self.partial = True
        self.opening = None
        for piece in held:
            self._emit(piece)

    def _drain(self) -> list[Piece]:
        out, self.out = self.out, []
        self.shown = self.shown or any(isinstance(p, Text) and p.text.strip() for p in out)
        return out

    def _resolve_footnotes(self) -> None:
        self.footnotes, body = markers.footnote_definitions(self.buf[self.tail_start:])
        self.buf, self.pos, self.mode = self.buf[: self.tail_start] + body, self.tail_start, "text"
        self._scan(final=True)

    def _read_sources(self, text: str) -> None:
        self.listed = markers.listed_sources(text, self.n)


def normalize(reply: str, n_passages: int, truncated: bool = False) -> tuple[str, ReplyReader]:
    """A whole reply as shown, markers in the prompt's numbering ("[1, 3]", no support check), and its reader."""
    reader = ReplyReader(n_passages)
    pieces = reader.feed(reply) + reader.close(truncated)
    return "".join(p.text if isinstance(p, Text) else markers.canonical(list(p.passages)) if isinstance(p, Cite)
                   else "" for p in pieces), reader
