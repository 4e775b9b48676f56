"""The sources panel's cards (pure): one card per distinct passage of an answer, overlapping passages merged.

    cards(answer) -> [Card]        in order of first citation; each card knows the citation numbers it holds,
                                   the document span it shows (the union of its passages), and its quotes
    card_of(answer) -> {n: first}  the card (named by its first citation number) that shows citation n

Two citations of one passage, or of two chunks of one document that overlap or touch (neighbouring chunks share
a sentence), share a card, so the reader never sees the same text twice. Not here: HTML (rag.web.render).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag import Answer, Citation, Passage


@dataclass
class Card:
    document: str
    title: str
    url: str | None
    start: int  # the span of the document the card shows
    end: int
    text: str  # document_text[start:end]
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)

    @property
    def numbers(self) -> list[int]:
        return sorted({c.n for c in self.citations})

    @property
    def pages(self) -> list[int]:
        """The pages the card's quotes are on (PDFs), else the pages of its passages; empty without pages."""
        quoted = sorted({c.page for c in self.citations if c.page is not None})
        return quoted or sorted({p for x in self.passages for p in (x.page, x.page_end) if p is not None})


def _span(citation: Citation, passage: Passage | None) -> tuple[int, int, str]:
    if passage is not None and passage.start <= citation.start and citation.end <= passage.end:
        return passage.start, passage.end, passage.text
    return citation.start, citation.end, citation.quote


def cards(answer: Answer) -> list[Card]:
    """The answer's citations grouped into cards: per document, spans that overlap or touch are merged."""
    passages = {p.id: p for p in answer.passages}
    per_document: dict[str, list[tuple[int, int, str, Citation, Passage | None]]] = {}
    for citation in answer.citations:
        passage = passages.get(citation.passage_id)
        start, end, text = _span(citation, passage)
        per_document.setdefault(citation.document, []).append((start, end, text, citation, passage))
    result: list[Card] = []
    for spans in per_document.values():
        spans.sort(key=lambda s: (s[0], -s[1]))
        card: Card | None = None
        for start, end, text, citation, passage in spans:
            if card is None or start > card.end:
                card = Card(citation.document, citation.title, citation.url, start, end, text)
                result.append(card)
            elif end > card.end:
                card.text += text[card.end - start:]
                card.end = end
            card.citations.append(citation)
            if passage is not None and all(p.id != passage.id for p in card.passages):
                card.passages.append(passage)
    return sorted(result, key=lambda c: min(c.numbers))


def card_of(answer: Answer) -> dict[int, int]:
    """Citation number -> the number naming its card (the card's first citation)."""
    return {n: card.numbers[0] for card in cards(answer) for n in card.numbers}
