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
import dataclasses
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from course_utils.grading import evidence, sandbox, verify
from course_utils.grading.records import (
    CheckResult,
    SubmissionResult,
    load_result,
    notebook_hash,
    read_json,
    save_result,
    summary_table,
    write_feedback,
    write_grades_csv,
)
from course_utils.grading.settings import GradingSettings

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


def grade_submission(submission_dir: Path, settings: GradingSettings) -> SubmissionResult:
    """Проверяет одну работу ``submitted/<студент>/`` в своей песочнице.

    Пишет выполненный ноутбук в ``autograded/<студент>/`` и отзыв в ``feedback/<студент>/``
    (обе папки создаются заново) и возвращает результат. Что бы ни делала работа, результат
    есть: состояние (``graded``, ``timed_out``, ...) и баллы за каждую проверку.
    """
    start = time.monotonic()
    submission_dir = Path(submission_dir)
    student = submission_dir.name
    points = evidence.points_from_source(settings.source)
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
            evidence.write_queries(work / "queries.npz", settings.course_data)
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
            report = read_json(export / "run.json")
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
    points = evidence.points_from_source(settings.source)
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
        evidence.real_cifar10(settings.course_data)
        evidence.heldout_indices(settings.course_data)
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
        points = evidence.points_from_source(settings.source)
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
