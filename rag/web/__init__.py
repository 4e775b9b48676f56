"""The web wing: one server for the Gradio chat and the REST API, on the engine's public names only.

    server.py    create_app(index) (FastAPI + mounted Gradio) and serve(index)
    api.py       the REST routes under /api
    chat.py      the Gradio Blocks: chat, sources panel, corpus tab with uploads, settings
    render.py    answer and sources HTML (pure)
    feedback.py  thumbs up/down and their export as an eval set
    cli.py       `rag serve`, `rag feedback export`

Nothing in the engine (`rag.*` outside rag.eval and rag.web) imports this package.
"""
