"""One process, one engine: the REST API, the OpenAI-compatible API (/v1), the MCP tools (/mcp) and the Gradio
chat on the same FastAPI app, served by uvicorn.

`serve()` ingests the corpus incrementally (with a progress bar in the terminal), then listens on loopback
(127.0.0.1:7860 unless told otherwise); anywhere else only with RAG_SERVER_KEY set (rag.web.auth). Gradio share
links are never created.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from rag import Index

PROJECT = Path(__file__).resolve().parents[2]


def example_questions(index: Index, limit: int = 3) -> list[str]:
    """Questions that fit the loaded corpus: from `eval/<corpus name>.jsonl` when there is one, else its titles."""
    corpus = Path(index.settings.corpus)
    for folder in (Path.cwd(), PROJECT):
        path = folder / "eval" / f"{corpus.stem}.jsonl"
        if path.is_file():
            rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            picked = [r["question"] for r in rows if r.get("answerable") and r.get("kind", "factoid") == "factoid"]
            if picked:
                return picked[:limit]
    titles = [d.title for d in index.documents() if 0 < len(d.title) <= 60]
    return [f"What does the corpus say about {t}?" for t in titles[:limit]] or ["What are these documents about?"]


def create_app(index: Index):  # type: ignore[no-untyped-def]
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr
    from fastapi import FastAPI

    from rag.web import api, auth, chat, mcp_tools, openai_api
    from rag.web.render import CITATION_SCRIPT, CSS

    app = FastAPI(
        title="rag", version="0.1.0", docs_url="/docs", openapi_url="/openapi.json",
        description="Ask questions of your documents; every answer cites the passages it used.",
    )
    api.install(app, index)
    openai_api.install(app, index)
    mcp_tools.install(app, index)
    auth.install(app, index.settings)
    demo = chat.build(index, example_questions(index))
    demo.queue(default_concurrency_limit=16)
    theme = gr.themes.Soft(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    return gr.mount_gradio_app(
        app, demo, path="/", css=CSS, head=CITATION_SCRIPT, theme=theme,
        max_file_size=f"{int(index.settings.max_file_mb)}mb", footer_links=["api"],
        **auth.gradio_login(index.settings),
    )


def serve(index: Index, corpus: Path | None = None) -> None:
    import uvicorn

    from rag.web.auth import check_exposure

    s = index.settings
    check_exposure(s)
    target = corpus or Path(s.corpus)
    print(f"Ingesting {target} into {s.index_dir} …", file=sys.stderr)
    report = index.ingest(target)
    for failure in report.failed:
        print(f"skipped {failure.path}: {failure.error}", file=sys.stderr)
    print(f"{report.chunks} passages ready ({len(report.added)} added, {len(report.updated)} updated, "
          f"{len(report.unchanged)} unchanged) in {report.seconds:.1f}s", file=sys.stderr)
    app = create_app(index)
    mode = f"LLM {s.model}" if s.model else "offline extractive answers (set RAG_MODEL or --model for an LLM)"
    key = "  ·  RAG_SERVER_KEY required" if s.server_key else ""
    print(f"Serving on http://{s.host}:{s.port}  ·  {mode}  ·  API docs at /docs{key}", file=sys.stderr)
    uvicorn.run(app, host=s.host, port=s.port, log_level="warning")
