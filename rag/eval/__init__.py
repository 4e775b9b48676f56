"""The evaluation wing: question sets, metrics, runs, reports, plots, comparisons, and the `rag eval` command.

    questions.py  load_questions(): JSONL/CSV question sets -> QuestionSet of EvalQuestion
    metrics.py    the metric arithmetic (pure): recall@k, MRR, nDCG, SQuAD EM/F1, bootstrap intervals
    run.py        open_eval_index(), evaluate(), summarize_records(): a set through an index
    judge.py      the optional LLM judge (faithfulness, correctness)
    report.py     report.json / per_question.jsonl / report.md, thresholds
    plots.py      the report's plots (matplotlib, loaded only when plotting)
    compare.py    two runs side by side with paired intervals
    cli.py        `rag eval`

Uses only the engine's public names; nothing in the engine imports this package.
"""
