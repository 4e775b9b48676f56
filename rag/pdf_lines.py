"""One visual line of a PDF page put back together when layout analysis cut it into pieces.

pdfminer.six starts a new text line where the gap between glyphs exceeds its char margin, and a short piece then
often becomes a text box of its own. Two layouts do this all the time in real manuals:
- definition lists with hanging terms (a man page's special parameters, option tables): the term ``$`` and its
  text "Expands to the process ID of the shell." sit on one baseline 30 pt apart, and come out as a column of
  bare terms (``@ # ? - $ ! 0``) followed by a column of descriptions, each term cut off from its text;
- justified lines with a very wide gap (groff around a long unbreakable token): ``If`` at the end of a line, or
  ``${FUNCNAME[$i]}`` / ``was`` / ``called``, each alone on its own line or in its own box.

What it does, on the lines of one page (each box a list of `Line`, in pdfminer's reading order):
- inside a box, pieces on one baseline (within 2 pt) are joined left to right with a space;
- a "term" (a line of at most 30 characters and 150 pt) is given to the nearest line of another box on its baseline
  that starts 0-72 pt to its right: the term is prepended to that line and leaves its own box (a box left with no
  lines disappears). Terms are taken left to right, so the pieces of one line chain.

What it does not do: reorder columns, join pieces farther apart than 72 pt (two-column pages keep their columns:
a column's lines are longer than a term, and gutters seen from a short last line are wider), or touch anything
off the shared baseline. An equation number printed in a column's gutter can still be prepended to the next
column's line on its baseline; on a page of narrow columns (under ~230 pt), a short last line of a paragraph
ending within 72 pt of the next column can be too.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Line", "join_pieces"]

_BASELINE_PT = 2.0
_TERM_CHARS = 30
_TERM_WIDTH_PT = 150.0
_TERM_GAP_PT = 72.0


@dataclass
class Line:
    text: str
    x0: float
    x1: float
    y0: float


def join_pieces(boxes: list[list[Line]]) -> list[list[Line]]:
    """The page's boxes with same-baseline pieces joined (see the module docstring); empty boxes dropped."""
    boxes = [_join_inside(lines) for lines in boxes]
    rows: dict[int, list[tuple[int, Line]]] = {}  # baseline bucket -> (box, line): no scan of the whole page
    for j, lines in enumerate(boxes):
        for other in lines:
            rows.setdefault(_bucket(other.y0), []).append((j, other))
    terms = sorted(((i, x) for i, lines in enumerate(boxes) for x in lines if _is_term(x)), key=lambda p: p[1].x0)
    used: set[int] = set()  # lines given away
    for i, line in terms:
        target = _target(line, rows, i, used)
        if target is not None:
            target.text = f"{line.text.strip()} {target.text.lstrip()}"
            target.x0 = line.x0
            used.add(id(line))
    boxes = [[x for x in lines if id(x) not in used] for lines in boxes]
    return [lines for lines in boxes if lines]


def _join_inside(lines: list[Line]) -> list[Line]:
    out: list[Line] = []
    for line in lines:
        same = next((o for o in out[-3:] if abs(o.y0 - line.y0) <= _BASELINE_PT), None)
        if same is None or not line.text.strip():
            out.append(line)
            continue
        left, right = (same, line) if same.x0 <= line.x0 else (line, same)
        same.text = f"{left.text.rstrip()} {right.text.strip()}"
        same.x0, same.x1 = min(same.x0, line.x0), max(same.x1, line.x1)
    return out


def _is_term(line: Line) -> bool:
    return line.x1 - line.x0 <= _TERM_WIDTH_PT and 0 < len(line.text.strip()) <= _TERM_CHARS


def _bucket(y: float) -> int:
    return int(y // _BASELINE_PT)


def _target(line: Line, rows: dict[int, list[tuple[int, Line]]], own: int, used: set[int]) -> Line | None:
    best, best_gap = None, _TERM_GAP_PT
    bucket = _bucket(line.y0)
    for j, other in (pair for b in (bucket - 1, bucket, bucket + 1) for pair in rows.get(b, ())):
        if j != own and id(other) not in used:
            gap = other.x0 - line.x1
            if abs(other.y0 - line.y0) <= _BASELINE_PT and 0 <= gap <= best_gap and other.text.strip():
                best, best_gap = other, gap
    return best
