"""One process, one engine: the REST API, the OpenAI-compatible API (/v1), the MCP tools (/mcp) and the Gradio
chat on the same FastAPI app, served by uvicorn.

`serve()` ingests the corpus incrementally (with a progress bar in the terminal), then listens on loopback
(127.0.0.1:7860 unless told otherwise); anywhere else only with RAG_SERVER_KEY set (rag.web.auth). Gradio share
links are never created.

`create_app()` closes what mounting Gradio leaves open: Gradio's upload cache is private to the index
(INDEX_DIR/.gradio-cache, mode 0700, set before gradio is imported), the mounted Blocks are marked launched so
that Gradio checks every file path an event names (gradio 6.31 skips the check for a mounted app:
processing_utils._check_allowed), and the HTTP guards of rag.web.middleware wrap everything.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from rag import Index

PROJECT = Path(__file__).resolve().parents[2]


def example_questions(index: Index, limit: int = 3) -> list[str]:
    """Questions that fit the loaded corpus (rag.web.examples): from `eval/<corpus name>.jsonl` when there is
    one, else from the documents' own headings."""
    from rag.web.examples import example_questions as pick

    return pick(index, limit, PROJECT)


def private_upload_cache(index: Index) -> Path:
    """Point Gradio's upload cache at INDEX_DIR/.gradio-cache (0700) unless GRADIO_TEMP_DIR is already set.
    Must run before gradio is imported: parts of Gradio read the folder once, at import."""
    if os.environ.get("GRADIO_TEMP_DIR"):
        return Path(os.environ["GRADIO_TEMP_DIR"]).resolve()
    cache = (Path(index.settings.index_dir) / ".gradio-cache").resolve()
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    cache.chmod(0o700)
    os.environ["GRADIO_TEMP_DIR"] = str(cache)
    return cache


def create_app(index: Index):  # type: ignore[no-untyped-def]
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    private_upload_cache(index)
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import Response

    from rag.web import api, auth, chat, files, mcp_tools, middleware, openai_api
    from rag.web.render import CITATION_JS, CITATION_SCRIPT, CSS

    app = FastAPI(
        title="rag", version="0.1.0", docs_url="/docs", openapi_url="/openapi.json",
        description="Ask questions of your documents; every answer cites the passages it used.",
    )
    api.install(app, index)
    files.install(app, index)

    @app.get("/rag-assets/citations.js", include_in_schema=False)
    def citations_js() -> Response:  # a file, not an inline script: the page's policy allows scripts from here
        return Response(CITATION_JS, media_type="text/javascript")

    s = index.settings
    openai_api.install(app, index)
    mcp_tools.install(app, index)
    auth.install(app, s)
    demo = chat.build(index, example_questions(index))
    demo.queue(default_concurrency_limit=16)
    theme = gr.themes.Soft(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    app = gr.mount_gradio_app(
        app, demo, path="/", css=CSS, head=CITATION_SCRIPT, theme=theme,
        max_file_size=int(s.max_file_mb * 1_000_000), footer_links=["api"], ssr_mode=False, mcp_server=False,
        allowed_paths=[],
        **auth.gradio_login(s),
    )
    # gradio 6.31 checks the file paths an event names only once the Blocks are launched, which mounting never
    # does (processing_utils._check_allowed); Blocks.launch() sets this same flag.
    demo.has_launched = True
    middleware.install(app, s)
    return app


def serve(index: Index, corpus: Path | None = None, ingest: bool = True) -> None:
    """Ingest the corpus (unless `ingest` is False: a replica following an index others write), then serve."""
    import uvicorn

    from rag.web.auth import check_exposure

    s = index.settings
    check_exposure(s)
    target = corpus or Path(s.corpus)
    if ingest:
        print(f"Ingesting {target} into {s.index_dir} …", file=sys.stderr)
        report = index.ingest(target)
        for failure in [*report.failed, *report.skipped]:
            print(f"skipped {failure.path}: {failure.error}", file=sys.stderr)
        print(f"{report.chunks} passages ready ({len(report.added)} added, {len(report.updated)} updated, "
              f"{len(report.unchanged)} unchanged) in {report.seconds:.1f}s", file=sys.stderr)
    else:
        docs = index.documents()
        print(f"Serving {sum(d.chunks for d in docs)} passages of {len(docs)} documents as they are "
              "(--no-ingest: following the changes other processes make)", file=sys.stderr)
    app = create_app(index)
    mode = f"LLM {s.model}" if s.model else "offline extractive answers (set RAG_MODEL or --model for an LLM)"
    key = "  ·  RAG_SERVER_KEY required" if s.server_key else ""
    print(f"Serving on http://{s.host}:{s.port}  ·  {mode}  ·  API docs at /docs{key}", file=sys.stderr)
    uvicorn.run(app, host=s.host, port=s.port, log_level="warning")
