"""The Gradio chat: streamed answers with clickable citations, a sources panel, a corpus tab with uploads,
per-session settings, and thumbs up/down saved for `rag feedback export`. Everything goes through one Index.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import gradio as gr

from rag import Answer, Index, RagError
from rag.citations import strip_markers
from rag.documents import SUPPORTED_EXTENSIONS
from rag.web import feedback
from rag.web.render import answer_markdown, sources_html

UPLOADS = "uploads"


def _status(index: Index, model: str, mode: str) -> str:
    docs = index.documents()
    answering = f"answers by **{model}** (offline extraction if it fails)" if model else \
        "answers **offline** by extracting sentences (no LLM configured)"
    n, passages = len(docs), sum(d.chunks for d in docs)
    return f"{n} document{'s' * (n != 1)}, {passages} passages · {mode} retrieval · {answering}"


def build(index: Index, examples: list[str]) -> gr.Blocks:
    s = index.settings
    with gr.Blocks(title="rag: ask your documents", fill_height=True) as demo:
        session = gr.State({"messages": [], "answers": [], "turn_of": {}})
        gr.Markdown("## Ask your documents\nEvery answer cites the passages it used: click a marker to see it.")
        with gr.Tab("Chat"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        elem_id="chat", height=520, show_label=False, buttons=["copy"],
                        placeholder="Ask a question about the documents below.",
                    )
                    with gr.Row():
                        box = gr.Textbox(placeholder="Ask a question…", show_label=False, scale=6,
                                         elem_id="question", autofocus=True, max_lines=4)
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                    gr.Examples([[q] for q in examples], inputs=[box], label="Examples")
                    status = gr.Markdown(_status(index, s.model or "", s.mode), elem_id="status")
                    vote = gr.Markdown(elem_id="vote")
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(sources_html([]), elem_id="sources")
        with gr.Tab("Corpus") as corpus_tab:
            table = gr.Dataframe(headers=["document", "title", "passages"], interactive=False, elem_id="documents")
            upload = gr.File(label=f"Upload documents ({', '.join(SUPPORTED_EXTENSIONS)}; up to {s.max_file_mb:g} MB)",
                             file_count="multiple", file_types=list(SUPPORTED_EXTENSIONS), elem_id="upload")
            upload_status = gr.Markdown(elem_id="upload-status")
            with gr.Row():
                choice = gr.Dropdown(label="Remove a document", choices=[], scale=4, elem_id="remove-choice")
                remove = gr.Button("Remove", variant="stop", scale=1, elem_id="remove")
        with gr.Tab("Settings"):
            model = gr.Textbox(label="Model: a litellm string (openai/gpt-4o-mini, ollama/llama3, …); empty answers "
                               "offline", value=s.model or "", elem_id="model")
            top_k = gr.Slider(1, 20, value=s.top_k, step=1, label="Passages retrieved (top-k)", elem_id="top-k")
            mode = gr.Radio(["hybrid", "dense", "lexical"], value=s.mode, label="Retrieval mode", elem_id="mode")
            gr.Markdown("Settings apply to this browser session only.")

        def respond(question: str, state: dict, model_name: str, k: float, retrieval: str):
            question = (question or "").strip()
            if not question:
                gr.Warning("Type a question first.")
                yield gr.update(), state["messages"], state, gr.update()
                return
            history = [(a.question, strip_markers(a.text)) for _, a in state["answers"]]
            messages = state["messages"] + [{"role": "user", "content": html.escape(question)},
                                            {"role": "assistant", "content": "…"}]
            state = {**state, "messages": messages}
            yield "", messages, state, gr.update()
            streamed, answer = "", None
            try:
                for item in index.stream(question, history=history, k=int(k), model=model_name.strip() or None,
                                         mode=retrieval):
                    if isinstance(item, Answer):
                        answer = item
                    else:
                        streamed += item
                        messages[-1] = {"role": "assistant", "content": html.escape(streamed) + " ▌"}
                        yield "", messages, state, gr.update()
            except RagError as exc:
                messages[-1] = {"role": "assistant", "content": f"⚠️ {html.escape(str(exc))}"}
                yield "", messages, state, gr.update()
                return
            assert answer is not None
            turn = len(state["answers"]) + 1
            messages[-1] = {"role": "assistant", "content": answer_markdown(answer, turn)}
            answers = state["answers"] + [(turn, answer)]
            state = {"messages": messages, "answers": answers, "turn_of": {**state["turn_of"], len(messages) - 1: turn}}
            yield "", messages, state, sources_html(answers)

        def on_vote(state: dict, data: gr.LikeData) -> str:
            index_ = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
            turn = state["turn_of"].get(index_)
            answer = next((a for t, a in state["answers"] if t == turn), None)
            if answer is None:
                return ""
            liked = data.liked is True or data.liked == "Like"
            feedback.record(s.index_dir, answer, liked)
            return f"Thanks: {'👍' if liked else '👎'} saved for “{html.escape(answer.question)}”."

        chat_inputs = [box, session, model, top_k, mode]
        chat_outputs = [box, chatbot, session, sources]
        box.submit(respond, chat_inputs, chat_outputs, concurrency_limit=16)
        send.click(respond, chat_inputs, chat_outputs, concurrency_limit=16)
        chatbot.like(on_vote, [session], [vote])
        for control in (model, mode):
            control.change(lambda m, r: _status(index, m.strip(), r), [model, mode], [status])

        def refresh():
            docs = index.documents()
            return [[d.id, d.title, d.chunks] for d in docs], gr.update(choices=[d.id for d in docs], value=None)

        def on_upload(files: list[str] | None):
            message = add_uploads(index, [Path(f) for f in files or []])
            rows, choices = refresh()
            return message, rows, choices, None, _status(index, s.model or "", s.mode)

        def on_remove(document_id: str | None):
            message = remove_document(index, document_id)
            rows, choices = refresh()
            return message, rows, choices

        corpus_tab.select(refresh, None, [table, choice])
        demo.load(refresh, None, [table, choice])
        upload.upload(on_upload, [upload], [upload_status, table, choice, upload, status], concurrency_limit=4)
        remove.click(on_remove, [choice], [upload_status, table, choice])
    return demo


def add_uploads(index: Index, files: list[Path]) -> str:
    """Copy accepted files into the uploads folder and ingest it; one line per file."""
    folder = Path(index.settings.index_dir) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    lines, accepted = [], 0
    limit = index.settings.max_file_mb * 1_000_000
    for path in files:
        name = Path(path).name
        if Path(name).suffix.lower() not in SUPPORTED_EXTENSIONS:
            lines.append(f"❌ {name}: not a supported type (use {', '.join(SUPPORTED_EXTENSIONS)})")
        elif path.stat().st_size > limit:
            size_mb = path.stat().st_size / 1e6
            lines.append(f"❌ {name}: too large ({size_mb:.1f} MB > {index.settings.max_file_mb:g} MB)")
        else:
            shutil.copyfile(path, folder / name)
            accepted += 1
    if accepted:
        report = index.ingest(folder, progress=False, id_prefix=f"{UPLOADS}/")
        failed = {f.path for f in report.failed}
        for f in report.failed:
            (folder / Path(f.path).name).unlink(missing_ok=True)  # do not keep what cannot be read
            lines.append(f"❌ {Path(f.path).name}: {f.error}")
        for doc_id in report.added + report.updated:
            if doc_id not in failed:
                lines.append(f"✅ {doc_id}: ingested, you can ask about it now")
    return "\n\n".join(lines) or "Nothing to upload."


def remove_document(index: Index, document_id: str | None) -> str:
    if not document_id:
        return "Choose a document to remove."
    upload = Path(index.settings.index_dir) / document_id
    if document_id.startswith(f"{UPLOADS}/") and upload.is_file():
        upload.unlink()
    if not index.remove(document_id):
        return f"{document_id} is not in the index."
    note = "" if document_id.startswith(f"{UPLOADS}/") else (
        " (it is in the corpus folder: delete the file there too, or the next start ingests it again)"
    )
    return f"Removed {document_id}{note}."
