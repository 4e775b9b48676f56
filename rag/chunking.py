"""Splitting a document into chunks (pure: no I/O).

Sentences come from `sentencex` (Wikimedia's rule-based segmenter) inside each paragraph; hard-wrapped lines
inside a paragraph do not end a sentence. Chunks are windows of whole sentences whose length, measured in the
embedding model's own tokens, never exceeds the budget, with `overlap` sentences repeated between neighbours.
A sentence longer than the budget on its own is cut at token boundaries. Every chunk keeps its character
offsets, so `document.text[chunk.start:chunk.end] == chunk.text`, and its id is a hash of the document id and
that span, stable across runs for unchanged text.

Memory and time stay proportional to the text: a paragraph longer than PIECE_CHARS (a 15 MB file with no
newline, say) is cut at whitespace into pieces before it is segmented and tokenized, so the tokenizer never sees
more than one piece at a time; sentences are tokenized a stretch at a time; a unit longer than the budget times
MAX_CHARS_PER_TOKEN characters (a run the tokenizer reads as one unknown token) is cut by characters.

Not handled: tables and code blocks are treated as prose; languages other than English use English rules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from sentencex import segment

from rag.types import Chunk

TokenOffsets = Callable[[list[str]], list[list[tuple[int, int]]]]

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
PIECE_CHARS = 20_000  # longest stretch of text segmented and tokenized at once
MAX_CHARS_PER_TOKEN = 16  # a chunk of n tokens spans at most n x this many characters


def chunk_id(document_id: str, start: int, end: int, text: str) -> str:
    digest = hashlib.sha256(f"{document_id}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()
    return digest[:32]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, whitespace trimmed, in order."""
    spans: list[tuple[int, int]] = []
    for p_start, p_end in _paragraph_spans(text):
        paragraph = text[p_start:p_end].replace("\n", " ")  # same length: offsets survive
        cursor = 0
        for sentence in segment("en", paragraph):
            piece = sentence.strip()
            if not piece:
                continue
            found = paragraph.find(piece, cursor)
            if found < 0:  # the segmenter changed the text: keep the rest of the paragraph whole
                rest = paragraph[cursor:].strip()
                if rest:
                    found = paragraph.find(rest, cursor)
                    spans.append((p_start + found, p_start + found + len(rest)))
                break
            spans.append((p_start + found, p_start + found + len(piece)))
            cursor = found + len(piece)
    return spans


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        spans += _pieces(text, start, match.start())
        start = match.end()
    spans += _pieces(text, start, len(text))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The span cut into stretches of at most PIECE_CHARS, at the last whitespace before the limit if any."""
    pieces = []
    while end - start > PIECE_CHARS:
        cut = start + PIECE_CHARS
        space = max(text.rfind(" ", start + PIECE_CHARS // 2, cut), text.rfind("\n", start + PIECE_CHARS // 2, cut))
        cut = space + 1 if space > 0 else cut
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def chunk_text(
    document_id: str,
    text: str,
    token_offsets: TokenOffsets,
    max_tokens: int,
    overlap: int = 1,
) -> list[Chunk]:
    """Cut `text` into sentence windows of at most `max_tokens` tokens with `overlap` sentences of overlap."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    units = _units(text, token_offsets, max_tokens)  # (start, end, n_tokens), each within the budget
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last, total = first, units[first][2]
        while last + 1 < len(units) and total + units[last + 1][2] <= max_tokens:
            last += 1
            total += units[last][2]
        start, end = units[first][0], units[last][1]
        piece = text[start:end]
        chunks.append(Chunk(chunk_id(document_id, start, end, piece), document_id, piece, start, end, len(chunks)))
        if last + 1 >= len(units):
            break
        first = max(last + 1 - overlap, first + 1)
    return chunks


def _units(text: str, token_offsets: TokenOffsets, max_tokens: int) -> list[tuple[int, int, int]]:
    """Sentences with their token counts; a sentence over the budget is cut at token boundaries."""
    units: list[tuple[int, int, int]] = []
    for spans in _stretches(sentence_spans(text)):
        units += _token_units(text, spans, token_offsets, max_tokens)
    return units


def _stretches(spans: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Consecutive spans grouped into stretches of about PIECE_CHARS characters."""
    groups: list[list[tuple[int, int]]] = [[]]
    size = 0
    for span in spans:
        if size >= PIECE_CHARS:
            groups.append([])
            size = 0
        groups[-1].append(span)
        size += span[1] - span[0]
    return groups


def _token_units(text: str, spans: list[tuple[int, int]], token_offsets: TokenOffsets,
                 max_tokens: int) -> list[tuple[int, int, int]]:
    units: list[tuple[int, int, int]] = []
    for (start, end), tokens in zip(spans, token_offsets([text[a:b] for a, b in spans])):
        if len(tokens) <= max_tokens:
            units += _by_characters(start, end, max(len(tokens), 1), max_tokens)
            continue
        for i in range(0, len(tokens), max_tokens):
            part = tokens[i : i + max_tokens]
            piece_end = end if i + max_tokens >= len(tokens) else start + part[-1][1]
            units += _by_characters(start + part[0][0], piece_end, len(part), max_tokens)
    return units


def _by_characters(start: int, end: int, tokens: int, max_tokens: int) -> list[tuple[int, int, int]]:
    """The unit, or its character slices when it is longer than its tokens can span (each slice a full unit)."""
    limit = max_tokens * MAX_CHARS_PER_TOKEN
    if end - start <= limit:
        return [(start, end, tokens)]
    return [(a, min(a + limit, end), max_tokens) for a in range(start, end, limit)]
