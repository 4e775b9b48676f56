"""Splitting a document into chunks (pure: no I/O).

Sentences come from `sentencex` (Wikimedia's rule-based segmenter) inside each paragraph; hard-wrapped lines
inside a paragraph do not end a sentence. Chunks are windows of whole sentences whose length, measured in the
embedding model's own tokens, never exceeds the budget, with `overlap` sentences repeated between neighbours.
A sentence longer than the budget on its own is cut at token boundaries. Every chunk keeps its character
offsets, so `document.text[chunk.start:chunk.end] == chunk.text`, and its id is a hash of the document id and
that span, stable across runs for unchanged text.

A wall of text is bounded: a "sentence" over MAX_SENTENCE_CHARS is cut at spaces before tokenizing, and sentences
are tokenized in batches, so memory does not grow with the length of one sentence or of the document.

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
MAX_SENTENCE_CHARS = 4000  # a longer "sentence" (a wall of text) is cut at spaces before it is tokenized;
# also the most characters a chunk of several sentences spans (text the tokenizer reads as a few [UNK] tokens)
TOKENIZE_BATCH = 256  # sentences tokenized per call, so a huge document never holds all its encodings at once


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
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The span cut into pieces of at most MAX_SENTENCE_CHARS, at the last space before the limit if any."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS)
        cut = cut if cut > start else start + MAX_SENTENCE_CHARS
        pieces.append((start, cut))
        start = cut
        while start < end and text[start] == " ":
            start += 1
    return pieces + ([(start, end)] if start < end else [])


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
        while (last + 1 < len(units) and total + units[last + 1][2] <= max_tokens
               and units[last + 1][1] - units[first][0] <= MAX_SENTENCE_CHARS):
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
    spans = [piece for span in sentence_spans(text) for piece in _pieces(text, *span)]
    offsets = [o for i in range(0, len(spans), TOKENIZE_BATCH)
               for o in token_offsets([text[a:b] for a, b in spans[i : i + TOKENIZE_BATCH]])]
    units: list[tuple[int, int, int]] = []
    for (start, end), tokens in zip(spans, offsets):
        if len(tokens) <= max_tokens:
            units.append((start, end, max(len(tokens), 1)))
            continue
        for i in range(0, len(tokens), max_tokens):
            part = tokens[i : i + max_tokens]
            piece_end = end if i + max_tokens >= len(tokens) else start + part[-1][1]
            units.append((start + part[0][0], piece_end, len(part)))
    return units
