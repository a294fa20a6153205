"""``make export LMS=moodle|canvas``: оценки (со штрафом за опоздание) и отзывы — в формате LMS.

Пишет в ``grading/export/<lms>/``:

* ``grades.csv`` — таблица для импорта оценок:

  - **Moodle** — «Лист оценок» задания (Offline grading worksheet; импорт: «Оценки» →
    «Загрузить лист оценок»). Moodle читает столбцы ``Identifier`` (``Participant <номер>``),
    ``Grade``, ``Last modified (grade)`` и ``Feedback comments``; остальные столбцы (в том
    числе баллы по проверкам и штраф) он пропускает — они для преподавателя;
  - **Canvas** — импорт журнала оценок (Grades → Import): ``Student``, ``ID``, ``SIS User ID``,
    ``SIS Login ID``, ``Section``, столбец задания и строка ``Points Possible``. Столбца
    комментариев в этом импорте у Canvas нет: отзыв уходит файлом (ниже);

* ``feedback.zip`` — отзывы студентам в раскладке массовой загрузки LMS:

  - **Moodle** («Загрузить несколько файлов отзывов в архиве ZIP»):
    ``Полное Имя_<participant id>_assignsubmission_file_/<задание>_feedback.html``;
  - **Canvas** («Re-Upload Submissions»): ``feedback_<user id>_<attachment id>_<задание>.html``
    (Canvas находит работу по первым двум числам в имени файла и прикладывает файл к ней
    комментарием).

Баллы проверки берутся из ``result.json``; штраф за опоздание — из ``timestamp.txt`` и
правил задания (:mod:`.late`) при каждой выгрузке, поэтому он верен после любой
перепроверки. Работы без итога или изменённые после проверки не выгружаются (о них —
в сводке). Всё, что пришло из работы или LMS (имена, сообщения), обезврежено (:mod:`.inert`).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from course_grader import collect, inert, late, records
from course_grader.settings import GradingSettings
from course_utils import manifest
from course_utils.checks import evidence

LMS_NAMES = ("moodle", "canvas")


@dataclass
class Row:
    """Одна выгружаемая оценка."""

    student: str
    result: records.SubmissionResult
    lateness: late.Late
    info: dict
    roster: collect.Student | None
    provenance: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return (self.roster.name if self.roster else "") or self.info.get("lms_name", "")

    @property
    def final(self) -> float:
        return self.lateness.apply(self.result.score)


@dataclass
class Export:
    lms: str
    rows: list[Row] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    folder: Path | None = None

    def text(self) -> str:
        lines = [f"Выгрузка для {self.lms}: оценок {len(self.rows)} -> {self.folder}"]
        for r in self.rows:
            penalty = f", штраф {r.lateness.percent:g} %" if r.lateness.percent else ""
            lines.append(
                f"  {inert.terminal(r.student)}: {r.result.score:g} -> {r.final:g} "
                f"из {r.result.max_score:g}{penalty}"
            )
        lines += [f"  ! {inert.terminal(s)}: {inert.terminal(why)}" for s, why in self.problems]
        return "\n".join(lines)


def _rows(settings: GradingSettings, assignment: manifest.Assignment, lms: str) -> Export:
    export = Export(lms)
    roster_path = settings.course_dir / "roster.csv"
    roster = (
        {s.student_id: s for s in collect.read_roster(roster_path)} if roster_path.is_file() else {}
    )
    for folder in settings.submissions():
        student = folder.name
        work = folder / assignment.name
        result, _ = records.load_result(settings, student)
        if result is None:
            export.problems.append((student, "не проверена: запустите make grade"))
            continue
        if result.notebook_sha256 != records.notebook_hash(settings.notebook(folder)):
            export.problems.append((student, "работа изменилась после проверки: make grade"))
            continue
        info = records.read_json(work / collect.INFO_FILE)
        if info.get("lms") != lms:
            export.problems.append(
                (student, f"работа собрана не из {lms} (нет номера {lms}): строки нет")
            )
            continue
        row = Row(
            student,
            result,
            late.assess(assignment, late.read_timestamp(work)),
            info,
            roster.get(student),
            records.read_json(records.result_file(settings, student)).get("provenance", {}),
        )
        counting = [v for v in info.get("versions", []) if v.get("file") == info.get("counting")]
        marker = any(v.get("late_marker") for v in counting)
        if lms == "canvas" and marker != (row.lateness.days_late > 0):
            export.problems.append(
                (student, "отметка Canvas LATE и время сдачи в архиве расходятся: проверьте")
            )
        export.rows.append(row)
    return export


def _comment(row: Row) -> str:
    """Короткий отзыв для столбца комментариев (HTML Moodle): только текст, экранированный."""
    parts = [
        f"Баллы проверки: {row.result.score:g} из {row.result.max_score:g}.",
        row.lateness.describe(),
        f"Итог: {row.final:g} из {row.result.max_score:g}.",
        *(f"{c.title}: {c.points:g} из {c.max_points:g}. {c.message}" for c in row.result.checks),
    ]
    return "<br>".join(inert.text(p) for p in parts)


def _body_of(page: str) -> str:
    match = re.search(r"<body[^>]*>(.*)</body>", page, re.DOTALL | re.IGNORECASE)
    return match.group(1) if match else page


def feedback_page(row: Row, settings: GradingSettings, assignment: manifest.Assignment) -> str:
    """Страница отзыва для LMS: итог со штрафом, откуда оценка и отзыв проверки (очищенный)."""
    text = inert.text
    checks = "".join(
        f"<tr><td>{text(c.title)}</td><td>{c.points:g} из {c.max_points:g}</td>"
        f"<td>{text(c.message)}</td></tr>"
        for c in row.result.checks
    )
    trace = row.provenance
    summary = (
        f"<h1>{text(assignment.title)}</h1>"
        f"<p>Студент: {text(row.name or row.student)}</p>"
        f"<h2>Оценка: {row.final:g} из {row.result.max_score:g}</h2>"
        f"<p>Баллы проверки: {row.result.score:g}. {text(row.lateness.describe())}</p>"
        "<table><tr><th>проверка</th><th>баллы</th><th>что проверено / что исправить</th></tr>"
        f"{checks}</table>"
        f"<p><small>Проверено {text(trace.get('graded_at') or '—')}; версия проверяющего "
        f"{text(trace.get('grader_commit') or '—')}; sha256 работы "
        f"{text(row.result.notebook_sha256)}; состояние {text(row.result.status)}.</small></p>"
    )
    graded = settings.feedback(row.student) / f"{assignment.name}.html"
    details = ""
    if graded.is_file() and not graded.is_symlink():
        details = "<hr>" + inert.clean_html(
            _body_of(graded.read_text(encoding="utf-8", errors="replace"))
        )
    style = "body{font-family:sans-serif;margin:1em;max-width:60em}td,th{border:1px solid #999;padding:4px}table{border-collapse:collapse}img{max-width:100%}pre{white-space:pre-wrap}"
    return inert.html_page(f"Отзыв: {assignment.title}", summary + details, style=style)


def _moodle_name(row: Row) -> str:
    """Имя папки Moodle: Moodle делит имя файла по «_», поэтому «_» в имени — пробел."""
    return (
        inert.file_component(row.info.get("lms_name") or row.name).replace("_", " ").strip()
        or "Student"
    )


def _feedback_path(row: Row, lms: str, assignment: manifest.Assignment) -> str:
    lms_id = row.info["lms_id"]
    if lms == "moodle":
        return (
            f"{_moodle_name(row)}_{lms_id}_assignsubmission_file_/{assignment.name}_feedback.html"
        )
    return f"feedback_{lms_id}_{row.info.get('attachment_id', '')}_{assignment.name}.html"


def _moodle_csv(export: Export, path: Path, grade_ids: list[str], now: str) -> None:
    header = [
        "Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
        "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
        "Feedback comments", "Score before late penalty", "Late penalty %", "Days late",
        *grade_ids,
    ]  # fmt: skip
    rows = []
    for r in export.rows:
        points = {c.grade_id: c.points for c in r.result.checks}
        rows.append(
            [
                f"Participant {r.info['lms_id']}",
                r.name,
                r.roster.email if r.roster else "",
                r.result.status,
                f"{r.final:.2f}",
                f"{r.result.max_score:.2f}",
                "Yes",
                r.lateness.submitted_at.isoformat() if r.lateness.submitted_at else "",
                now,
                _comment(r),
                f"{r.result.score:g}",
                f"{r.lateness.percent:g}",
                r.lateness.days_late,
                *(f"{points.get(g, 0):g}" for g in grade_ids),
            ]
        )
    inert.write_csv(path, header, rows)


def _canvas_csv(export: Export, path: Path, column: str, max_score: float) -> None:
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column]
    rows = [["    Points Possible", "", "", "", "", f"{max_score:g}"]]
    rows += [[r.name, r.info["lms_id"], "", "", "", f"{r.final:.2f}"] for r in export.rows]
    inert.write_csv(path, header, rows)


def export(settings: GradingSettings, lms: str, canvas_assignment_id: str = "") -> Export:
    """Пишет ``export/<lms>/grades.csv`` и ``feedback.zip``; возвращает итог выгрузки."""
    if lms not in LMS_NAMES:
        raise ValueError(
            f"LMS={lms!r}: допустимо {' или '.join(LMS_NAMES)} (make export LMS=moodle)."
        )
    assignment = manifest.load().assignment(settings.assignment)
    points = evidence.points_from_source(settings.source)
    result = _rows(settings, assignment, lms)
    out = settings.course_dir / "export" / lms
    out.mkdir(parents=True, exist_ok=True)
    result.folder = out
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    grade_ids, max_score = list(points), sum(points.values())
    if lms == "moodle":
        _moodle_csv(result, out / "grades.csv", grade_ids, now)
    else:
        column = assignment.title + (f" ({canvas_assignment_id})" if canvas_assignment_id else "")
        _canvas_csv(result, out / "grades.csv", column, max_score)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in result.rows:
            archive.writestr(
                _feedback_path(row, lms, assignment), feedback_page(row, settings, assignment)
            )
    tmp = out / ".feedback.zip.writing"
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(out / "feedback.zip")
    (out / "export.json").write_text(
        json.dumps(
            {"exported_at": now, "lms": lms, "students": [r.student for r in result.rows],
             "problems": result.problems},
            ensure_ascii=False, indent=1,
        ),
        encoding="utf-8",
    )  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Выгрузка оценок и отзывов для LMS.")
    parser.add_argument("--lms", required=True, help="moodle или canvas")
    parser.add_argument("--assignment", default=None, help="задание из course.toml")
    parser.add_argument("--course-dir", type=Path, default=None)
    parser.add_argument("--canvas-assignment-id", default="", help="номер задания в Canvas")
    args = parser.parse_args(argv)
    overrides = {"course_dir": args.course_dir} if args.course_dir else {}
    if args.assignment:
        overrides["assignment"] = args.assignment
    try:
        result = export(GradingSettings(**overrides), args.lms.lower(), args.canvas_assignment_id)
    except (ValueError, KeyError, OSError, collect.CollectError) as exc:
        print(f"Выгрузка не выполнена: {exc}", file=sys.stderr)
        return 2
    print(result.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
