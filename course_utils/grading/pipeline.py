"""Проверка одной работы (:func:`grade_submission`) и всей группы (:func:`grade_all`).

:func:`grade_submission` — чистая функция: проверяет ОДНУ работу в своей песочнице, пишет
только в свои папки (``autograded/<студент>/`` и ``feedback/<студент>/``) и возвращает
:class:`SubmissionResult`, который можно передать между процессами (pickle). Её можно
выполнять где угодно, где есть окружение курса, — в том числе на исполнителях Dask
(:mod:`.schedule`). :func:`grade_all` — координатор: один процесс, единственный, кто пишет
базу оценок nbgrader, ``grades.csv`` и сводную таблицу.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import html
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils import manifest
from course_utils.config import REPO_ROOT
from course_utils.grading import sandbox, verify

#: Состояния работы в grades.csv и их смысл.
STATUSES = {
    "graded": "проверена",
    "timed_out": "ячейка не уложилась в предел времени и не прервалась",
    "killed_memory": "превышен предел памяти",
    "kernel_died": "ядро Jupyter завершилось",
    "unreadable": "файл ноутбука не читается",
    "error": "выполнение оборвалось",
}


@dataclass(frozen=True)
class GradingSettings:
    """Настройки проверки (передаются исполнителям вместе с работой)."""

    course_dir: Path = REPO_ROOT / "grading"
    #: Задание и ядро — по умолчанию первое задание из course.toml.
    assignment: str = field(default_factory=lambda: manifest.load().assignments[0].name)
    kernel_name: str = field(default_factory=lambda: manifest.load().assignments[0].kernel)
    #: Предел на одну ячейку, секунды.
    cell_timeout: int = 1200
    #: Предел памяти всей работы (ядро и всё, что оно запустило), МБ.
    memory_mb: int = 6144
    #: Предел числа процессов и потоков работы.
    max_pids: int = 1024
    #: ``bwrap`` или ``none`` (без песочницы: только для своих, заведомо честных ноутбуков).
    sandbox: str = "bwrap"
    #: ``COURSE_DATA`` для работы и для проверяющего (один и тот же источник).
    course_data: str = "download"
    #: ``COURSE_FAST`` для работы.
    fast: bool = False
    #: Папки, скрытые от работы, кроме папки курса, домашней и /tmp (``GRADING_HIDE``).
    hide: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, **overrides) -> GradingSettings:
        """Настройки из переменных окружения ``GRADING_*``, ``COURSE_DATA``, ``COURSE_FAST``."""
        env = os.environ
        values = {
            "cell_timeout": int(env.get("GRADING_CELL_TIMEOUT", cls.cell_timeout)),
            "memory_mb": int(env.get("GRADING_MEMORY_MB", cls.memory_mb)),
            "max_pids": int(env.get("GRADING_MAX_PIDS", cls.max_pids)),
            "sandbox": env.get("GRADING_SANDBOX", cls.sandbox),
            "course_data": env.get("COURSE_DATA", "").strip() or "download",
            "fast": env.get("COURSE_FAST", "").strip().lower() in ("1", "true", "yes"),
            "hide": tuple(p for p in env.get("GRADING_HIDE", "").split(os.pathsep) if p),
        }
        values.update(overrides)
        settings = cls(**values)
        if settings.sandbox not in ("bwrap", "none"):
            raise ValueError(f"GRADING_SANDBOX={settings.sandbox!r}: допустимо bwrap или none.")
        return settings

    @property
    def memory_bytes(self) -> int:
        """Предел памяти одной проверки в байтах (по нему планировщик считает, сколько влезет)."""
        return self.memory_mb * 1024 * 1024

    @property
    def source(self) -> Path:
        return self.course_dir / "source" / self.assignment / f"{self.assignment}.ipynb"

    def submissions(self) -> list[Path]:
        """Папки сданных работ ``submitted/<студент>/`` (в каждой — папка задания)."""
        root = self.course_dir / "submitted"
        return (
            sorted(p for p in root.iterdir() if (p / self.assignment).is_dir())
            if root.is_dir()
            else []
        )

    def notebook(self, submission_dir: Path) -> Path:
        return submission_dir / self.assignment / f"{self.assignment}.ipynb"

    def autograded(self, student: str) -> Path:
        return self.course_dir / "autograded" / student / self.assignment

    def feedback(self, student: str) -> Path:
        return self.course_dir / "feedback" / student / self.assignment

    def hidden(self) -> list[Path]:
        """Что работа не должна видеть: папки курса (база, работы, эталон) и домашняя."""
        paths = [self.course_dir, REPO_ROOT / "grading", Path.home(), *map(Path, self.hide)]
        unique = []
        for p in paths:
            p = p.expanduser().resolve()
            if p not in unique and p != Path("/"):
                unique.append(p)
        return unique


#: Итог одной проверки (grade_id, title, points, max_points, message): та же запись, что
#: пишет проверяющий (:class:`.verify.Check`), а не её копия.
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


# --------------------------------------------------------------------------- одна работа


def _sandbox_argv(settings: GradingSettings, inside: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "course_utils.grading.execute",
        f"{inside}/notebook.ipynb",
        f"{inside}/queries.npz",
        f"{inside}/export",
        "--kernel",
        settings.kernel_name,
        "--cell-timeout",
        str(settings.cell_timeout),
    ]


def _read_json(path: Path) -> dict:
    with contextlib.suppress(OSError, ValueError):
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 5_000_000:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
    return {}


def grade_submission(submission_dir: Path, settings: GradingSettings) -> SubmissionResult:
    """Проверяет одну работу ``submitted/<студент>/`` в своей песочнице.

    Пишет выполненный ноутбук в ``autograded/<студент>/`` и отзыв в ``feedback/<студент>/``
    (обе папки создаются заново) и возвращает результат. Что бы ни делала работа, результат
    есть: состояние (``graded``, ``timed_out``, ...) и баллы за каждую проверку.
    """
    start = time.monotonic()
    submission_dir = Path(submission_dir)
    student = submission_dir.name
    points = verify.points_from_source(settings.source)
    notebook_file = settings.notebook(submission_dir)
    result = SubmissionResult(
        student=student, status="graded", notebook_sha256=notebook_hash(notebook_file)
    )
    out_nb, out_fb = settings.autograded(student), settings.feedback(student)
    for folder in (out_nb, out_fb):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    try:
        nb = nbformat.read(notebook_file, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 — любой негодный файл — это состояние работы
        nb = None
        result.status = "unreadable"
        result.detail = f"{type(exc).__name__}: {exc}"[:300]

    executed = None
    with tempfile.TemporaryDirectory(prefix=f"vae-grading-{student}-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        export = work / "export"
        why = ""
        if nb is not None:
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
            nbformat.write(nb, work / "notebook.ipynb")
            verify.write_queries(work / "queries.npz", settings.course_data)
            use_sandbox = settings.sandbox != "none"
            inside = sandbox.WORK_INSIDE if use_sandbox else str(work)
            n_cells = sum(c.cell_type == "code" for c in nb.cells)
            run = sandbox.run_sandboxed(
                _sandbox_argv(settings, inside),
                work_dir=work,
                hidden=settings.hidden(),
                env=sandbox.sandbox_env(
                    {
                        "COURSE_DATA": settings.course_data,
                        "COURSE_FAST": "1" if settings.fast else "0",
                    }
                ),
                course_data=settings.course_data,
                memory_mb=settings.memory_mb,
                max_pids=settings.max_pids,
                # Общий предел: все ячейки по пределу, прерывания, вынос и запуск ядра.
                timeout=(n_cells + 4) * settings.cell_timeout + 120,
                use_sandbox=use_sandbox,
            )
            report = _read_json(export / "run.json")
            if run.oom_killed:
                result.status, why = (
                    "killed_memory",
                    f"работа превысила предел памяти ({settings.memory_mb} МБ)",
                )
            elif run.timed_out or report.get("status") == "timed_out":
                result.status, why = (
                    "timed_out",
                    (f"ячейка не уложилась в предел {settings.cell_timeout} с и не прервалась"),
                )
            elif report.get("status") == "kernel_died":
                result.status, why = "kernel_died", "ядро Jupyter завершилось во время выполнения"
            elif report.get("status") != "completed" or not report.get("finished"):
                result.status, why = "error", "выполнение оборвалось, итогов нет"
            result.detail = str(report.get("message", ""))[:300] or (
                run.output[-300:] if result.status == "error" else ""
            )
            with contextlib.suppress(Exception):
                if (export / "executed.ipynb").stat().st_size < 200_000_000:
                    executed = nbformat.read(export / "executed.ipynb", as_version=4)
        else:
            why = "ноутбук не читается"
        checks, typed = verify.verify(
            export, settings.course_data, points, why_missing=why.capitalize()
        )
        result.checks = [CheckResult(**dataclasses.asdict(c)) for c in checks]
        result.student_id_typed = typed

    target = out_nb / f"{settings.assignment}.ipynb"
    if executed is not None:
        nbformat.write(executed, target)
    elif notebook_file.is_file():
        shutil.copyfile(notebook_file, target)
    result.seconds = round(time.monotonic() - start, 1)
    write_feedback(result, executed, out_fb / f"{settings.assignment}.html")
    return result


def _summary_html(result: SubmissionResult) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c.title)}</td><td>{c.points:g} из {c.max_points:g}</td>"
        f"<td>{html.escape(c.message)}</td></tr>"
        for c in result.checks
    )
    detail = (
        f"<p>{html.escape(result.detail)}</p>"
        if result.detail and result.status != "graded"
        else ""
    )
    return (
        f"<h2>Итог проверки: {result.score:g} из {result.max_score:g}</h2>"
        f"<p>Студент: {html.escape(result.student)}; STUDENT_ID в работе: "
        f"{html.escape(result.student_id_typed or '—')}; состояние: {html.escape(STATUSES.get(result.status, result.status))}.</p>"
        f"{detail}<table border='1' cellpadding='4'><tr><th>проверка</th><th>баллы</th><th>что проверено / что исправить</th></tr>{rows}</table>"
    )


def write_feedback(result: SubmissionResult, executed, path: Path) -> None:
    """Отзыв: таблица проверок (название, баллы, сообщение) и выполненный ноутбук студента.

    Исходного кода проверок в отзыве нет: только их названия и сообщения.
    """
    summary = _summary_html(result)
    body = ""
    if executed is not None:
        with contextlib.suppress(Exception):
            from nbconvert import HTMLExporter

            body, _ = HTMLExporter().from_notebook_node(executed)
    if body and "<body" in body:
        head, _, rest = body.partition("<body")
        tag_end = rest.index(">") + 1
        page = f"{head}<body{rest[:tag_end]}<div style='margin:1em'>{summary}</div>{rest[tag_end:]}"
    else:
        page = (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{summary}</body></html>"
        )
    path.write_text(page, encoding="utf-8")


# --------------------------------------------------------------------------- вся группа


class PreflightError(RuntimeError):
    """Проверку нельзя начинать: не хватает данных, ядра или песочницы."""


def preflight(settings: GradingSettings) -> dict[str, float]:
    """Проверяет всё, от чего зависят баллы, ДО проверки работ; возвращает баллы проверок.

    Сбой инфраструктуры (нет данных, ядра, песочницы) — исключение с объяснением, а не
    нули у всех студентов.
    """
    if not settings.source.is_file():
        raise PreflightError(f"Нет ноутбука преподавателя {settings.source}.")
    points = verify.points_from_source(settings.source)
    unknown = sorted(set(points) - set(verify.CHECKS))
    if unknown or not points:
        raise PreflightError(
            f"В ноутбуке преподавателя ячейки с оценкой {unknown or '(нет ни одной)'} без проверки "
            f"в course_utils/grading/verify.py (есть проверки: {sorted(verify.CHECKS)})."
        )
    if settings.course_data == "download" and settings.sandbox != "none":
        raise PreflightError(
            "COURSE_DATA не задана: работы в песочнице без сети не смогут скачать CIFAR-10. "
            "Задайте COURSE_DATA=<папка с cifar-10/cifar-10-python.tar.gz> (или sample)."
        )
    try:
        verify.real_cifar10(settings.course_data)
        verify.heldout_indices(settings.course_data)
    except Exception as exc:  # noqa: BLE001 — любая причина: проверку начинать нельзя
        raise PreflightError(
            f"Набор CIFAR-10 не загружается (COURSE_DATA={settings.course_data!r}): "
            f"{type(exc).__name__}: {exc}\nБез него проверка поставила бы честным студентам нули; "
            "задайте COURSE_DATA=<папка с cifar-10/cifar-10-python.tar.gz> или COURSE_DATA=sample."
        ) from exc
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(settings.kernel_name)
    except NoSuchKernel as exc:
        raise PreflightError(
            f"Нет ядра Jupyter {settings.kernel_name!r}, в котором выполняются работы: выполните "
            f"`make setup` (python -m ipykernel install --sys-prefix --name {settings.kernel_name})."
        ) from exc
    if not shutil.which(spec.argv[0]):
        raise PreflightError(
            f"Ядро {settings.kernel_name!r} ссылается на несуществующий Python {spec.argv[0]}."
        )
    if settings.sandbox == "none":
        print(
            "ВНИМАНИЕ: GRADING_SANDBOX=none — работы выполняются БЕЗ песочницы, с вашими правами: "
            "они видят базу оценок и чужие работы, сеть, могут оставить процессы. Только для "
            "заведомо честных ноутбуков!",
            file=sys.stderr,
        )
    else:
        with tempfile.TemporaryDirectory(prefix="vae-grading-probe-") as tmp:
            try:
                sandbox.check_sandbox(Path(tmp) / "work", settings.hidden(), settings.course_data)
            except sandbox.SandboxUnavailable as exc:
                raise PreflightError(str(exc)) from exc
    return points


def grade_or_error(submission_dir: Path, settings: GradingSettings) -> SubmissionResult:
    """:func:`grade_submission`, но неожиданный сбой становится строкой ``error``, а не падением."""
    try:
        return grade_submission(submission_dir, settings)
    except Exception as exc:  # noqa: BLE001 — одна работа не должна останавливать остальные
        points = verify.points_from_source(settings.source)
        checks = [
            CheckResult(
                g,
                verify.CHECKS[g][0],
                0.0,
                p,
                "Работа не проверена из-за сбоя проверки; сообщите преподавателю.",
            )
            for g, p in points.items()
        ]
        return SubmissionResult(
            student=Path(submission_dir).name,
            status="error",
            checks=checks,
            notebook_sha256=notebook_hash(settings.notebook(Path(submission_dir))),
            detail=f"сбой проверки: {type(exc).__name__}: {exc}"[:300],
        )


def _result_file(settings: GradingSettings, student: str) -> Path:
    return settings.autograded(student) / "result.json"


def load_result(settings: GradingSettings, student: str) -> tuple[SubmissionResult | None, str]:
    """Сохранённый итог студента и хеш ноутбука преподавателя, с которым он получен."""
    data = _read_json(_result_file(settings, student))
    with contextlib.suppress(Exception):
        return SubmissionResult.from_json(data["result"]), data.get("source_sha256", "")
    return None, ""


def save_result(settings: GradingSettings, result: SubmissionResult) -> None:
    path = _result_file(settings, result.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"result": result.to_json(), "source_sha256": notebook_hash(settings.source)}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")


def needs_grading(settings: GradingSettings, submission_dir: Path) -> bool:
    """Нет итога, ноутбук изменён (пересдан) или изменился ноутбук преподавателя."""
    result, source_hash = load_result(settings, submission_dir.name)
    return (
        result is None
        or result.notebook_sha256 != notebook_hash(settings.notebook(submission_dir))
        or source_hash != notebook_hash(settings.source)
    )


def write_gradebook(settings: GradingSettings, results: list[SubmissionResult]) -> None:
    """Записывает баллы в базу nbgrader (её пишет только координатор)."""
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    # nbgrader сам создаёт записи работы так, что SQLAlchemy предупреждает (безвредно).
    with (
        warnings.catch_warnings(),
        Gradebook(f"sqlite:///{settings.course_dir / 'gradebook.db'}") as gb,
    ):
        try:
            gb.find_assignment(settings.assignment)
        except MissingEntry as exc:
            raise PreflightError(
                f"В базе nbgrader нет задания {settings.assignment}: сначала `make release` "
                "(nbgrader generate_assignment)."
            ) from exc
        warnings.simplefilter("ignore", SAWarning)
        for result in results:
            gb.update_or_create_student(result.student)
            gb.update_or_create_submission(settings.assignment, result.student)
            for check in result.checks:
                grade = gb.find_grade(
                    check.grade_id, settings.assignment, settings.assignment, result.student
                )
                grade.auto_score = check.points
                grade.manual_score = None
            gb.db.commit()


def write_grades_csv(
    settings: GradingSettings, results: list[SubmissionResult], path: Path
) -> None:
    grade_ids = list(verify.points_from_source(settings.source))
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
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for r in results:
            points = {c.grade_id: c.points for c in r.checks}
            writer.writerow(
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


def summary_table(results: list[SubmissionResult]) -> str:
    rows = [("студент", "баллы", "состояние", "STUDENT_ID", "секунд")]
    rows += [
        (
            r.student,
            f"{r.score:g}/{r.max_score:g}",
            r.status,
            r.student_id_typed or "—",
            f"{r.seconds:.0f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def grade_all(
    settings: GradingSettings, students: list[str] | None = None, force: bool = False, echo=print
) -> list[SubmissionResult]:
    """Проверяет новые и пересданные работы (или ``students``, или все при ``force``).

    Пишет итоги, базу оценок, ``grades.csv`` и возвращает итоги всех студентов.
    """
    from course_utils.grading.schedule import map_submissions

    preflight(settings)
    submissions = settings.submissions()
    if students:
        known = {p.name for p in submissions}
        missing = sorted(set(students) - known)
        if missing:
            raise PreflightError(
                f"Нет работ студентов {missing} в {settings.course_dir / 'submitted'}."
            )
        todo = [p for p in submissions if p.name in students]
    else:
        todo = [p for p in submissions if force or needs_grading(settings, p)]
    echo(f"Работ: {len(submissions)}, проверяются: {len(todo)} (остальные не менялись).")
    for result in map_submissions(grade_or_error, todo, settings):
        save_result(settings, result)
        write_gradebook(settings, [result])
        echo(
            f"  {result.student}: {result.score:g}/{result.max_score:g}, {result.status} ({result.seconds:.0f} с)"
        )
    results = [r for r in (load_result(settings, p.name)[0] for p in submissions) if r is not None]
    write_grades_csv(settings, results, settings.course_dir / "grades.csv")
    echo(summary_table(results))
    return results
