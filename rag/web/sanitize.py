"""Safe HTML from untrusted text: model output, document text, anything a client sent.

    markdown_html(text, links=())   Markdown -> safe HTML (markdown-it-py with raw HTML off, then clean_html)
    clean_html(fragment, links=())  HTML -> the same HTML minus anything off the allow-list (nh3, i.e. ammonia)

What survives: text formatting (paragraphs, lists, emphasis, code, headings, quotes, tables), the chat's own
structure (citation links and the sources panel's <details>, with their classes and ids), and links whose
target is an in-page anchor (`#...`) or one of `links`, the corpus's own document URLs (http or https only).
Everything else goes: images (a Markdown image becomes its alt text), raw HTML in Markdown (shown as text),
scripts, event handlers, styles, forms, frames, and every other link (its text stays, the href goes), so
rendering an answer or a passage never makes the browser fetch a URL or run code.

The chat shows this HTML as it is (its Chatbot has render_markdown=False), and `inert(html)` makes it safe to give
to a gr.Markdown (gr.HTML is not used: in Gradio 6 it evaluates strings as JavaScript, which the page's policy
forbids): one line in one <div>, which Markdown takes as a raw HTML block and does not read.

Not here: building the chat's messages (rag.web.render), the Content-Security-Policy (rag.web.middleware).
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "hr", "b", "strong", "i", "em", "u", "s", "del", "code", "pre", "kbd", "sub", "sup", "mark", "small",
    "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    "a", "span", "div", "details", "summary",
}
# the classes the chat's own HTML uses; any other class is dropped (so no Gradio or mermaid hook can be named)
CLASSES = {
    "a": {"cite"},
    "details": {"source", "earlier", "scores"},
    "div": {"meta", "passage", "sources-empty", "answer", "footer", "notice"},
    "span": {"meta", "label", "notice", "refused"},
    "p": {"refused"},
}
_ATTRIBUTES = {"a": {"href"}, "details": {"id", "open"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
_ID = re.compile(r"cite-\d+-\d+")
# content dropped with its tag (everything else off the list keeps its text)
_DROP_WITH_CONTENT = {"script", "style", "template", "iframe", "object", "embed", "noscript", "textarea",
                      "select", "svg", "math"}


def clean_html(fragment: str, links: Collection[str] = ()) -> str:
    """`fragment` with only the allowed tags, classes and attributes; hrefs only to `links` or `#anchors`."""
    allowed = set(links)

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "href":
            return value if (value.startswith("#") and len(value) > 1) or value in allowed else None
        if attribute == "id":
            return value if _ID.fullmatch(value) else None
        return value

    return nh3.clean(
        fragment, tags=TAGS, clean_content_tags=_DROP_WITH_CONTENT, attributes=_ATTRIBUTES, attribute_filter=keep,
        allowed_classes=CLASSES, url_schemes={"http", "https"}, link_rel="noopener noreferrer nofollow",
        tag_attribute_values={"a": {"target": {"_blank"}}}, strip_comments=True,
    )


def _image_as_text(renderer: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or [])
    return html.escape(alt)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_as_text)
    return md


_MD = _markdown()


def markdown_html(text: str, links: Collection[str] = ()) -> str:
    """Markdown -> safe HTML. Raw HTML in `text` is shown as text; images become their alt text; links stay
    only when they point to `links` (the corpus's URLs) or an in-page anchor."""
    return clean_html(_MD.render(text), links)


def inert(fragment: str, css_class: str = "") -> str:
    """Safe HTML wrapped for a gr.Markdown: one <div> on one line (newlines as character references), which
    CommonMark and marked take as one raw HTML block, so no text inside is ever read as Markdown."""
    one_line = fragment.replace("\r", "&#13;").replace("\n", "&#10;")
    attribute = f' class="{html.escape(css_class)}"' if css_class else ""
    return f"<div{attribute}>{one_line}</div>"


def text_html(text: str) -> str:
    """Plain text as HTML (escaped, nothing interpreted)."""
    return html.escape(text)
