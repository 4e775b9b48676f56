"""The three PNG figures of an evaluation run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

from rag.eval.run import LATENCY, METRICS

PLOTS = {"metrics": "metrics.png", "latency": "latency.png", "recall_curve": "recall_at_k.png"}


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plots(out: Path, report: dict, records: list[dict]) -> dict[str, str]:
    """Write metrics.png (each 0-1 metric with its 95% CI), latency.png (histogram of answer latency) and
    recall_at_k.png (document recall@k, k = 1..10); return {figure: file name} for those written."""
    plt = _pyplot()
    written: dict[str, str] = {}
    title = f"{report['question_set']['name']} - {report['run']['mode']}, k={report['run']['k']}"

    shown = [(n, m) for n, m in report["metrics"].items()
             if n in METRICS and n not in LATENCY and m["value"] is not None]
    if shown:
        fig, ax = plt.subplots(figsize=(7, 0.42 * len(shown) + 1.2))
        names = [n for n, _ in shown][::-1]
        values = [m["value"] for _, m in shown][::-1]
        lows = [m["value"] - m["ci_low"] if m["ci_low"] is not None else 0 for _, m in shown][::-1]
        highs = [m["ci_high"] - m["value"] if m["ci_high"] is not None else 0 for _, m in shown][::-1]
        colors = ["#c0504d" if not METRICS[n][1] else "#4f81bd" for n in names]
        ax.barh(names, values, xerr=[lows, highs], color=colors, capsize=3)
        for y, v in enumerate(values):
            ax.text(1.04, y, f"{v:.3f}", va="center", fontsize=8)
        ax.set_xlim(0, 1.15)
        ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.set_xlabel("mean, 95% bootstrap CI (red: lower is better)")
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        fig.savefig(out / PLOTS["metrics"], dpi=110)
        plt.close(fig)
        written["metrics"] = PLOTS["metrics"]

    latencies = [r["latency_ms"] for r in records if r.get("latency_ms") is not None]
    if latencies:
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.hist(latencies, bins=min(40, max(5, len(latencies) // 4)), color="#4f81bd")
        for name, style in (("latency_p50_ms", "-"), ("latency_p95_ms", "--")):
            value = report["metrics"][name]["value"]
            if value is not None:
                ax.axvline(value, color="black", linestyle=style, label=f"{name[8:11]} {value:.0f} ms")
        ax.set_xlabel("answer latency per question (ms, index.ask)")
        ax.set_ylabel("questions")
        ax.set_title(title, fontsize=10)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / PLOTS["latency"], dpi=110)
        plt.close(fig)
        written["latency"] = PLOTS["latency"]

    curve = [p for p in report.get("recall_curve", []) if p["value"] is not None]
    if curve:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.plot([p["k"] for p in curve], [p["value"] for p in curve], marker="o")
        ax.set_xticks([p["k"] for p in curve])
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("k (passages retrieved)")
        ax.set_ylabel("recall@k (a gold document in the top k)")
        ax.grid(alpha=0.3)
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        fig.savefig(out / PLOTS["recall_curve"], dpi=110)
        plt.close(fig)
        written["recall_curve"] = PLOTS["recall_curve"]
    return written
