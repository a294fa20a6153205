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
import copy
import dataclasses
import hashlib
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from course_grader import inert, sandbox
from course_grader.records import (
    CheckResult,
    SubmissionResult,
    load_result,
    notebook_hash,
    save_result,
    summary_table,
    write_feedback,
    write_grades_csv,
)
from course_grader.settings import GradingSettings
from course_utils.checks import evidence, verify
from course_utils.config import REPO_ROOT

# --------------------------------------------------------------------------- одна работа


def _work_env(settings: GradingSettings) -> dict[str, str]:
    """Всё, что работа узнаёт о проверке из окружения: данные, профиль, бэкенд задания."""
    return {
        "COURSE_DATA": settings.course_data,
        "COURSE_FAST": "1" if settings.fast else "0",
        "KERAS_BACKEND": settings.backend,
    }


def _sandbox_argv(settings: GradingSettings, inside: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "course_grader.execute",
        f"{inside}/notebook.ipynb",
        f"{inside}/queries.npz",
        f"{inside}/export",
        "--kernel",
        settings.kernel_name,
        "--cell-timeout",
        str(settings.cell_timeout),
    ]


#: Предел на размер сданного ноутбука, байт, и на число его ячеек кода (в задании их ~20).
MAX_NOTEBOOK_BYTES = 50_000_000
MAX_CODE_CELLS = 1000
#: Вывод выполненных ячеек в отзыве: не больше стольких символов текста на вывод и
#: стольких байт всего (картинки ноутбука — десятки КБ).
MAX_OUTPUT_CHARS = 100_000
MAX_OUTPUTS_BYTES = 30_000_000
#: MIME-типы вывода, которые переносятся в отзыв (HTML потом очищается, см. ``inert``).
OUTPUT_MIME = ("text/plain", "text/html", "text/markdown", "image/png", "image/jpeg")


def _read_submitted(notebook_file: Path) -> nbformat.NotebookNode:
    """Сданный ноутбук без выходов; негодный — исключение с объяснением."""
    size = notebook_file.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"файл {size} байт, больше предела {MAX_NOTEBOOK_BYTES}")
    nb = nbformat.read(notebook_file, as_version=4)
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    if n_code > MAX_CODE_CELLS:
        raise ValueError(f"ячеек кода {n_code}, больше предела {MAX_CODE_CELLS}")
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _clean_output(output: dict, budget: list[int]) -> nbformat.NotebookNode | None:
    """Вывод ячейки, пересобранный из известных полей и урезанный (вывод студента — недоверенный)."""

    def short(value) -> str:
        text = "".join(value) if isinstance(value, list) else str(value)
        return text[:MAX_OUTPUT_CHARS]

    kind = output.get("output_type")
    if kind == "stream":
        new = nbformat.v4.new_output(
            "stream", name=short(output.get("name", "stdout"))[:6], text=short(output.get("text"))
        )
    elif kind == "error":
        traceback = output.get("traceback")
        new = nbformat.v4.new_output(
            "error",
            ename=short(output.get("ename"))[:200],
            evalue=short(output.get("evalue")),
            traceback=[short(line) for line in traceback[:50]]
            if isinstance(traceback, list)
            else [],
        )
    elif kind in ("display_data", "execute_result"):
        data = output.get("data")
        data = (
            {k: short(v) for k, v in data.items() if k in OUTPUT_MIME}
            if isinstance(data, dict)
            else {}
        )
        if not data:
            return None
        new = nbformat.v4.new_output("display_data", data=data)
    else:
        return None
    budget[0] -= len(str(new))
    return new if budget[0] >= 0 else None


def _with_outputs(
    submitted: nbformat.NotebookNode, executed: bytes | None
) -> nbformat.NotebookNode:
    """Выполненный ноутбук для отзыва: ячейки — из СДАННОГО ноутбука, выходы — из песочницы.

    Из файла, который писала песочница, берутся только выходы ячеек кода (пересобранные и
    урезанные), и только если ячеек столько же: сами ячейки (текст, код) — из сданного
    ноутбука, так что подменённый файл не вставит в отзыв ничего, кроме выходов.
    """
    nb = copy.deepcopy(submitted)
    if executed is None:
        return nb
    try:
        ran = nbformat.reads(executed.decode("utf-8"), as_version=4)
    except Exception:  # noqa: BLE001 — испорченный файл: отзыв без выходов
        return nb
    mine = [c for c in nb.cells if c.cell_type == "code"]
    theirs = [c for c in ran.get("cells", []) if c.get("cell_type") == "code"]
    if len(mine) != len(theirs):
        return nb
    budget = [MAX_OUTPUTS_BYTES]
    for cell, done in zip(mine, theirs):
        outputs = done.get("outputs")
        if isinstance(outputs, list):
            kept = (_clean_output(o, budget) for o in outputs[:100] if isinstance(o, dict))
            cell.outputs = [o for o in kept if o is not None]
    return nb


