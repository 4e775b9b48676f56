"""Citation markers in every style models write, and the passage numbers each one means (pure: no I/O).

The prompt asks for `[1]` or `[1, 3]`. Models also write, and this module reads:

    [1] [1, 3] [1,4] [ 2 ] [1][3] [1-3] [3–4] [[1]] ［1］        brackets, ranges, doubled and full-width
    [Passage 1] [Passages 1 and 5] (Passage 2) (see passage 2)   by the prompt's word for a passage
    [Source 1] (Source 2) [source: 1] [doc4] [citation:4]       by other RAG prompts' words
    【5】 【2†source】 (【4:0†source】 points to no passage)       OpenAI Assistants / file search
    ¹ ⁴ ¹˒³ ¹³ (¹³ with fewer than 13 passages is 1 and 3)       superscripts
    (1) (2)            only right before a stop, a comma or the end of a line (not "(1) first, (2) second")
    [^1]               a footnote: its number is mapped through the reply's "[^1]: Passage 4" definitions

`GROUP` matches a run of adjacent markers (one claim's citation); `numbers(text, n_passages)` turns the text
of a group into the valid passage numbers (1-based, first-use order, out of range dropped). `FOOTNOTE` finds
footnote markers, which need the reply's definitions before they mean anything (see rag.replies).

After the answer, `footnote_definitions` reads "[^1]: Passage 4" lines and `listed_sources` the passages a
trailing "Sources:" / "References:" list names ("Sources: [1], [2]", "1. Passage 2 (Normans)", "[1] Passage 3").

Not read: author-year keys ("(Smith, 2020)"), and numbers written in words ("the second passage").
"""

from __future__ import annotations

import regex

_NUM = r"\d{1,3}"
_NUMS = rf"{_NUM}(?:\s*(?:,|;|-|–|—|and|&|\+)\s*{_NUM})*"
_WORD = r"(?:passages?|sources?|docs?|documents?|citations?|refs?|references?|chunks?|contexts?|excerpts?)"
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPER = f"[{_SUPERSCRIPTS}]+(?:[˒,ʼ]\\s*[{_SUPERSCRIPTS}]+)*"

STYLES = [
    rf"\[{{1,2}}\s*(?:{_WORD}\s*[:#]?\s*)?{_NUMS}\s*\]{{1,2}}",  # [1] [1, 3] [[1]] [Passage 1] [doc4] [citation:4]
    rf"［\s*{_NUMS}\s*］",  # full-width brackets
    rf"【\s*{_NUMS}\s*(?:†[^】\n]{{0,24}})?】",  # 【5】 【2†source】
    r"【\s*\d+\s*:\s*\d+\s*(?:†[^】\n]{0,24})?】",  # 【4:0†source】: message/search indexes, no passage
    rf"\(\s*(?:see\s+|cf\.?\s+)?{_WORD}\s*[:#]?\s*{_NUMS}\s*\)",  # (Passage 2) (see passage 2) (Source 2)
    rf"(?<=\S[ \t]*)\(\s*{_NUMS}\s*\)(?=[ \t]*(?:[.!?;,:]|\n|$))",  # (1) before a stop or the end of a line
    _SUPER,
    r"\[\^\s*\d{1,3}\s*\]",  # [^1] footnote
]
MARKER = regex.compile("|".join(f"(?:{style})" for style in STYLES), regex.I | regex.V1)
# a run of adjacent markers, with the blanks before it (they are rewritten as exactly one space)
GROUP = regex.compile(rf"[ \t]*(?:{MARKER.pattern})(?:[ \t]*(?:{MARKER.pattern}))*", regex.I | regex.V1)
# the same styles without the "(1)" context checks, to read the numbers of a group already found in context
_READ = regex.compile(MARKER.pattern.replace("(?<=\\S[ \\t]*)", "").replace("(?=[ \\t]*(?:[.!?;,:]|\\n|$))", ""),
                      regex.I | regex.V1)
