"""make similarity: почти-копия честного решения найдена, два независимых решения — нет."""

from __future__ import annotations

import hashlib
import re

import nbformat

from course_grader import similarity
from course_grader.settings import GradingSettings

from . import submissions, term_works


def _course(tmp_path, works: dict) -> GradingSettings:
    course = tmp_path / "course"
    for student, nb in works.items():
        folder = course / "submitted" / student / "cifar10_vae"
        folder.mkdir(parents=True)
        if isinstance(nb, bytes):
            (folder / "cifar10_vae.ipynb").write_bytes(nb)
        else:
            nbformat.write(nb, folder / "cifar10_vae.ipynb")
    return GradingSettings(course_dir=course)


def _hashes(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def test_near_copy_is_flagged_and_independent_solutions_are_not(tmp_path):
    reference = submissions.reference()
    settings = _course(
        tmp_path,
        {
            "honest_a": reference,
            "honest_b": term_works.independent(),
            "copier": term_works.near_copy(reference),
            "broken": b'{"cells": [',
        },
    )
    before = _hashes(settings.course_dir / "submitted")
    report = similarity.similarity(settings)
    assert [(p.a, p.b) for p in report.pairs] == [("copier", "honest_a")]
    (pair,) = report.pairs
    assert pair.similarity_a > 0.9 and pair.similarity_b > 0.9
    assert report.compared == 3
    assert dict(report.skipped)["broken"].startswith("ноутбук не читается")
    # Отчёт ничего не меняет в работах.
    assert _hashes(settings.course_dir / "submitted") == before
    page = report.path.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and page.count("<mark>") > 5
    # Переименованное имя видно в отчёте рядом с исходным.
    assert "select_subset" in page and "keep_classes" in page


def test_the_near_copy_really_differs_from_the_original():
    """Почти-копия не совпадает с эталоном текстом: имена, комментарии, порядок ячеек."""
    reference = submissions.reference()
    copied = term_works.near_copy(reference)
    cells = lambda nb: [c.source for c in nb.cells if c.get("id", "").endswith("_solution")]  # noqa: E731
    assert not set(cells(reference)) & set(cells(copied))
    assert [c.get("id") for c in copied.cells] != [c.get("id") for c in reference.cells]


def test_given_code_does_not_count_as_similarity(tmp_path):
    """Два студента, сдавшие версию для студентов без решений, не похожи: общего решения нет."""
    from course_utils import manifest
    from course_utils.config import REPO_ROOT

    blank = nbformat.read(REPO_ROOT / manifest.load().assignments[0].student_version, 4)
    settings = _course(tmp_path, {"blank_a": blank, "blank_b": blank})
    assert similarity.similarity(settings).pairs == []


def test_student_code_in_the_report_is_inert(tmp_path):
    hostile = submissions.reference()
    evil = "</pre><script>alert(1)</script><img src=x onerror=alert(2)>"
    submissions._replace(
        hostile, "classes_solution", f"STUDENT_ID = {evil!r}\nclasses = [1, 3, 5, 9]"
    )
    copied = term_works.near_copy(hostile)
    settings = _course(tmp_path, {"<img src=x onerror=alert(3)>": hostile, "copy": copied})
    page = similarity.similarity(settings).path.read_text(encoding="utf-8")
    assert "<script" not in page and not re.search(r"<[^>]*\son\w+\s*=", page)
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(3)&gt;" in page


def test_threshold_must_be_a_fraction(capsys):
    assert similarity.main(["--threshold", "60"]) == 2
    assert "доля от 0 до 1" in capsys.readouterr().err
