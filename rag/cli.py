"""The `rag` command: ingest, search and ask here; the wings add theirs (`rag eval` from rag.eval, `rag serve` and
`rag feedback` from rag.web) through entry points. The only place where errors become exit codes: 0 success,
1 a failure the message explains, 2 a usage error. No traceback reaches the user."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(
    help="Ask questions of your documents, with citations you can check.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# shared with the wings' commands
IndexOpt = Annotated[Optional[Path], typer.Option("--index", help="Index folder (default .rag, or RAG_INDEX_DIR).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ChromaOpt = Annotated[
    Optional[str], typer.Option("--chroma-url", help="Use a Chroma server, e.g. http://127.0.0.1:8000.")
]


def open_from_options(index: Path | None, rebuild: bool = False, **settings: object):  # type: ignore[no-untyped-def]
    import rag

    clean = {k: v for k, v in settings.items() if v is not None}
    return rag.open_index(index, rebuild=rebuild, **clean)


def _echo_err(message: str) -> None:
    typer.echo(message, err=True)


def _ensure_ingested(ix) -> None:  # type: ignore[no-untyped-def]
    if ix.is_empty():
        _echo_err(f"The index is empty: ingesting {ix.settings.corpus} first.")
        report = ix.ingest()
        for failure in [*report.failed, *report.skipped]:
            _echo_err(f"skipped {failure.path}: {failure.error}")


@app.command()
def ingest(
    path: Annotated[Optional[Path], typer.Argument(help="Folder, file or corpus.jsonl (default: seeds/).")] = None,
    index: IndexOpt = None,
    json_out: JsonOpt = False,
    chroma_url: ChromaOpt = None,
    max_file_mb: Annotated[Optional[float], typer.Option(help="Skip files larger than this.")] = None,
    rebuild: Annotated[bool, typer.Option(
        "--rebuild", help="Delete the index first and embed everything again (the only way to replace an index "
        "built with another embedding model).")] = False,
    shard: Annotated[Optional[str], typer.Option(
        "--shard", metavar="I/N", help="Only the documents of shard I of N (1-based): run N workers, one per "
        "shard, on one Chroma server.")] = None,
    progress: Annotated[Optional[bool], typer.Option(
        "--progress/--no-progress", help="Show progress (chunks, chunks/s, ETA): a bar on the terminal, or JSON "
        "lines on stdout with --json. Default: on, except with --json.")] = None,
) -> None:
    """Ingest a corpus into the index, incrementally."""
    from rag.corpus import parse_shard
    from rag.progress import JsonLines

    part = parse_shard(shard) if shard else None
    ix = open_from_options(index, chroma_url=chroma_url, max_file_mb=max_file_mb, rebuild=rebuild)
    show = progress if progress is not None else not json_out
    report = ix.ingest(path, progress=show, shard=part, on_progress=JsonLines() if json_out and show else None)
    for failure in [*report.failed, *report.skipped]:
        _echo_err(f"skipped {failure.path}: {failure.error}")
    if json_out:
        typer.echo(json.dumps(report.to_json()))
        return
    typer.echo(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed, {len(report.skipped)} skipped; "
        f"{report.chunks} chunks in {ix.settings.index_dir} ({report.embedded} embedded) in {report.seconds:.1f}s"
    )


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to search for.")],
    index: IndexOpt = None,
    k: Annotated[Optional[int], typer.Option("-k", help="How many passages.")] = None,
    mode: Annotated[Optional[str], typer.Option(help="hybrid, dense or lexical.")] = None,
    document: Annotated[Optional[list[str]], typer.Option("--document", help="Only search these document ids.")] = None,
    mmr: Annotated[bool, typer.Option("--mmr", help="Diversify results (maximal marginal relevance).")] = False,
    json_out: JsonOpt = False,
    chroma_url: ChromaOpt = None,
) -> None:
    """Search the index and print the best passages."""
    ix = open_from_options(index, chroma_url=chroma_url, mode=mode)
    _ensure_ingested(ix)
    passages = ix.search(query, k=k, documents=document or None, mmr=mmr or None)
    if json_out:
        typer.echo(json.dumps([p.to_json() for p in passages], ensure_ascii=False))
        return
    if not passages:
        typer.echo("No passage matches.")
    for p in passages:
        typer.echo(f"[{p.rank}] {p.title}  ({p.document} {p.start}-{p.end}, score {p.score:.4f})")
        typer.echo("    " + " ".join(p.text.split())[:400])


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    index: IndexOpt = None,
    model: Annotated[
        Optional[str], typer.Option("--model", help="litellm model string; unset answers offline (or RAG_MODEL).")
    ] = None,
    api_base: Annotated[Optional[str], typer.Option(help="Base URL of an OpenAI-compatible server.")] = None,
    k: Annotated[Optional[int], typer.Option("-k", help="How many passages to retrieve.")] = None,
    mode: Annotated[Optional[str], typer.Option(help="hybrid, dense or lexical.")] = None,
    json_out: JsonOpt = False,
    chroma_url: ChromaOpt = None,
) -> None:
    """Answer a question from the documents, with citations."""
    ix = open_from_options(index, chroma_url=chroma_url, mode=mode, model=model, api_base=api_base)
    _ensure_ingested(ix)
    if json_out:
        answer = ix.ask(question, k=k)
        typer.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        return
    answer, streamed = None, ""
    for item in ix.stream(question, k=k):
        if isinstance(item, str):
            streamed += item
            typer.echo(item, nl=False)
        else:
            answer = item
    typer.echo("")
    if answer is None:
        return
    if answer.notice:
        _echo_err(f"notice: {answer.notice}")
    if streamed.strip() != answer.text.strip():  # markers renumbered, or the LLM failed part-way
        typer.echo(f"\n{answer.text}")
    typer.echo(f"\n— {answer.label}")
    for c in answer.citations:
        where = c.url or c.document
        flags = (" (inferred)" if c.inferred else "") + ("" if c.supported else " (does not support its claim)")
        typer.echo(f"[{c.n}] {c.title} ({where}, chars {c.start}-{c.end}){flags}")
        typer.echo(f"    “{' '.join(c.quote.split())}”")
    for claim in answer.support.unsupported_claims if answer.support else []:
        typer.echo(f"⚠ not supported by the passages: “{claim}”")


_registered = False


def register_subcommands() -> None:
    """Add the wings' commands (`rag eval`, `rag serve`, ...) once, through the "rag.commands" entry points that
    pyproject.toml declares: the engine names no module of theirs."""
    global _registered
    if _registered:
        return
    _registered = True
    from importlib.metadata import entry_points

    for entry in sorted(entry_points(group="rag.commands"), key=lambda e: e.name):
        entry.load()(app)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from rag.errors import RagError

    register_subcommands()
    try:
        app(args=argv, standalone_mode=False)
    except RagError as exc:
        _echo_err(f"error: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        _echo_err("interrupted: the next run repairs the index")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - usage errors and anything unexpected: one line, no traceback
        if _is_usage_error(exc):
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            _echo_err(f"usage error: {message}")
            sys.exit(2)
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        _echo_err(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        sys.exit(1)


def _is_usage_error(exc: Exception) -> bool:
    """click's UsageError, or typer's own copy of it (typer >= 0.20 vendors click)."""
    return any(cls.__name__ == "UsageError" for cls in type(exc).__mro__)


if __name__ == "__main__":
    main()
