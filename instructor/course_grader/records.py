"""Итоги проверки: запись результата работы, отзыв, ``grades.csv`` и сводная таблица.

Итог одной работы (:class:`SubmissionResult`) сохраняется рядом с выполненным ноутбуком
(``autograded/<студент>/<задание>/result.json``), чтобы неизменённые работы не
проверялись заново. Отзыв показывает название, баллы и сообщение каждой проверки, но
не их исходный код.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from course_grader import inert
from course_grader.settings import GradingSettings
from course_utils.checks import evidence, verify

#: Состояния работы в grades.csv и их смысл.
STATUSES = {
    "graded": "проверена",
    "timed_out": "ячейка не уложилась в предел времени и не прервалась",
    "killed_memory": "превышен предел памяти",
    "killed_disk": "превышен предел места на диске",
    "evidence_tampered": "вынос результатов подменён (ссылка, канал, не файл или слишком большой файл)",
    "needs_review": "проверена, но модель не загрузилась в чистом процессе: посмотрите работу",
    "kernel_died": "ядро Jupyter завершилось",
    "unreadable": "файл ноутбука не читается",
    "error": "выполнение оборвалось",
}


#: Итог одной проверки (grade_id, title, points, max_points, message): та же запись, что
#: пишет проверяющий (:class:`course_utils.checks.verify.Check`), а не её копия.
CheckResult = verify.Check


@dataclass
class SubmissionResult:
    """Итог одной работы: его пишет координатор в базу и в grades.csv."""

    student: str
    status: str
    checks: list[CheckResult] = field(default_factory=list)
    #: Номер билета, который студент вписал в STUDENT_ID (сверьте со списком группы).
    student_id_typed: str | None = None
    seconds: float = 0.0
    notebook_sha256: str = ""
    #: Пояснение к состоянию (что оборвалось и где).
    detail: str = ""

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.checks)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> SubmissionResult:
        checks = [CheckResult(**c) for c in data.pop("checks", [])]
        return cls(checks=checks, **data)


def notebook_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def read_json(path: Path) -> dict:
    with contextlib.suppress(OSError, ValueError):
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 5_000_000:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
    return {}


def _summary_html(result: SubmissionResult) -> str:
    """Таблица проверок; всё, что пришло из работы (имя, STUDENT_ID, сообщения), — как текст."""
    text = inert.text
    rows = "".join(
        f"<tr><td>{text(c.title)}</td><td>{c.points:g} из {c.max_points:g}</td>"
        f"<td>{text(c.message)}</td></tr>"
        for c in result.checks
    )
    detail = f"<p>{text(result.detail)}</p>" if result.detail and result.status != "graded" else ""
    return (
        f"<h2>Итог проверки: {result.score:g} из {result.max_score:g}</h2>"
        f"<p>Студент: {text(result.student)}; STUDENT_ID в работе: "
        f"{text(result.student_id_typed or '—')}; состояние: "
        f"{text(STATUSES.get(result.status, result.status))}.</p>{detail}"
        "<table border='1' cellpadding='4'><tr><th>проверка</th><th>баллы</th>"
        f"<th>что проверено / что исправить</th></tr>{rows}</table>"
    )


#: Стиль отзыва (CSS проверяющего; стили nbconvert не нужны: страница без скриптов).
_FEEDBACK_STYLE = (
    "body{font-family:sans-serif;margin:1em;max-width:60em}"
    "pre{background:#f6f6f6;padding:.5em;overflow-x:auto;white-space:pre-wrap}"
    "img{max-width:100%}table{border-collapse:collapse}"
)


def write_feedback(result: SubmissionResult, executed, path: Path) -> None:
    """Отзыв: таблица проверок (название, баллы, сообщение) и выполненный ноутбук студента.

    Исходного кода проверок в отзыве нет: только их названия и сообщения. Ноутбук студента
    (nbconvert, шаблон ``basic`` — только тело, без скриптов) проходит через санитайзер
    :func:`.inert.clean_html`, а страница запрещает скрипты (:func:`.inert.html_page`):
    ``<script>``, ``onerror`` и ``javascript:`` из работы не выполняются, картинки видны.
    """
    body = ""
    if executed is not None:
        with contextlib.suppress(Exception):
            from nbconvert import HTMLExporter

            body, _ = HTMLExporter(template_name="basic").from_notebook_node(executed)
    page = inert.html_page(
        f"Отзыв: {result.student}",
        f"<div>{_summary_html(result)}</div><hr>{inert.clean_html(body)}",
        style=_FEEDBACK_STYLE,
    )
    path.write_text(page, encoding="utf-8")


def result_file(settings: GradingSettings, student: str) -> Path:
    return settings.autograded(student) / "result.json"


def load_result(settings: GradingSettings, student: str) -> tuple[SubmissionResult | None, str]:
    """Сохранённый итог студента и хеш ноутбука преподавателя, с которым он получен."""
    data = read_json(result_file(settings, student))
    with contextlib.suppress(Exception):
        return SubmissionResult.from_json(data["result"]), data.get("source_sha256", "")
    return None, ""


def save_result(settings: GradingSettings, result: SubmissionResult) -> None:
    from course_grader import provenance

    path = result_file(settings, result.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "result": result.to_json(),
        "source_sha256": notebook_hash(settings.source),
        # Версия проверяющего, настройки, время, песочница: оценку можно воспроизвести.
        "provenance": provenance.record(settings, result),
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")


def write_grades_csv(
    settings: GradingSettings, results: list[SubmissionResult], path: Path
) -> None:
    """``grades.csv``: ячейки из работы (имя, STUDENT_ID, пояснение) — не формулы (:mod:`.inert`)."""
    grade_ids = list(evidence.points_from_source(settings.source))
    columns = [
        "student",
        "status",
        "score",
        "max_score",
        *grade_ids,
        "student_id_typed",
        "seconds",
        "notebook_sha256",
        "detail",
    ]
    rows = []
    for r in results:
        points = {c.grade_id: c.points for c in r.checks}
        rows.append(
            [
                r.student,
                r.status,
                f"{r.score:g}",
                f"{r.max_score:g}",
                *(f"{points.get(g, 0):g}" for g in grade_ids),
                r.student_id_typed or "",
                f"{r.seconds:.1f}",
                r.notebook_sha256,
                r.detail,
            ]
        )
    inert.write_csv(path, columns, rows)


def summary_table(results: list[SubmissionResult]) -> str:
    rows = [("студент", "баллы", "состояние", "STUDENT_ID", "секунд")]
    # Имя папки и STUDENT_ID — из работы: управляющие символы видны, а не исполняются.
    rows += [
        (
            inert.terminal(r.student),
            f"{r.score:g}/{r.max_score:g}",
            r.status,
            inert.terminal(r.student_id_typed or "—")[:80],
            f"{r.seconds:.0f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + [""] + action_summary(results))


def action_summary(results: list[SubmissionResult]) -> list[str]:
    """Итог для преподавателя: сколько работ в каждом состоянии и что сделать с каждой
    непроверенной до конца (состояние, его смысл и что оборвалось)."""
    counts = Counter(r.status for r in results)
    lines = ["Итог: " + ", ".join(f"{status} — {n}" for status, n in sorted(counts.items()))]
    for r in results:
        if r.status != "graded":
            reason = STATUSES.get(r.status, r.status)
            detail = f" ({inert.terminal(r.detail)[:200]})" if r.detail else ""
            lines.append(f"  посмотрите {inert.terminal(r.student)}: {r.status} — {reason}{detail}")
    return lines
