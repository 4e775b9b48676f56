"""`rag eval --compare RUN_A RUN_B`: two runs side by side.

For each metric: A's value, B's value, the difference B - A, and a 95% paired bootstrap interval of that
difference over the question ids both runs share and the metric applies to in both
(rag.eval.metrics.paired_bootstrap_diff). Latency percentiles get the difference only. Then the questions that went
from right to wrong and from wrong to right (`correct` in per_question.jsonl), and the settings that differ.
"""

from __future__ import annotations

from pathlib import Path

from rag.eval.metrics import paired_bootstrap_diff
from rag.eval.report import fmt, load_run, table
from rag.eval.run import LATENCY, METRICS


def compare_runs(path_a: str | Path, path_b: str | Path) -> dict:
    report_a, records_a, folder_a = load_run(path_a)
    report_b, records_b, folder_b = load_run(path_b)
    by_id_a = {r["id"]: r for r in records_a}
    by_id_b = {r["id"]: r for r in records_b}
    shared = [i for i in by_id_a if i in by_id_b]
    metrics = {}
    for name in METRICS:
        a = report_a.get("metrics", {}).get(name, {}).get("value")
        b = report_b.get("metrics", {}).get(name, {}).get("value")
        entry = {"a": a, "b": b, "diff": None if a is None or b is None else round(b - a, 4),
                 "ci_low": None, "ci_high": None, "n_paired": 0}
        if name not in LATENCY:
            pairs = [(by_id_a[i]["metrics"].get(name), by_id_b[i]["metrics"].get(name)) for i in shared]
            pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
            entry["n_paired"] = len(pairs)
            result = paired_bootstrap_diff([x for x, _ in pairs], [y for _, y in pairs]) if pairs else None
            if result is not None:
                entry["paired_diff"] = round(result[0], 4)
                entry["ci_low"], entry["ci_high"] = round(result[1][0], 4), round(result[1][1], 4)
        metrics[name] = entry

    def flip(before: bool, after: bool) -> list[dict]:
        return [{"id": i, "question": by_id_a[i]["question"], "answer_a": by_id_a[i]["answer"],
                 "answer_b": by_id_b[i]["answer"]}
                for i in shared if by_id_a[i].get("correct") is before and by_id_b[i].get("correct") is after]

    settings_a, settings_b = report_a.get("settings", {}), report_b.get("settings", {})
    differ = {key: [settings_a.get(key), settings_b.get(key)] for key in sorted({*settings_a, *settings_b})
              if settings_a.get(key) != settings_b.get(key) and key not in ("index_dir", "corpus")}
    # a key one run does not record (made by an older version) is not the same as a recorded null
    unrecorded = {"a": sorted(k for k in differ if k not in settings_a),
                  "b": sorted(k for k in differ if k not in settings_b)}
    return {
        "a": str(folder_a), "b": str(folder_b),
        "name_a": folder_a.resolve().name, "name_b": folder_b.resolve().name,
        "shared_questions": len(shared),
        "only_in_a": len(by_id_a) - len(shared), "only_in_b": len(by_id_b) - len(shared),
        "metrics": metrics,
        "right_to_wrong": flip(True, False),
        "wrong_to_right": flip(False, True),
        "settings_differ": differ,
        "settings_unrecorded": unrecorded,
    }


def _setting(result: dict, side: str, key: str, value: object) -> str:
    if key in result.get("settings_unrecorded", {}).get(side, ()):
        return "(not recorded)"
    return repr(value)


def compare_text(result: dict) -> str:
    a, b = result["name_a"], result["name_b"]
    if a == b:
        a, b = f"A ({a})", f"B ({b})"
    rows = []
    for name, m in result["metrics"].items():
        diff = "-" if m["diff"] is None else (f"{m['diff']:+.1f}" if name in LATENCY else f"{m['diff']:+.3f}")
        ci = f"[{m['ci_low']:+.3f}, {m['ci_high']:+.3f}]" if m["ci_low"] is not None else ""
        sign = ""
        if m["ci_low"] is not None and (m["ci_low"] > 0 or m["ci_high"] < 0):
            better = (m["ci_low"] > 0) == METRICS[name][1]
            sign = "better" if better else "worse"
        rows.append([name, fmt(name, m["a"]), fmt(name, m["b"]), diff, ci, str(m["n_paired"] or ""), sign])
    lines = [
        f"A = {result['a']}", f"B = {result['b']}",
        f"{result['shared_questions']} shared questions"
        + (f" ({result['only_in_a']} only in A, {result['only_in_b']} only in B)"
           if result["only_in_a"] or result["only_in_b"] else ""),
        "",
        table(rows, ["metric", a, b, "B - A", "95% CI (paired)", "n", "B is"]),
    ]
    if result["settings_differ"]:
        lines += ["", "settings that differ: " + "; ".join(
            f"{key}: {_setting(result, 'a', key, va)} -> {_setting(result, 'b', key, vb)}"
            for key, (va, vb) in result["settings_differ"].items())]
    for key, title in (("right_to_wrong", "right -> wrong"), ("wrong_to_right", "wrong -> right")):
        flips = result[key]
        lines += ["", f"{title} ({len(flips)}):"]
        lines += [f"  {f['id']}: {' '.join(f['question'].split())[:100]}" for f in flips] or ["  (none)"]
    return "\n".join(lines)
