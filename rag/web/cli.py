"""The web wing's commands, added to `rag` through the "rag.commands" entry point:

    rag serve [--corpus PATH] [--index DIR] [--host H] [--port P] [--model M] [--api-base URL] [--chroma-url URL]
              [--no-ingest]
    rag mcp [--corpus PATH] [--index DIR] [--model M] [--api-base URL] [--chroma-url URL]
    rag feedback export [--index DIR] [--out FILE]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.cli import ChromaOpt, IndexOpt, open_from_options


def register(app: typer.Typer) -> None:
    """Add `serve`, `mcp` and `feedback export` to the `rag` app."""

    @app.command()
    def serve(
        corpus: Annotated[
            Optional[Path], typer.Option(help="Folder or corpus.jsonl to ingest first (default seeds/).")
        ] = None,
        index: IndexOpt = None,
        host: Annotated[Optional[str], typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
        port: Annotated[Optional[int], typer.Option(help="Port (default 7860).")] = None,
        model: Annotated[Optional[str], typer.Option(help="litellm model string; unset answers offline.")] = None,
        api_base: Annotated[Optional[str], typer.Option(help="Base URL of an OpenAI-compatible server.")] = None,
        chroma_url: ChromaOpt = None,
        ingest: Annotated[bool, typer.Option(
            "--ingest/--no-ingest", help="Ingest the corpus before serving (default). --no-ingest serves the index "
            "as it is and follows changes other processes make to it: a replica behind a load balancer.")] = True,
    ) -> None:
        """Ingest the corpus, then serve the chat and the REST API."""
        from rag.web.server import serve as run

        ix = open_from_options(index, corpus=corpus, host=host, port=port, model=model, api_base=api_base,
                               chroma_url=chroma_url)
        run(ix, corpus, ingest=ingest)

    @app.command()
    def mcp(
        corpus: Annotated[
            Optional[Path], typer.Option(help="Folder or corpus.jsonl to ingest first (default seeds/).")
        ] = None,
        index: IndexOpt = None,
        model: Annotated[Optional[str], typer.Option(help="litellm model string; unset answers offline.")] = None,
        api_base: Annotated[Optional[str], typer.Option(help="Base URL of an OpenAI-compatible server.")] = None,
        chroma_url: ChromaOpt = None,
    ) -> None:
        """Ingest the corpus, then serve the search, ask and list_documents tools over MCP on stdin/stdout."""
        from rag.web.mcp_tools import run_stdio

        ix = open_from_options(index, corpus=corpus, model=model, api_base=api_base, chroma_url=chroma_url)
        run_stdio(ix, corpus)

    feedback_app = typer.Typer(help="Thumbs up/down given in the chat.", no_args_is_help=True)
    app.add_typer(feedback_app, name="feedback")

    @feedback_app.command("export")
    def feedback_export(
        index: IndexOpt = None,
        out: Annotated[Optional[Path], typer.Option("--out", help="Write the question set here (default: stdout).")
                       ] = None,
    ) -> None:
        """Turn thumbs-up answers into an eval question set (JSONL) for `rag eval`."""
        from rag import Settings
        from rag.web import feedback

        folder = index or Settings().index_dir
        questions, skipped = feedback.export(folder)
        text = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions)
        if out:
            out.write_text(text)
            typer.echo(f"{len(questions)} questions written to {out} ({skipped} thumbs-down left out)", err=True)
        else:
            typer.echo(text, nl=False)
