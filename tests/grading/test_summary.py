"""Итог `make grade` для преподавателя: сколько работ в каком состоянии и что с каждой
непроверенной до конца; строки из работы видны, а не исполняются в терминале."""

from __future__ import annotations

from course_grader.records import STATUSES, SubmissionResult, summary_table


def test_summary_counts_statuses_and_names_every_work_to_look_at():
    results = [
        SubmissionResult(student="ivanov", status="graded"),
        SubmissionResult(student="petrova", status="graded"),
        SubmissionResult(student="sidorov", status="timed_out", detail="ячейка 12"),
        SubmissionResult(student="evil\x1b[2K", status="evidence_tampered", detail="export/x"),
    ]
    lines = summary_table(results).splitlines()
    total = next(line for line in lines if line.startswith("Итог:"))
    assert "graded — 2" in total and "timed_out — 1" in total
    assert "evidence_tampered — 1" in total
    to_look = [line for line in lines if line.strip().startswith("посмотрите")]
    assert len(to_look) == 2
    assert "sidorov: timed_out" in to_look[0] and STATUSES["timed_out"] in to_look[0]
    assert "(ячейка 12)" in to_look[0]
    assert "\x1b" not in "\n".join(lines) and "evil\\x1b[2K" in to_look[1]


def test_all_graded_needs_no_look():
    lines = summary_table([SubmissionResult(student="a", status="graded")]).splitlines()
    assert lines[-1] == "Итог: graded — 1"
    assert not any("посмотрите" in line for line in lines)
