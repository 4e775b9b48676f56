"""Builders of hostile and careless corpus entries, shared by tests/test_hostile_documents.py and
bench/hostile_documents.py. Every file is made here at run time: nothing hostile is committed.

    build_hostile_corpus(root) -> {entry name: the words its one message must contain}
    GOOD = {id: a sentence only that file holds}   the good files written beside the bad ones
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from pathlib import Path

GOOD = {
    "good/notes.md": "Otters hold hands while they sleep so that they do not drift apart.",
    "good/guide.txt": "The lighthouse keeper logs the weather every four hours.",
    "good/page.html": "Herons stand still in shallow water for a long time.",
}


def minimal_pdf(content: bytes, compress: bool = False) -> bytes:
    """A one-page PDF whose page content stream is `content` (Flate-compressed when asked)."""
    stream = zlib.compress(content, 9) if compress else content
    return _pdf_with_stream(stream, compress)


def _pdf_with_stream(stream: bytes, flate: bool) -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d%s >>\nstream\n" % (len(stream), b" /Filter /FlateDecode" if flate else b"") + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def flate_bomb_pdf(expanded_mb: int) -> bytes:
    """A PDF of about 1/1000 of `expanded_mb` whose one content stream inflates to `expanded_mb` MB."""
    packer = zlib.compressobj(9)
    parts = [packer.compress(b"BT /F1 12 Tf 72 720 Td (bomb) Tj ET ")]
    block = b" " * (1 << 20)
    parts += [packer.compress(block) for _ in range(expanded_mb)]
    parts.append(packer.flush())
    return _pdf_with_stream(b"".join(parts), True)


def slow_pdf(operators: int = 400_000) -> bytes:
    """A small PDF whose one page draws `operators` strings: minutes of pdfminer layout analysis."""
    return minimal_pdf(b"BT /F1 12 Tf 72 720 Td " + b"(abcdefgh) Tj 1 0 Td " * operators + b"ET", compress=True)


def docx_zip_bomb(expanded_mb: int = 300) -> bytes:
    """A .docx-named archive whose document part inflates to `expanded_mb` MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            for _ in range(expanded_mb):
                part.write(b" " * (1 << 20))
    return out.getvalue()


def encrypted_pdf(user_password: str, algorithm: str = "AES-256") -> bytes:
    """A real one-page PDF with text, encrypted with `algorithm` (pypdf, with the `cryptography` package)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(minimal_pdf(b"BT /F1 12 Tf 72 720 Td (Secret words) Tj ET"))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_hostile_corpus(root: Path, huge_line_mb: int = 3) -> dict[str, str]:
    """Good files and one entry of each hostile kind under `root`; returns each bad entry's id and a piece of the
    one message that must name it. The corpus.jsonl with a huge line is written beside `root` (it is ingested
    on its own) and returned under its path."""
    for name, sentence in GOOD.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<h1>Heron notes</h1><p>{sentence}</p>" if name.endswith(".html") else
                        f"# {Path(name).stem}\n\n{sentence}\n")
    bad = root / "bad"
    bad.mkdir()
    os.mkfifo(bad / "pipe.txt")
    (bad / "passwd.txt").symlink_to("/etc/passwd")
    (bad / "zero.md").symlink_to("/dev/zero")
    (bad / "etc").symlink_to("/etc")
    (bad / "good-again").symlink_to(root / "good")
    (bad / "nested").mkdir()
    (bad / "nested" / "corpus.jsonl").write_text(json.dumps({"_id": "x", "text": "hidden corpus"}) + "\n")
    (bad / "data.csv").write_text("a,b\n1,2\n")
    (bad / "locked-aes.pdf").write_bytes(encrypted_pdf("hunter2"))
    (bad / "bomb.docx").write_bytes(docx_zip_bomb(300))
    (bad / "flate-bomb.pdf").write_bytes(flate_bomb_pdf(1500))
    (bad / "slow.pdf").write_bytes(slow_pdf())
    (bad / "heading.md").write_text("#" + " " * 200_000 + "#" * 200_000 + "x\n" + "[![" * 100_000 + "\n")
    (bad / "lt.html").write_text("<" * 1_000_000)
    big = root.parent / f"{root.name}-huge-line.jsonl"
    with big.open("w") as out:
        out.write(json.dumps({"_id": "ok-1", "text": GOOD["good/notes.md"]}) + "\n")
        out.write('{"_id": "huge", "text": "' + "lorem ipsum " * (huge_line_mb * 1_000_000 // 12) + '"}\n')
        out.write("[" * 100_000 + "\n")
        out.write(json.dumps({"_id": "ok-2", "text": GOOD["good/guide.txt"]}) + "\n")
    return {
        "bad/pipe.txt": "not a regular file (a FIFO)",
        "bad/passwd.txt": "outside the corpus folder",
        "bad/zero.md": "outside the corpus folder",
        "bad/etc": "outside the corpus folder",
        "bad/good-again": "symlinked folder",
        "bad/nested/corpus.jsonl": "a .jsonl file inside a folder is not read",
        "bad/data.csv": "unsupported file type (.csv)",
        "bad/locked-aes.pdf": "encrypted PDF",
        "bad/bomb.docx": "zip bomb",
        "bad/flate-bomb.pdf": "memory limit",
        "bad/slow.pdf": "took too long",
        str(big): "",
    }