def _evaluate_cleanly(
    export: evidence.Export, settings: GradingSettings, folder: Path
) -> evidence.Export | None:
    """Вторая песочница, где не выполняется ни одной ячейки студента: модель, сохранённая
    выносом, отвечает на вопросы, которых ядро студента не видело
    (:mod:`course_utils.checks.evaluate`).
    ``None`` — модель не сохранена (тогда ответов чистого процесса нет)."""
    models = {
        n: export.read(f"{n}.keras", evidence.MAX_MODEL_BYTES) for n in ("encoder", "decoder")
    }
    if any(data is None for data in models.values()):
        return None
    folder.mkdir()
    for name, data in models.items():
        (folder / f"{name}.keras").write_bytes(data)
    evidence.write_questions(folder / "questions.npz", settings.course_data, export)
    use_sandbox = settings.sandbox != "none"
    _run_sandboxed(
        settings,
        [
            sys.executable,
            "-m",
            "course_utils.checks.evaluate",
            sandbox.WORK_INSIDE if use_sandbox else str(folder),
        ],
        folder,
        timeout=max(300, settings.cell_timeout),
        use_sandbox=use_sandbox,
    )
    return evidence.Export(folder / "out")


def _run_sandboxed(settings, argv, work_dir, *, timeout, use_sandbox):
    """Запускает ``argv`` в песочнице с пределами и окружением из ``settings``."""
    return sandbox.run_sandboxed(
        argv,
        work_dir=work_dir,
        hidden=settings.hidden(),
        env=sandbox.sandbox_env(_work_env(settings)),
        course_data=settings.course_data,
        memory_mb=settings.memory_mb,
        max_pids=settings.max_pids,
        disk_mb=settings.disk_mb,
        timeout=timeout,
        use_sandbox=use_sandbox,
    )


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
        nb = _read_submitted(notebook_file)
    except Exception as exc:  # noqa: BLE001 — любой негодный файл — это состояние работы
        nb = None
        result.status = "unreadable"
        result.detail = f"{type(exc).__name__}: {exc}"[:300]

    executed = None
    with tempfile.TemporaryDirectory(prefix="vae-grading-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        why = ""
        if nb is not None:
            nbformat.write(nb, work / "notebook.ipynb")
            evidence.write_queries(work / "queries.npz", settings.course_data)
            use_sandbox = settings.sandbox != "none"
            inside = sandbox.WORK_INSIDE if use_sandbox else str(work)
            n_cells = sum(c.cell_type == "code" for c in nb.cells)
            run = _run_sandboxed(
                settings,
                _sandbox_argv(settings, inside),
                work,
                # Общий предел: все ячейки по пределу, прерывания, вынос и запуск ядра.
                timeout=(n_cells + 4) * settings.cell_timeout + 120,
                use_sandbox=use_sandbox,
            )
            # Вынос читается только после песочницы: пока она работает, он ещё пишется.
            export = evidence.Export(work / "export")
            report = export.json("run.json")
            if run.disk_exceeded:
                result.status, why = (
                    "killed_disk",
                    f"работа заняла на диске больше предела ({settings.disk_mb} МБ)",
                )
            elif run.oom_killed:
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
            executed = _with_outputs(nb, export.read("executed.ipynb", MAX_NOTEBOOK_BYTES * 4))
        else:
            export = evidence.Export(work / "export")
            why = "ноутбук не читается"
        clean = None
        if nb is not None and result.status == "graded":
            clean = _evaluate_cleanly(export, settings, Path(tmp) / "clean")
        ctx = evidence.Context(export, settings.course_data, clean)
        checks, typed = verify.verify(ctx, points, why_missing=why.capitalize())
        if export.tampered and result.status == "graded":
            result.status = "evidence_tampered"
            result.detail = "; ".join(export.tampered)[:300]
        elif ctx.model_state == "needs_review" and result.status == "graded":
            result.status = "needs_review"
            result.detail = (
                "модель не загрузилась в чистом процессе: баллы за модель — по ответам ядра "
                f"студента ({ctx.clean_report.get('error') or export.error('keras_models')})"
            )[:300]
        result.checks = [CheckResult(**dataclasses.asdict(c)) for c in checks]
        result.student_id_typed = typed

    target = out_nb / f"{settings.assignment}.ipynb"
    if executed is not None:
        nbformat.write(executed, target)
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
            f"в course_utils/checks/verify.py (есть проверки: {sorted(verify.CHECKS)})."
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


#: Где проверка помнит, что эталон получил полный балл при этих настройках и этом коде.
REFERENCE_CHECK = ".reference_check.json"


def _reference_key(settings: GradingSettings) -> dict:
    """Всё, от чего зависит балл эталона: ноутбук, код проверки и курса, настройки."""
    code = hashlib.sha256()
    # Код курса с проверками (course_utils.checks) и код этого пакета (песочница, вынос).
    for package in (REPO_ROOT / "course_utils", Path(__file__).resolve().parent):
        for path in sorted(package.rglob("*.py")):
            code.update(path.read_bytes())
    fields = dataclasses.asdict(settings)
    fields.pop("course_dir")
    return {
        "source_sha256": notebook_hash(settings.source),
        "code_sha256": code.hexdigest(),
        "settings": {k: str(v) for k, v in fields.items()},
    }


def check_reference(settings: GradingSettings, echo=print) -> None:
    """Эталон — через ту же песочницу, настройки и данные, что и работы; не полный балл —
    :class:`PreflightError` (никто не проверяется). Итог запоминается до смены ноутбука
    преподавателя, кода или настроек."""
    memo = settings.course_dir / "autograded" / REFERENCE_CHECK
    key = _reference_key(settings)
    with contextlib.suppress(OSError, ValueError):
        if json.loads(memo.read_text(encoding="utf-8")) == key:
            return
    echo("Сначала проверяется эталонное решение (те же песочница, настройки и данные)…")
    with tempfile.TemporaryDirectory(prefix="vae-grading-reference-") as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(settings.source.parent, course / "source" / settings.assignment)
        trial = dataclasses.replace(settings, course_dir=course)
        folder = course / "submitted" / "reference"
        settings.notebook(folder).parent.mkdir(parents=True)
        shutil.copyfile(settings.source, trial.notebook(folder))
        result = grade_submission(folder, trial)
    if result.status != "graded" or result.score < result.max_score:
        lost = "\n".join(
            f"  {c.grade_id}: {c.points:g} из {c.max_points:g} — {c.message}"
            for c in result.checks
            if c.points < c.max_points
        )
        raise PreflightError(
            f"Эталонное решение получило {result.score:g} из {result.max_score:g} "
            f"(состояние {result.status}{': ' + result.detail if result.detail else ''}) в той же "
            f"песочнице и с теми же данными (COURSE_DATA={settings.course_data}), что и работы "
            "студентов: такие оценки были бы ошибкой проверки, а не студентов. Никто не "
            f"проверен, в журнал ничего не записано.\n{lost}\nПроверьте COURSE_DATA (папка "
            "видна в песочнице?), пределы GRADING_* и ядро; grading/README.md."
        )
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(json.dumps(key), encoding="utf-8")
    echo(f"Эталон: {result.score:g} из {result.max_score:g} за {result.seconds:.0f} с.")


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
    settings: GradingSettings,
    students: list[str] | None = None,
    force: bool = False,
    echo=print,
    reference_first: bool = True,
) -> list[SubmissionResult]:
    """Проверяет новые и пересданные работы (или ``students``, или все при ``force``).

    Сначала — эталон (:func:`check_reference`); ``reference_first=False`` — только для
    тестов, которые нарочно ставят предел, в который эталон не обязан уложиться.
    Пишет итоги, базу оценок, ``grades.csv`` и возвращает итоги всех студентов.
    """
    from course_grader.schedule import map_submissions

    preflight(settings)
    if reference_first:
        check_reference(settings, echo)
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
            f"  {inert.terminal(result.student)}: {result.score:g}/{result.max_score:g}, "
            f"{result.status} ({result.seconds:.0f} с)"
        )
    results = [r for r in (load_result(settings, p.name)[0] for p in submissions) if r is not None]
    write_grades_csv(settings, results, settings.course_dir / "grades.csv")
    echo(summary_table(results))
    return results
