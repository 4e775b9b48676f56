"""HTML for the chat (pure: strings in, strings out), every piece of it through rag.web.sanitize.

An answer's `[n]` markers become links to `#cite-<turn>-<n>`; the sources panel holds one `<details>` element
with that id per citation: the document title, a link to the original URL, the passage text with the quoted
sentence in `<mark>`, and the passage's scores. A small script (`CITATION_SCRIPT`, served from this app as
/rag-assets/citations.js) opens and highlights the passage when a marker is clicked. A model's Markdown (lists,
bold, headings) renders; an extracted answer's quotes are shown as text. A citation the support check flagged
reads `[n]⚠`, and the claims no passage supports are listed under the answer.

Untrusted text (the answer, passages, titles, the question, notices) is escaped or rendered by the sanitiser:
no image, no link but to the corpus's own document URLs and in-page anchors, no script.
"""

from __future__ import annotations

import html
import re

from rag import Answer, Citation
from rag.citations import MARKER
from rag.web.sanitize import clean_html, markdown_html

_HARD_WRAP = re.compile(r"(?<!\n)\n(?!\n)")

CSS = """
.source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin: 6px 0; }
.source.active { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.source summary { cursor: pointer; font-weight: 600; }
.source .passage { white-space: pre-wrap; font-size: 0.92em; line-height: 1.45; margin-top: 6px; }
.source mark { background: #ffe58a; color: #111; padding: 0 2px; border-radius: 3px; }
.source .meta { font-size: 0.8em; opacity: 0.75; }
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
        if n in flagged:
            return (f'<a href="#cite-{turn}-{n}" class="cite unsupported" '
                    f'title="the cited passage does not support this">[{n}]⚠</a>')
        return f'<a href="#cite-{turn}-{n}" class="cite">[{n}]</a>'

    text = answer.text.replace("\ue000", "").replace("\ue001", "")
    if answer.mode != "llm":  # quoted text, not Markdown structure
        text = re.sub(r"^(\s*)([#>*+=_-])", r"\1\\\2", text, flags=re.M)
        text = re.sub(r"^(\s*\d+)([.)])", r"\1\\\2", text, flags=re.M)
    body = markdown_html(MARKER.sub(place, text), corpus_links(answer))
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


def citation_html(citation: Citation, answer: Answer, turn: int, open_: bool = True) -> str:
    passage = next((p for p in answer.passages if p.id == citation.passage_id), None)
    if passage is not None and passage.start <= citation.start and citation.end <= passage.end:
        a, b = citation.start - passage.start, citation.end - passage.start
        flowing = _HARD_WRAP.sub(" ", passage.text)  # same length: the offsets still hold
        text = (html.escape(flowing[:a]) + "<mark>" + html.escape(flowing[a:b]) + "</mark>"
                + html.escape(flowing[b:]))
        score = f"score {passage.score:.3f}" + (
            f" · similarity {passage.dense_score:.2f}" if passage.dense_score is not None else "")
    else:
        text, score = "<mark>" + html.escape(citation.quote) + "</mark>", ""
    title = html.escape(citation.title or citation.document)
    link = (f' · <a href="{html.escape(citation.url)}" target="_blank">original</a>'
            if citation.url and citation.url.startswith(("http://", "https://")) else "")
    inferred = " · cited by matching, not by the model" if citation.inferred else ""
    if not citation.supported:
        inferred += " · ⚠ this passage does not support the claim"
    elif citation.moved_from:
        inferred += " · the model cited another passage; this one supports the claim"
    return (
        f'<details class="source" id="cite-{turn}-{citation.n}"{" open" if open_ else ""}>'
        f"<summary>[{citation.n}] {title}</summary>"
        f'<div class="meta">{html.escape(citation.document)} · chars {citation.start}-{citation.end}'
        f" · {score}{link}{inferred}</div>"
        f'<div class="passage">{text}</div></details>'
    )


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sources_html(history: list[tuple[int, Answer]]) -> str:
    """The sources panel: the latest answer's citations open, earlier answers' folded below."""
    if not history:
        return '<div class="sources-empty">Sources of the latest answer appear here.</div>'
    turn, latest = history[-1]
    parts = [_answer_sources(latest, turn, open_=True)]
    earlier = [_answer_sources(a, t, open_=False) for t, a in reversed(history[:-1]) if a.citations]
    if earlier:
        parts.append('<details class="earlier"><summary>Earlier answers</summary>' + "".join(earlier) + "</details>")
    links = set().union(*(corpus_links(a) for _, a in history))
    return clean_html("".join(parts), links)


def _answer_sources(answer: Answer, turn: int, open_: bool) -> str:
    head = f"<p><b>{html.escape(answer.question)}</b></p>"
    if answer.refused:
        return head + '<div class="sources-empty">No passage was relevant enough to answer from.</div>'
    if not answer.citations:
        return head + '<div class="sources-empty">No citation.</div>'
    return head + "".join(citation_html(c, answer, turn, open_) for c in answer.citations)
