"""Числа, которые текст ноутбука берёт из выводов, совпадают с этими выводами.

Число в markdown, процитированное из вывода ячейки того же ноутбука, помечается
HTML-комментарием с id этой ячейки: ``138.39<!-- out: cell-027 -->`` (в отрисованном
тексте комментарий не виден). Тест читает сохранённые ноутбуки, не выполняя их, и для
каждой метки проверяет: ячейка-источник — ячейка кода выше по ноутбуку, и в её текстовом
выводе есть число, которое при округлении до стольких же знаков после точки равно
процитированному. Перевыполнили ноутбук, числа стали другими — тест падает и показывает,
какой текст устарел.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(
    (ROOT / "grading" / "source").glob("*/*.ipynb")
)
# Число в тексте — со знаком или без, с точкой или с запятой (русская запись: 21,5; −0,19).
CITATION = re.compile(r"([-−+]?\d+(?:[.,]\d+)?)\s*<!--\s*out:\s*([\w.-]+)\s*-->")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# Ноутбуки, где цитат быть должно (иначе тест ничего бы не проверял).
MUST_CITE = (
    "01_custom_layers_and_models.ipynb",
    "02_vae_fashion_mnist.ipynb",
    "03_vae_celeba_faces.ipynb",
)


def output_text(cell):
    """Весь текстовый вывод ячейки кода: потоки и ``text/plain``."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append("".join(output["text"]))
        elif "text/plain" in output.get("data", {}):
            parts.append("".join(output["data"]["text/plain"]))
    return "".join(parts)


def matches(cited: str, text: str) -> bool:
    """Есть ли в ``text`` число, равное ``cited`` после округления до его знаков."""
    cited = cited.replace("−", "-").replace(",", ".").lstrip("+")
    decimals = len(cited.split(".")[1]) if "." in cited else 0
    target = float(cited)
    return any(
        abs(float(found) - target) <= 0.5 * 10**-decimals + 1e-9 for found in NUMBER.findall(text)
    )


def citation_problems(notebook: dict) -> tuple[int, list[str]]:
    """Число меток и список расхождений (пустой, если всё сходится)."""
    cells = notebook["cells"]
    position = {cell.get("id"): i for i, cell in enumerate(cells)}
    has_outputs = any(cell.get("outputs") for cell in cells if cell["cell_type"] == "code")
    count, problems = 0, []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for cited, source_id in CITATION.findall("".join(cell["source"])):
            count += 1
            where = f"markdown-ячейка {cell.get('id')} цитирует {cited} из {source_id}"
            j = position.get(source_id)
            if j is None or cells[j]["cell_type"] != "code" or j > i:
                problems.append(f"{where}: такой ячейки кода выше нет")
            elif has_outputs and not matches(cited, output_text(cells[j])):
                problems.append(
                    f"{where}: в её выводе такого числа нет — обновите текст.\n"
                    f"  вывод: {output_text(cells[j])[-300:]!r}"
                )
    return count, problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cited_numbers_match_outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    count, problems = citation_problems(notebook)
    assert not problems, "\n".join(problems)
    if path.name in MUST_CITE:
        assert count > 0, f"{path.name}: нет ни одной метки <!-- out: ... -->"


def _notebook(markdown, output):
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": "src",
                "source": [],
                "outputs": [{"output_type": "stream", "name": "stdout", "text": [output]}],
            },
            {"cell_type": "markdown", "id": "md", "source": [markdown]},
        ]
    }


def test_checker_catches_stale_and_rounded_numbers():
    ok = _notebook("потери 138.4<!-- out: src --> и 0.87<!-- out: src -->", "138.39 | 0.867\n")
    assert citation_problems(ok) == (2, [])
    count, problems = citation_problems(_notebook("потери 138.39<!-- out: src -->", "137.02\n"))
    assert count == 1 and "такого числа нет" in problems[0]
    count, problems = citation_problems(_notebook("потери 1<!-- out: nowhere -->", "1\n"))
    assert "такой ячейки кода выше нет" in problems[0]
    # русская запись: запятая и знак минуса; знак учитывается
    russian = _notebook(
        "PSNR 21,5<!-- out: src -->, утечка −0,19<!-- out: src -->", "21.52 -0.19\n"
    )
    assert citation_problems(russian) == (2, [])
    count, problems = citation_problems(_notebook("утечка −0,19<!-- out: src -->", "0.19\n"))
    assert count == 1 and "такого числа нет" in problems[0]


# Что видно читателю сохранённых выводов, но не должно быть видно: предупреждения библиотек
# (их причина — в нашем коде, и её надо убрать, а не показывать) и пути машины, на которой
# ноутбук выполнялся.
NOT_FOR_READERS = re.compile(r"\b\w+Warning\b|site-packages|/\.venv/|/home/[\w.-]+/|/root/|/work/")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_outputs_show_no_warnings_and_no_machine_paths(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    found = [
        f"{cell.get('id')}: {match.group(0)!r} в «{output_text(cell)[:200]}»"
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for match in [NOT_FOR_READERS.search(output_text(cell))]
        if match
    ]
    assert not found, "\n".join(found)


def test_reader_check_catches_a_library_warning_and_a_local_path():
    warning = "/srv/x/.venv/lib/python3.11/site-packages/keras/a.py:74: UserWarning: shuffle"
    assert NOT_FOR_READERS.search(warning)
    assert NOT_FOR_READERS.search("saved to /home/student/vae.keras")
    assert not NOT_FOR_READERS.search("шаг: 1.85 с на батч из 128 (69 изображений/с)")
