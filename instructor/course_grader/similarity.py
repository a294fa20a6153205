"""``make similarity``: похожие решения — отчёт для человека, оценки не меняются.

Сравниваются ячейки решений всех работ задания: код, который уже есть в версии для студентов
(ячейки целиком и совпадающие отрывки), исключается. Сравнение — отпечатки методом
winnowing (как в MOSS) из библиотеки ``copydetect``: код разбирается лексером Pygments, имена
переменных, функций и строки заменяются одной буквой, комментарии и пробелы убираются —
поэтому переименование переменных, другие комментарии и перестановка ячеек совпадения не
скрывают. Пара попадает в отчёт, если совпадает не меньше ``threshold`` решения хотя бы
одного из двух студентов; отчёт показывает оба решения рядом, совпадения подсвечены.

Отчёт ничего не решает и ничего не пишет, кроме себя (``similarity/<задание>.html``): это
повод посмотреть глазами. Код студентов в нём — текст (HTML экранирован и очищен, страница
запрещает скрипты).
"""

from __future__ import annotations

import argparse
import io
import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_grader import inert
from course_grader.settings import GradingSettings
from course_utils import manifest
from course_utils.config import REPO_ROOT

#: Наименьшее совпадение (символов после замены имён), которое считается: как ``-n`` copydetect.
NOISE = 25
#: Совпадение такой длины находится всегда (``-g`` copydetect); окно winnowing = G - N + 1.
GUARANTEE = 30
#: Доля решения, совпавшая с другим, с которой пара попадает в отчёт.
THRESHOLD = 0.6
_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass
class Pair:
    a: str
    b: str
    similarity_a: float
    similarity_b: float
    html_a: str
    html_b: str

    @property
    def score(self) -> float:
        return max(self.similarity_a, self.similarity_b)


@dataclass
class Report:
    pairs: list[Pair] = field(default_factory=list)
    compared: int = 0
    threshold: float = THRESHOLD
    skipped: list[tuple[str, str]] = field(default_factory=list)
    path: Path | None = None

    def text(self) -> str:
        lines = [
            f"Сравнено работ: {self.compared}; похожих пар (≥ {self.threshold:.0%}): "
            f"{len(self.pairs)} -> {self.path}"
        ]
        lines += [
            f"  {inert.terminal(p.a)} ~ {inert.terminal(p.b)}: "
            f"{p.similarity_a:.0%} / {p.similarity_b:.0%}"
            for p in self.pairs
        ]
        lines += [f"  ! {inert.terminal(s)}: {why}" for s, why in self.skipped]
        return "\n".join(lines)


