"""The Gradio chat: streamed answers with clickable citations, a sources panel, a corpus tab with uploads,
per-session settings, and thumbs up/down saved for `rag feedback export`. Everything goes through one Index.

Every message is HTML from rag.web.render (sanitised; the Chatbot does not re-read it as Markdown, and the
other panes get it through sanitize.inert). The upload
event takes only files Gradio's upload route wrote (rag.web.guard.uploaded_only); the model comes from the
allow-list; a question over RAG_MAX_QUESTION_CHARS gets one line. Not here: the uploads' own checks
(rag.web.uploads), the HTTP guards (rag.web.middleware).
"""

from __future__ import annotations

import html

import gradio as gr

from rag import Answer, Index, RagError
from rag.citations import strip_markers
from rag.documents import SUPPORTED_EXTENSIONS
from rag.web import feedback, files, guard
from rag.web.render import answer_html, sources_html, streaming_html
from rag.web.sanitize import inert
from rag.web.uploads import add_uploads, remove_document

OFFLINE = "(offline: extract sentences, no LLM)"


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
                        render_markdown=False, sanitize_html=True, latex_delimiters=[],  # messages are safe HTML
                    )
                    with gr.Row():
                        box = gr.Textbox(placeholder="Ask a question…", show_label=False, scale=6,
                                         elem_id="question", autofocus=True, max_lines=4)
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                    gr.Examples([[q] for q in examples], inputs=[box], label="Examples")
                    status = gr.Markdown(_status(index, s.model or "", s.mode), elem_id="status")
                    vote = gr.Markdown(elem_id="vote", latex_delimiters=[])
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.Markdown(inert(sources_html([])), elem_id="sources", latex_delimiters=[])
        with gr.Tab("Corpus") as corpus_tab:
            table = gr.Dataframe(headers=["document", "title", "passages"], interactive=False, elem_id="documents")
            upload = gr.File(label=f"Upload documents ({', '.join(SUPPORTED_EXTENSIONS)}; up to {s.max_file_mb:g} MB)",
                             file_count="multiple", file_types=list(SUPPORTED_EXTENSIONS), elem_id="upload")
            upload_status = gr.Markdown(elem_id="upload-status", latex_delimiters=[])
            with gr.Row():
                choice = gr.Dropdown(label="Remove a document", choices=[], scale=4, elem_id="remove-choice")
                remove = gr.Button("Remove", variant="stop", scale=1, elem_id="remove")
        with gr.Tab("Settings"):
            models = list(dict.fromkeys(([] if s.model else [OFFLINE]) + guard.allowed_models(s)))
            model = gr.Dropdown(
                choices=models, value=models[0], elem_id="model", interactive=len(models) > 1,
                label="Model (the server's, or one allowed by RAG_ALLOWED_MODELS)",
            )
            top_k = gr.Slider(1, 20, value=s.top_k, step=1, label="Passages retrieved (top-k)", elem_id="top-k")
            mode = gr.Radio(["hybrid", "dense", "lexical"], value=s.mode, label="Retrieval mode", elem_id="mode")
            gr.Markdown("Settings apply to this browser session only.")

        def respond(question: str, state: dict, model_name: str | None, k: float, retrieval: str):
            question = (question or "").strip()
            if not question:
                gr.Warning("Type a question first.")
                yield gr.update(), state["messages"], state, gr.update()
                return
            try:
                guard.check_question(s, question)
                chosen = guard.check_model(s, None if model_name == OFFLINE else model_name)
            except guard.Refused as exc:
                raise gr.Error(str(exc)) from None
            history = _recent([(a.question, strip_markers(a.text)) for _, a in state["answers"]], s.max_history_chars)
            messages = state["messages"] + [{"role": "user", "content": html.escape(question)},
                                            {"role": "assistant", "content": "…"}]
            state = {**state, "messages": messages}
            yield "", messages, state, gr.update()
            streamed, answer = "", None
            try:
                for item in index.stream(question, history=history, k=int(k), model=chosen, mode=retrieval):
                    if isinstance(item, Answer):
                        answer = item
                    else:
                        streamed += item
                        messages[-1] = {"role": "assistant", "content": streaming_html(streamed)}
                        yield "", messages, state, gr.update()
            except RagError as exc:
                messages[-1] = {"role": "assistant", "content": f"⚠️ {html.escape(str(exc))}"}
                yield "", messages, state, gr.update()
                return
            assert answer is not None
            turn = len(state["answers"]) + 1
            messages[-1] = {"role": "assistant", "content": answer_html(answer, turn)}
            answers = state["answers"] + [(turn, answer)]
            state = {"messages": messages, "answers": answers, "turn_of": {**state["turn_of"], len(messages) - 1: turn}}
            yield "", messages, state, inert(sources_html(answers, lambda document: files.file_url(index, document)))

        def on_vote(state: dict, data: gr.LikeData) -> str:
            index_ = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
            turn = state["turn_of"].get(index_)
            answer = next((a for t, a in state["answers"] if t == turn), None)
            if answer is None:
                return ""
            liked = data.liked is True or data.liked == "Like"
            feedback.record(s.index_dir, answer, liked)
            return inert(f"<p>Thanks: {'👍' if liked else '👎'} saved for “{html.escape(answer.question)}”.</p>")

        chat_inputs = [box, session, model, top_k, mode]
        chat_outputs = [box, chatbot, session, sources]
        box.submit(respond, chat_inputs, chat_outputs, concurrency_limit=16)
        send.click(respond, chat_inputs, chat_outputs, concurrency_limit=16)
        chatbot.like(on_vote, [session], [vote])
        for control in (model, mode):
            control.change(lambda m, r: _status(index, "" if m == OFFLINE else (m or ""), r), [model, mode],
                           [status])

        def refresh():
            docs = index.documents()
            return [[d.id, d.title, d.chunks] for d in docs], gr.update(choices=[d.id for d in docs], value=None)

        def on_upload(files: list[str] | None):
            try:
                message = add_uploads(index, guard.uploaded_only(demo, files or [])).message()
            except guard.Refused as exc:
                message = f"❌ {exc}"
            rows, choices = refresh()
            return _lines_html(message), rows, choices, None, _status(index, s.model or "", s.mode)

        def on_remove(document_id: str | None):
            message = remove_document(index, document_id)
            rows, choices = refresh()
            return _lines_html(message), rows, choices

        corpus_tab.select(refresh, None, [table, choice])
        demo.load(refresh, None, [table, choice])
        upload.upload(on_upload, [upload], [upload_status, table, choice, upload, status], concurrency_limit=4)
        remove.click(on_remove, [choice], [upload_status, table, choice])
    return demo



def _lines_html(message: str) -> str:
    return inert("".join(f"<p>{html.escape(line)}</p>" for line in message.split("\n\n")))


def _recent(turns: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    """The latest turns whose text fits the history limit (the chat's own state: trimmed, never refused)."""
    kept: list[tuple[str, str]] = []
    size = 0
    for user, assistant in reversed(turns):
        size += len(user) + len(assistant)
        if size > limit:
            break
        kept.insert(0, (user, assistant))
    return kept
