"""The web wing: one server for the Gradio chat and the REST API, on the engine's public names only.

    server.py    create_app(index) (FastAPI + mounted Gradio) and serve(index)
    api.py       the REST routes under /api
    openai_api.py  the OpenAI-compatible routes under /v1 (chat completions, models); relay.py streams them
    mcp_tools.py the MCP tools (search, ask, list_documents): `rag mcp` on stdio, /mcp over HTTP
    auth.py      the server's key (RAG_SERVER_KEY): refusal to be exposed without one, Bearer checks, the chat's login
    chat.py      the Gradio Blocks: chat, sources panel, corpus tab with uploads, settings
    render.py    answer and sources HTML (pure); cards.py groups citations into one card per distinct passage
    files.py     GET /source/{id}: an indexed document's own file, read-only, from the corpus or uploads folder
    examples.py  example questions from the corpus's eval set or its documents' headings
    feedback.py  thumbs up/down and their export as an eval set
    cli.py       `rag serve`, `rag mcp`, `rag feedback export`

Nothing in the engine (`rag.*` outside rag.eval and rag.web) imports this package.
"""
