"""HTML for the chat (pure: strings in, strings out), every piece of it through rag.web.sanitize.

An answer's `[n]` markers become links to `#cite-<turn>-<m>`, the card that shows their passage; the sources
panel holds one `<details>` card per distinct passage (rag.web.cards: overlapping chunks of a document merged),
with that id: the citation numbers, the document title and page ("p. 55"), a link that opens the source (the
original URL, else the file served by the app at /source/..., a PDF at its page: #page=55), the passage with
every quoted sentence in `<mark>`, and the scores in a fold. A small script (`CITATION_SCRIPT`, served from this app as
/rag-assets/citations.js) opens and highlights the passage when a marker is clicked.
A model's Markdown (lists, bold, headings) renders; an extracted answer's quotes are shown as text. A citation
the support check flagged reads `[n]⚠` and its card says so; the claims no passage supports are listed under the
answer.

Untrusted text (the answer, passages, titles, the question, notices) is escaped or rendered by the sanitiser:
no image, no link but to the corpus's own document URLs and in-page anchors, no script.
"""

from __future__ import annotations

import html
import re

from collections.abc import Callable
from typing import Optional

from rag import Answer
from rag.citations import MARKER
from rag.web.cards import Card, card_of, cards
from rag.web.sanitize import clean_html, markdown_html

FileLinks = Optional[Callable[[str], Optional[str]]]

_HARD_WRAP = re.compile(r"(?<!\n)\n(?!\n)")

CSS = """
.source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin: 6px 0; }
.source.active { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.source summary { cursor: pointer; font-weight: 600; }
.source .passage { white-space: pre-wrap; font-size: 0.92em; line-height: 1.45; margin-top: 6px; }
.source mark { background: #ffe58a; color: #111; padding: 0 2px; border-radius: 3px; }
.source .meta { font-size: 0.8em; opacity: 0.75; }
.source details.scores { font-size: 0.8em; opacity: 0.75; margin-top: 4px; }
.source details.scores summary { font-weight: normal; }
.sources-empty { opacity: 0.7; font-style: italic; }
.earlier summary { opacity: 0.8; }
a.cite.unsupported { color: #b54708; text-decoration: underline wavy; }
"""

CITATION_JS = """
document.addEventListener('click', function (event) {
  var link = event.target.closest ? event.target.closest('a[href*="#cite-"]') : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  var id = link.getAttribute('href').split('#')[1];
  var target = document.getElementById(id);
  if (!target) return;
  var parent = target.parentElement ? target.parentElement.closest('details') : null;
  if (parent) parent.open = true;
  target.open = true;
  document.querySelectorAll('.source.active').forEach(function (el) { el.classList.remove('active'); });
  target.classList.add('active');
  target.scrollIntoView({behavior: 'smooth', block: 'center'});
}, true);
"""
CITATION_SCRIPT = '<script src="/rag-assets/citations.js"></script>'

_PLACE = re.compile("\ue000(\\d+)\ue001")  # a citation marker's place while the text goes through Markdown


def corpus_links(answer: Answer) -> set[str]:
    """The only URLs an answer's HTML may link to: its documents' own URLs."""
    return {x.url for x in [*answer.passages, *answer.citations] if x.url}


def answer_html(answer: Answer, turn: int) -> str:
    """The assistant message: the answer with clickable markers, then the mode, the search and any notice."""
    flagged = {c.n for c in answer.citations if not c.supported}

    def place(match: re.Match[str]) -> str:
        return " " + "".join(f"\ue000{n}\ue001" for n in re.findall(r"\d+", match.group(1)))

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        href = f"#cite-{turn}-{card.get(n, n)}"
        if n in flagged:
            return (f'<a href="{href}" class="cite unsupported" '
                    f'title="the cited passage does not support this">[{n}]⚠</a>')
        return f'<a href="{href}" class="cite">[{n}]</a>'

    text = answer.text.replace("\ue000", "").replace("\ue001", "")
    if answer.mode != "llm":  # quoted text, not Markdown structure
        text = re.sub(r"^(\s*)([#>*+=_-])", r"\1\\\2", text, flags=re.M)
        text = re.sub(r"^(\s*\d+)([.)])", r"\1\\\2", text, flags=re.M)
    body = markdown_html(MARKER.sub(place, text), corpus_links(answer))
    card = card_of(answer)  # a marker opens the card that shows its passage
    body = _PLACE.sub(link, body)
    lines = []
    if answer.refused:
        lines.append('<p class="refused">🚫 <strong>Not found in the documents</strong></p>')
        lines.append(f"<blockquote>{body}</blockquote>")
    else:
        lines.append(body)
    unsupported = answer.support.unsupported_claims if answer.support else []
    if unsupported:
        shown = "; ".join(f"“{html.escape(_short(c))}”" for c in unsupported[:5])
        lines.append(f"<p>⚠️ <strong>Not supported by the passages:</strong> {shown}</p>")
    footer = [f"<em>{html.escape(answer.label)}</em>"]
    if answer.partial:
        footer.append("answers only part of the question")
    if answer.standalone_question and answer.standalone_question != answer.question:
        footer.append(f"searched for: “{html.escape(answer.standalone_question)}”")
    lines.append("<p><sub>" + " · ".join(footer) + "</sub></p>")
    if answer.notice:
        lines.append(f"<p>⚠️ {html.escape(answer.notice)}</p>")
    return "\n".join(lines)


