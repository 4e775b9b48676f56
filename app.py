"""The browser chat: `python app.py` ingests the corpus (default seeds/) and serves the chat and the REST API on
http://127.0.0.1:7860. Settings come from RAG_* environment variables (see README), e.g. RAG_MODEL, RAG_PORT."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

if __name__ == "__main__":
    from rag.cli import main

    main(["serve"])
