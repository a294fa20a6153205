"""Один термин на одно понятие: запрещённые синонимы в тексте ноутбуков.

Глоссарий курса (``docs/glossary.md``) обещает один термин на понятие. Тест читает markdown
всех ноутбуков курса и эталона задания (без кода: блоки ```...```, `код` и HTML-комментарии
не считаются) и ищет синонимы, которые курс заменил одним термином. Английский термин в
скобках сразу после русского («колбэки (callbacks)») — пояснение, а не синоним.
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
GLOSSARY = ROOT / "docs" / "glossary.md"

#: Термин курса -> (запрещённые записи, почему). Регулярные выражения без учёта регистра.
RULES = {
    "батч": (
        [
            r"\bпакет\w*\s+(?:из\s+)?(?:изображений|данных|примеров|лиц)",
            r"размер\w*\s+пакет",
            r"мини-?пакет",
        ],
        "порция изображений для одного шага обучения — «батч» (слово «пакет» в курсе — пакет Python)",
    ),
    "колбэк": (
        [r"обратн\w*\s+вызов", r"(?<!\()\bcallbacks?\b", r"\bколл?бек\w*|\bколлбэк\w*"],
        "объект, который Keras вызывает во время обучения, — «колбэк»",
    ),
    "морфинг": (
        [r"трансформаци\w*", r"превращени\w*"],
        "плавный переход одного изображения в другое по отрезку в скрытом пространстве — «морфинг»",
    ),
    "скорость обучения": (
        [
            r"шаг\w*\s+обучения\W{0,3}(?:LEARNING_RATE|learning.rate|lr\b)",
            r"темп\w*\s+обучения",
            r"(?<!\()\blearning[ -]rate\b",
        ],
        "множитель градиента в оптимизаторе (learning_rate) — «скорость обучения»; «шаг обучения» — один шаг оптимизатора",
    ),
}

#: Ноутбуки, чей текст ведёт другой автор и термины в нём ещё не заменены: {имя: правила}.
#: Исключение действует только для названного правила. Сейчас таких нет: задание тоже
#: говорит «морфинг».
PENDING: dict[str, set[str]] = {}


def prose(markdown: str) -> str:
    """Текст markdown без блоков кода, `кода` в строке (кроме имён констант),
    HTML-комментариев и адресов ссылок."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    # `КОНСТАНТА` остаётся словом («шаг обучения `LEARNING_RATE`»), остальной код — нет
    text = re.sub(r"`([A-Z][A-Z_]*)`|`[^`]*`", lambda m: m.group(1) or " ", text)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    return re.sub(r"\]\([^)]*\)", "]", text)


def term_problems(notebook: dict, skip: set[str] = frozenset()) -> list[str]:
    """Запрещённые синонимы в markdown-ячейках: «ячейка: «найдено» -> термин»."""
    problems = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = prose("".join(cell["source"]))
        for term, (patterns, why) in RULES.items():
            if term in skip:
                continue
            for pattern in patterns:
                for found in re.finditer(pattern, text, flags=re.I):
                    problems.append(
                        f"ячейка {cell.get('id')}: «{found.group(0)}» -> «{term}» ({why})"
                    )
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_term_per_idea(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    problems = term_problems(notebook, PENDING.get(path.name, set()))
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_glossary_defines_every_course_term():
    glossary = GLOSSARY.read_text(encoding="utf-8").lower()
    for term in RULES:
        assert f"**{term}" in glossary, f"в глоссарии нет статьи «{term}»"


def _md(text):
    return {"cells": [{"cell_type": "markdown", "id": "md", "source": [text]}]}


def test_checker_finds_synonyms_and_spares_code_and_glosses():
    bad = _md(
        "Размер пакета 100. Обратные вызовы и callbacks. Трансформация лица. "
        "Шаг обучения `LEARNING_RATE` мал; learning rate"
    )
    found = "\n".join(term_problems(bad))
    for term in ("батч", "колбэк", "морфинг", "скорость обучения"):
        assert f"-> «{term}»" in found
    assert len(term_problems(bad)) == 6
    fine = _md(
        "Колбэки (callbacks) и `keras.callbacks`; пакет курса `course_utils`; морфинг; "
        "один шаг обучения на батче; скорость обучения (learning rate).\n"
        "```python\nmodel.fit(callbacks=callbacks)  # трансформация\n```"
    )
    assert term_problems(fine) == []
    assert term_problems(bad, skip=set(RULES)) == []