FOOTNOTE = regex.compile(r"\[\^\s*(\d{1,3})\s*\]")
_SUPER_DIGITS = str.maketrans(_SUPERSCRIPTS, "0123456789")


def _expand(group: str) -> list[int]:
    """'1, 3-5 and 7' -> [1, 3, 4, 5, 7] (a range over 20 is taken as its two ends)."""
    out: list[int] = []
    for part in regex.split(r"\s*(?:,|;|and|&|\+)\s*", group.strip()):
        ends = regex.split(r"\s*[-–—]\s*", part)
        if len(ends) == 2 and all(e.isdigit() for e in ends):
            a, b = int(ends[0]), int(ends[1])
            out.extend(range(a, b + 1) if 0 < b - a <= 20 else [a, b])
        elif part.isdigit():
            out.append(int(part))
    return out


def marker_numbers(marker: str, n_passages: int, footnotes: dict[int, int] | None = None) -> list[int]:
    """The passage numbers one marker's text cites (before validation against `n_passages`)."""
    if regex.search(r"【\s*\d+\s*:\s*\d", marker):
        return []
    foot = FOOTNOTE.fullmatch(marker.strip())
    if foot:
        n = int(foot.group(1))
        return [(footnotes or {}).get(n, n)]
    if marker.strip()[0] in _SUPERSCRIPTS:
        out = []
        for run in regex.split(r"[˒,ʼ]\s*", marker.strip()):
            digits = run.translate(_SUPER_DIGITS)
            value = int(digits)
            out.extend([value] if 1 <= value <= n_passages or len(digits) == 1 else [int(d) for d in digits])
        return out
    found = regex.search(_NUMS, marker)
    return _expand(found.group(0)) if found else []


def numbers(group: str, n_passages: int, footnotes: dict[int, int] | None = None) -> list[int]:
    """The valid passage numbers (1..n_passages) a run of markers cites, in order, without repeats."""
    out: list[int] = []
    for match in _READ.finditer(group):
        for n in marker_numbers(match.group(0), n_passages, footnotes):
            if 1 <= n <= n_passages and n not in out:
                out.append(n)
    return out


def canonical(passages: list[int]) -> str:
    """The marker as the app writes it: ' [1, 3]' (empty for no passage)."""
    return f" [{', '.join(map(str, passages))}]" if passages else ""


_DEFINITION = regex.compile(r"^[ \t]*\[\^\s*(\d{1,3})\s*\][ \t]*:(.*)$", regex.M)
_POINTS_TO = regex.compile(r"\b(?:passages?|sources?|documents?|docs?)\s*(\d{1,3})", regex.I)
_LIST_KEY = regex.compile(r"^[ \t]*(?:[-*•][ \t]*)?(?:\[\^?(\d{1,3})\]|(\d{1,3})[.)])")


def footnote_definitions(text: str) -> tuple[dict[int, int], str]:
    """The footnote number -> passage number map of "[^1]: Passage 4" lines, and `text` without those lines."""
    mapping = {}
    for key, definition in _DEFINITION.findall(text):
        target = _POINTS_TO.search(definition)
        mapping[int(key)] = int(target.group(1)) if target else int(key)
    return mapping, _DEFINITION.sub("", text).rstrip()


def listed_sources(text: str, n_passages: int) -> list[int]:
    """The valid passage numbers a trailing sources list names, in order, without repeats."""
    found: list[int] = []
    for line in text.splitlines():
        target, key = _POINTS_TO.search(line), _LIST_KEY.match(line)
        if target:
            found.append(int(target.group(1)))
        elif key:
            found.append(int(key.group(1) or key.group(2)))
        else:
            found += [int(n) for n in regex.findall(r"\[(\d{1,3})\]", line)]
    return [n for n in dict.fromkeys(found) if 1 <= n <= n_passages]
