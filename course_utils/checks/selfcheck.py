"""Самопроверка в ноутбуке студента — тот же проверяющий, что ставит баллы при сдаче.

Ячейка «Самопроверка» вызывает :func:`self_check` с ``grade_id`` своей проверки. Та
собирает ответы работы из переменных ноутбука той же функцией, что и вынос при сдаче
(:func:`.answers.collect`), загружает сохранённую модель так же, как чистый процесс
(:func:`.evaluate.evaluate`), и выполняет ту же проверку из :mod:`.verify` на тех же
данных (``load_cifar10()`` с тем же ``COURSE_DATA``). Поэтому вердикт и объяснение — те
же, что будут в отзыве. Работает в Colab и без сети, без bubblewrap и nbgrader.

Что решится только при сдаче, так и называется — «проверяется при сдаче»: обучена ли
модель, если ячейка стоит до обучения, и выполнение всего ноутбука сверху вниз в
песочнице проверяющего с её пределами. :func:`summary` в последней ячейке считает баллы,
которые видно здесь.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

#: Какие пункты ответов нужны каждой проверке (классы нужны всем: по ним выбираются данные).
NEEDS = {
    "test_classes": ("scalars",),
    "test_data": ("scalars", "data"),
    "test_vae": ("scalars", "vae", "keras_models", "sampling"),
    "test_training": ("scalars", "history", "keras_models"),
    "test_reconstruction": ("scalars", "keras_models"),
    "test_pair": ("scalars", "pair"),
    "test_morph": ("scalars", "pair", "morph_frames", "line", "keras_models"),
    "test_figure": ("scalars", "morph_figure"),
}

#: Отметки в выводе ячейки: по ним тест сверяет самопроверку с оценкой.
PASSED, FAILED, LATER = "✔", "✘", "…"

#: Итоги самопроверок этого ядра: ``grade_id -> (отметка, баллы, из скольких)``.
VERDICTS: dict[str, tuple[str, float, float]] = {}

#: Что проверяется только при сдаче, что бы ни показала самопроверка.
AT_SUBMISSION = (
    "выполнение всего ноутбука сверху вниз (Restart & Run All) в песочнице проверяющего: "
    "на CPU, без сети, с пределами времени на ячейку, памяти и диска из таблицы правил"
)


def _namespace() -> dict:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            return shell.user_ns
    except ImportError:
        pass
    return sys._getframe(2).f_globals  # вызов не из IPython: глобальные имена вызывающего


def run_check(grade_id: str, ns: dict, course_data: str | None = None):
    """Проверка ``grade_id`` над переменными ``ns``: ``(отметка, сообщение)``."""
    from course_utils.checks import answers, evaluate, evidence, verify

    course_data = course_data or os.environ.get("COURSE_DATA", "").strip() or "download"
    title, check = verify.CHECKS[grade_id]
    with tempfile.TemporaryDirectory(prefix="vae-self-check-") as tmp:
        work = Path(tmp)
        evidence.write_queries(work / "queries.npz", course_data)
        answers.collect(ns, work / "export", work / "queries.npz", only=NEEDS[grade_id])
        export = evidence.Export(work / "export")
        clean = None
        if (work / "export" / "encoder.keras").is_file():
            clean_dir = work / "clean"
            clean_dir.mkdir()
            for name in ("encoder", "decoder"):
                (work / "export" / f"{name}.keras").rename(clean_dir / f"{name}.keras")
            evidence.write_questions(clean_dir / "questions.npz", course_data, export)
            evaluate.main([str(clean_dir)])
            clean = evidence.Export(clean_dir / "out")
        ctx = evidence.Context(export, course_data, clean)
        try:
            return PASSED, check(ctx)
        except verify.NotTrainedYet as exc:
            if grade_id != "test_vae":  # ячейки обучения и дальше: модель уже должна быть обучена
                return FAILED, str(exc)
            return LATER, (
                "Строение VAE верно. Баллы за модель — только обученной модели; обучена ли "
                "она, проверяется при сдаче, после всех ячеек (эта ячейка — до обучения)."
            )
        except (AssertionError, evidence.NoExport) as exc:
            return FAILED, str(exc)


def self_check(grade_id: str) -> None:
    """Самопроверка ячейки ``grade_id``: печатает вердикт и объяснение, как в отзыве."""
    from course_utils.checks import verify

    mark, message = run_check(grade_id, _namespace())
    points = verify.POINTS[grade_id]
    got = points if mark == PASSED else 0.0
    VERDICTS[grade_id] = (mark, got, points)
    word = {PASSED: "верно", FAILED: "не засчитано", LATER: "проверяется при сдаче"}[mark]
    print(f"{mark} {grade_id} — {verify.CHECKS[grade_id][0]}: {word} ({got:g} из {points:g}).")
    print(message)


def summary() -> None:
    """Итог самопроверок этого ядра: сколько баллов видно здесь и что проверяется при сдаче."""
    from course_utils.checks import verify

    points = verify.POINTS
    seen = sum(got for mark, got, _ in VERDICTS.values() if mark != LATER)
    later = [g for g in points if g not in VERDICTS or VERDICTS[g][0] == LATER]
    text = f"Видно здесь: {seen:g} из {sum(points.values()):g} баллов"
    if later:
        text += f"; ещё не решено здесь: {', '.join(later)}"
    text += f". При сдаче проверяется ещё: {AT_SUBMISSION}."
    print(text)