def streaming_html(text: str) -> str:
    """A partial answer while it streams: the same sanitiser, no links at all, a cursor at the end."""
    return markdown_html(text + " ▌")


def page_label(pages: list[int]) -> str:
    """"p. 55", "pp. 55-56" or ""."""
    if not pages:
        return ""
    return f"p. {pages[0]}" if pages[0] == pages[-1] else f"pp. {pages[0]}\u2013{pages[-1]}"


def source_link(url: str | None, file_url: str | None, page: int | None) -> tuple[str, str] | None:
    """(href, label) opening a card's source: the original URL when known, else the file served by the app; a
    PDF opens at the page (#page=N)."""
    if url and url.startswith(("http://", "https://")):
        pdf_page = f"#page={page}" if page and url.lower().split("#")[0].endswith(".pdf") else ""
        return url + pdf_page, "original"
    if file_url:
        return file_url + (f"#page={page}" if page else ""), f"open p. {page}" if page else "open the file"
    return None


def citation_html(card: Card, turn: int, open_: bool = True, file_url: str | None = None) -> str:
    """One source card: the title, the page, a link to the source, the passage with every quote of the card
    highlighted, and its scores in a fold."""
    marks = sorted((c.start - card.start, c.end - card.start) for c in card.citations
                   if card.start <= c.start and c.end <= card.end)
    flowing = _HARD_WRAP.sub(" ", card.text)  # same length: the offsets still hold
    parts, cursor = [], 0
    for a, b in marks:
        a = max(a, cursor)
        if b <= a:
            continue
        parts += [html.escape(flowing[cursor:a]), "<mark>", html.escape(flowing[a:b]), "</mark>"]
        cursor = b
    text = "".join(parts) + html.escape(flowing[cursor:])
    pages = card.pages
    where = page_label(pages)
    link = source_link(card.url, file_url, pages[0] if pages else None)
    numbers = "".join(f"[{n}]" for n in card.numbers)
    title = html.escape(card.title or card.document) + (f" · {where}" if where else "")
    meta = [html.escape(card.document)]
    if link is not None:
        meta.append(f'<a href="{html.escape(link[0])}" target="_blank">{html.escape(link[1])}</a>')
    if any(c.inferred for c in card.citations):
        meta.append("cited by matching, not by the model")
    if any(not c.supported for c in card.citations):
        meta.append("⚠ this passage does not support the claim")
    elif any(c.moved_from for c in card.citations):
        meta.append("the model cited another passage; this one supports the claim")
    scores = "".join(
        f"<li>{html.escape(p.id[:8])} · rank {p.rank} · score {p.score:.3f}"
        + (f" · similarity {p.dense_score:.2f}" if p.dense_score is not None else "")
        + (f" · BM25 {p.lexical_score:.2f}" if p.lexical_score is not None else "")
        + f" · chars {p.start}-{p.end}</li>" for p in card.passages)
    fold = f'<details class="scores"><summary>scores</summary><ul>{scores}</ul></details>' if scores else ""
    return (
        f'<details class="source" id="cite-{turn}-{card.numbers[0]}"{" open" if open_ else ""}>'
        f"<summary>{numbers} {title}</summary>"
        f'<div class="meta">{" · ".join(meta)}</div>'
        f'<div class="passage">{text}</div>{fold}</details>'
    )


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sources_html(history: list[tuple[int, Answer]], file_url: FileLinks = None) -> str:
    """The sources panel: the latest answer's cards open, earlier answers' folded below. `file_url(document)`
    gives the app's link to a document's file (None: no file to open)."""
    if not history:
        return '<div class="sources-empty">Sources of the latest answer appear here.</div>'
    links: set[str] = set().union(*(corpus_links(a) for _, a in history))
    turn, latest = history[-1]
    parts = [_answer_sources(latest, turn, True, file_url, links)]
    earlier = [_answer_sources(a, t, False, file_url, links) for t, a in reversed(history[:-1]) if a.citations]
    if earlier:
        parts.append('<details class="earlier"><summary>Earlier answers</summary>' + "".join(earlier) + "</details>")
    return clean_html("".join(parts), links)


def _answer_sources(answer: Answer, turn: int, open_: bool, file_url: FileLinks, links: set[str]) -> str:
    head = f"<p><b>{html.escape(answer.question)}</b></p>"
    if answer.refused:
        return head + '<div class="sources-empty">No passage was relevant enough to answer from.</div>'
    if not answer.citations:
        return head + '<div class="sources-empty">No citation.</div>'
    out = []
    for card in cards(answer):
        own = file_url(card.document) if file_url is not None else None
        html_card = citation_html(card, turn, open_, own)
        if (link := source_link(card.url, own, card.pages[0] if card.pages else None)) is not None:
            links.add(link[0])
        out.append(html_card)
    return head + "".join(out)