def _code_cells(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def solution_code(nb, given: set[str]) -> str:
    """Код ячеек, которых нет в версии для студентов (без меток nbgrader)."""
    cells = [src for src in _code_cells(nb) if src.strip() not in given]
    lines = [line for src in cells for line in src.splitlines() if line.strip() not in _MARKERS]
    return "\n".join(lines)


def _fingerprint(name: str, code: str, boilerplate=None):
    from copydetect import CodeFingerprint

    win = GUARANTEE - NOISE + 1
    return CodeFingerprint(f"{name}.py", NOISE, win, boilerplate=boilerplate, fp=io.StringIO(code))


def compare(codes: dict[str, str], given_code: str, threshold: float = THRESHOLD) -> list[Pair]:
    """Пары работ, у которых совпадает не меньше ``threshold`` решения одного из студентов."""
    from copydetect import compare_files
    from copydetect.utils import highlight_overlap

    boilerplate = list(_fingerprint("given", given_code).hashes) if given_code.strip() else []
    prints = {s: _fingerprint("work", code, boilerplate) for s, code in codes.items()}
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        overlap, (sim_a, sim_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
        if overlap == 0 or max(sim_a, sim_b) < threshold:
            continue
        marked = []
        for fp, slices in ((prints[a], slices_a), (prints[b], slices_b)):
            html, _ = highlight_overlap(fp.raw_code, slices, "<mark>", "</mark>", escape_html=True)
            marked.append(html)
        pairs.append(Pair(a, b, float(sim_a), float(sim_b), *marked))
    return sorted(pairs, key=lambda p: -p.score)


_STYLE = (
    "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;width:100%}"
    "td,th{border:1px solid #999;padding:4px;vertical-align:top}"
    "pre{white-space:pre-wrap;font-size:12px;margin:0}mark{background:#ffd54f}"
)


def _page(report: Report, title: str) -> str:
    text = inert.text
    summary = "".join(
        f"<tr><td><a href='#pair{i}'>{text(p.a)}</a></td><td>{text(p.b)}</td>"
        f"<td>{p.similarity_a:.0%}</td><td>{p.similarity_b:.0%}</td></tr>"
        for i, p in enumerate(report.pairs)
    )
    details = "".join(
        f"<h2 id='pair{i}'>{text(p.a)} ~ {text(p.b)}</h2><table><tr>"
        f"<th>{text(p.a)} ({p.similarity_a:.0%})</th><th>{text(p.b)} ({p.similarity_b:.0%})</th></tr>"
        f"<tr><td><pre>{p.html_a}</pre></td><td><pre>{p.html_b}</pre></td></tr></table>"
        for i, p in enumerate(report.pairs)
    )
    skipped = "".join(f"<li>{text(s)}: {text(why)}</li>" for s, why in report.skipped)
    body = (
        f"<h1>Похожие решения: {text(title)}</h1>"
        "<p>Отчёт не меняет оценок: это повод посмотреть работы. Совпадение считается по "
        "решению без кода, выданного в версии для студентов; имена переменных и комментарии "
        f"не учитываются. Работ: {report.compared}, порог {report.threshold:.0%}.</p>"
        "<table><tr><th>студент A</th><th>студент B</th><th>доля A</th><th>доля B</th></tr>"
        f"{summary}</table>"
        + (f"<h2>Не сравнивались</h2><ul>{skipped}</ul>" if skipped else "")
        + details
    )
    return inert.html_page(f"Похожие решения: {title}", inert.clean_html(body), style=_STYLE)


def similarity(settings: GradingSettings, threshold: float = THRESHOLD) -> Report:
    """Сравнивает работы ``submitted/`` и пишет ``similarity/<задание>.html``."""
    assignment = manifest.load().assignment(settings.assignment)
    student_version = nbformat.read(REPO_ROOT / assignment.student_version, as_version=4)
    given = {src.strip() for src in _code_cells(student_version)}
    report = Report(threshold=threshold)
    codes = {}
    for folder in settings.submissions():
        try:
            nb = nbformat.read(settings.notebook(folder), as_version=4)
        except Exception as exc:  # noqa: BLE001 — негодный файл: в отчёт, не сбой
            report.skipped.append((folder.name, f"ноутбук не читается ({type(exc).__name__})"))
            continue
        codes[folder.name] = solution_code(nb, given)
    report.compared = len(codes)
    report.pairs = compare(codes, "\n".join(_code_cells(student_version)), threshold)
    out = settings.course_dir / "similarity"
    out.mkdir(parents=True, exist_ok=True)
    report.path = out / f"{assignment.name}.html"
    report.path.write_text(_page(report, assignment.title), encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Отчёт о похожих решениях (оценки не меняет).")
    parser.add_argument("--assignment", default=None, help="задание из course.toml")
    parser.add_argument("--course-dir", type=Path, default=None)
    parser.add_argument("--threshold", type=float, default=THRESHOLD, help="доля от 0 до 1")
    args = parser.parse_args(argv)
    if not 0 < args.threshold <= 1:
        print("Порог --threshold — доля от 0 до 1, например 0.6.", file=sys.stderr)
        return 2
    overrides = {"course_dir": args.course_dir} if args.course_dir else {}
    if args.assignment:
        overrides["assignment"] = args.assignment
    print(similarity(GradingSettings(**overrides), args.threshold).text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
