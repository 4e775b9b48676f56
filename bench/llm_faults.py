"""Every LLM fault answers within RAG_LLM_TIMEOUT + 2 s: the offline answer (or the cut reply) with a notice.

Each fault is scripted on the scripted OpenAI-compatible server (tests/fakellm.py) and the seed question is asked
through `rag.Index.ask` with `RAG_LLM_TIMEOUT` (default 5 s here) and the default 2 retries. For comparison, the
same fault is also sent through litellm alone with the same timeout and retries (its per-read timeout: what the
project did before), stopped by us after 60 s.

    .venv/bin/python bench/llm_faults.py              # about 3 minutes
    .venv/bin/python bench/llm_faults.py --timeout 3

Prints one row per fault: seconds to the answer, its mode and notice; litellm alone; and the worst case.
"""

from __future__ import annotations

import common  # noqa: F401  (sets the offline environment first)

import argparse
import json
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(common.ROOT / "tests"))

from fakellm import FakeLLM, closed_port_url  # noqa: E402

import rag  # noqa: E402

QUESTION = "Who is Belarus's foreign minister?"
FAULTS = {
    "keep-alive trickle (60 s)": lambda f: f.trickle(60, every=0.5),
    "one byte every 0.3 s": lambda f: f.drip("Vladimir Makei is Belarus's foreign minister [1]. " * 4, every=0.3),
    "no answer for 60 s": lambda f: f.hang(60),
    "slow 500s, retried": lambda f: [f.fail(500, "overloaded", delay=2.0) for _ in range(5)],
    "429 rate limit": lambda f: [f.fail(429, "slow down") for _ in range(5)],
    "500 server error": lambda f: [f.fail(500, "boom") for _ in range(5)],
    "401 bad key": lambda f: [f.fail(401, "Incorrect API key") for _ in range(5)],
    "context too long": lambda f: [f.fail(400, "maximum context length is 8192 tokens",
                                          code="context_length_exceeded") for _ in range(5)],
    "stream cut mid-body": lambda f: f.break_stream("Vladimir Makei is Belarus's"),
    "empty reply": lambda f: f.reply(""),
    "100,000-character reply": lambda f: f.reply("Vladimir Makei is Belarus's foreign minister [1]. " * 2000),
    "reasoning cut at the token limit": lambda f: f.reply("<think>\nThe user asks about " + "the minister " * 200,
                                                          finish_reason="length"),
}


def litellm_alone(base_url: str, timeout: float, limit: float = 60.0) -> float:
    """Seconds litellm's own timeout and retries take on the scripted fault (stopped at `limit`)."""
    import litellm

    done = threading.Event()

    def call() -> None:
        try:
            for _ in litellm.completion(model="openai/test-model", messages=[{"role": "user", "content": QUESTION}],
                                        api_base=base_url, api_key="sk-x", timeout=timeout, num_retries=2,
                                        stream=True):
                pass
        except Exception:  # noqa: BLE001 - any failure ends the call; we only time it
            pass
        done.set()

    started = time.monotonic()
    threading.Thread(target=call, daemon=True).start()
    done.wait(limit)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=5.0, help="RAG_LLM_TIMEOUT for the run (default 5)")
    parser.add_argument("--no-baseline", action="store_true", help="skip litellm alone")
    args = parser.parse_args()
    common.clear_rag_environment()
    index = rag.open_index(tempfile.mkdtemp(prefix="faults-"), corpus=common.ROOT / "seeds")
    index.ingest(progress=False)
    index.ask(QUESTION)  # warm: model loaded, sentences embedded
    rows = []
    with FakeLLM() as fake:
        settings = index.settings.model_copy(update={"model": "openai/test-model", "api_base": fake.base_url,
                                                     "llm_timeout": args.timeout, "llm_retries": 2})
        llm = rag.Index(settings, embedder=index.embedder)
        fake.reply("Vladimir Makei [1].")
        llm.ask(QUESTION)  # warm litellm's async client
        cases = list(FAULTS.items()) + [("connection refused", None)]
        for name, script in cases:
            target = llm
            if script is None:
                target = rag.Index(settings.model_copy(update={"api_base": closed_port_url()}), embedder=index.embedder)
            else:
                script(fake)
            started = time.monotonic()
            answer = target.ask(QUESTION)
            seconds = time.monotonic() - started
            while fake.pending:
                fake._pop()
            alone = None
            if script is not None and not args.no_baseline:
                script(fake)
                alone = litellm_alone(fake.base_url, args.timeout)
                while fake.pending:
                    fake._pop()
            rows.append({"fault": name, "seconds": round(seconds, 2), "mode": answer.mode, "notice": answer.notice,
                         "litellm_alone_seconds": None if alone is None else round(alone, 1)})
    print(f"RAG_LLM_TIMEOUT={args.timeout:g}s, 2 retries\n")
    print("| fault | answered in (s) | mode | notice | litellm alone (s, stopped at 60) |\n|---|---|---|---|---|")
    for r in rows:
        notice = (r["notice"] or "")[:90]
        print(f"| {r['fault']} | {r['seconds']} | {r['mode']} | {notice} | {r['litellm_alone_seconds']} |")
    worst = max(r["seconds"] for r in rows)
    print(f"\nworst: {worst:.2f} s (limit {args.timeout + 2:g} s): {'PASS' if worst <= args.timeout + 2 else 'FAIL'}")
    out = common.ROOT / "bench" / "results" / "llm_faults.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"timeout": args.timeout, "rows": rows, "worst_seconds": worst}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
