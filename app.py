"""The browser chat is coming (issue "The browser chat"). For now this ingests the corpus and answers searches
typed at the terminal, through the same facade the chat will use."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import rag  # noqa: E402


def main() -> None:
    index = rag.open_index()
    report = index.ingest()
    for failure in report.failed:
        print(f"skipped {failure.path}: {failure.error}")
    print(f"{report.chunks} chunks from {index.settings.corpus} in {index.settings.index_dir}. "
          "The chat app is coming; meanwhile, type a search (empty line to quit).")
    while True:
        try:
            query = input("search> ").strip()
        except EOFError:
            break
        if not query:
            break
        for p in index.search(query):
            print(f"[{p.rank}] {p.title} ({p.document} {p.start}-{p.end}): {' '.join(p.text.split())[:300]}")


if __name__ == "__main__":
    main()
