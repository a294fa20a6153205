"""Курс глазами студента: каждый ноутбук в JupyterLab в настоящем браузере (headless Chromium).

Фикстура `notebook` (conftest.py) открывает ноутбук и выполняет Run All Cells в профиле CI;
тесты проверяют то, что видно на странице: все ячейки выполнены, ошибок нет, графики
нарисованы картинками, русский текст отрисован как разметка, а виджеты-исследователи
(ползунок `vae-explorer-slider` -> картинка `vae-explorer-image`) меняют картинку.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from browser_helpers import (
    KERNEL_IDLE_JS,
    cell_source,
    notebook_sources,
    read_cells,
    uses_explorer,
)

from course_utils import manifest
from course_utils.config import REPO_ROOT
from course_utils.explorer import IMAGE_CLASS, SLIDER_CLASS

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
STDERR_MIME = "application/vnd.jupyter.stderr"
# Предупреждения, которых не должно быть в выводе (см. brief: ни ошибок, ни deprecation).
BAD_WARNING = re.compile(r"\b(?:Deprecation|PendingDeprecation|Future)Warning\b")
# CSS-классы виджетов — из course_utils.explorer (соглашение записано там один раз).
SLIDER = f".{SLIDER_CLASS}"
IMAGE = f"img.{IMAGE_CLASS}, .{IMAGE_CLASS} img"
# Ноутбуки с виджетами-исследователями (has_widgets в course.toml): путь -> название.
WIDGET_NOTEBOOKS = {nb.path: nb.title for nb in manifest.load().notebooks if nb.has_widgets}


def _markdown_headings(source: str) -> int:
    """Сколько заголовков `# ...` в markdown-ячейке (вне блоков кода)."""
    count, fenced = 0, False
    for line in source.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6}\s+\S", line):
            count += 1
    return count


def _expects_figure(cell: dict) -> bool:
    """Ячейка рисует график: в сохранённом выводе есть PNG или она сама вызывает plt.show()."""
    committed = any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    source = cell_source(cell)
    shows = "plt.show()" in source and not re.search(r"^\s*def ", source, re.M)
    return committed or shows


def _raises_exception(cell: dict) -> bool:
    """Ошибка по замыслу: тег raises-exception (его понимают JupyterLab и nbval)."""
    return "raises-exception" in cell.get("metadata", {}).get("tags", [])


def _run_ok(nb) -> bool:
    """Run All дошёл до конца; False от JupyterLab допустим, только если ошибки задуманы."""
    if nb.run_error:
        return False
    tagged = any(_raises_exception(c) for c in nb.cells)
    return nb.run_result == {"ok": True} or (nb.run_result == {"ok": False} and tagged)


def test_notebook_runs_and_renders(notebook):
    nb = notebook
    problems: list[str] = []
    if not nb.student_version and not _run_ok(nb):
        problems.append(f"Run All не завершился: {nb.run_error or nb.run_result}")
    nb.reveal(".jp-Cell")
    nb.screenshot("")
    summary = nb.summary()
    deadline = time.monotonic() + 60
    while any(d["rawMath"] for d in summary) and time.monotonic() < deadline:
        time.sleep(0.5)  # MathJax рисует формулы асинхронно: ждать, пока не дорисует
        summary = nb.summary()
    assert len(summary) == len(nb.cells), "число ячеек на странице не совпало с файлом"

    for dom, cell in zip(summary, nb.cells):
        where = f"ячейка {dom['index']} ({cell['cell_type']})"
        source = cell_source(cell)
        if cell["cell_type"] == "code" and not nb.student_version:
            if source.strip() and not re.fullmatch(r"\[\d+\]:", dom["prompt"]):
                problems.append(f"{where}: не выполнена, подсказка {dom['prompt']!r}")
            expected = _raises_exception(cell)
            problems += [f"{where}: ошибка {err}" for err in dom["errors"] if not expected]
            for out in dom["outputs"]:
                if out["mime"] == STDERR_MIME and "Traceback" in out["text"] and not expected:
                    problems.append(f"{where}: на странице traceback:\n{out['text'][:1500]}")
                if BAD_WARNING.search(out["text"]):
                    problems.append(f"{where}: предупреждение в выводе:\n{out['text'][:800]}")
            if _expects_figure(cell) and not any(out["imgs"] for out in dom["outputs"]):
                problems.append(f"{where}: график не нарисован (нет <img> в выводе)")
        elif cell["cell_type"] == "markdown" and source.strip():
            if not dom["rendered"]:
                problems.append(f"{where}: markdown не отрисован")
            if len(dom["headings"]) < _markdown_headings(source):
                problems.append(f"{where}: заголовки не отрисованы: {dom['headings']}")
            problems += [f"{where}: сырой заголовок {t!r}" for t in dom["rawHashLines"]]
            if dom["rawMath"]:
                problems.append(f"{where}: формула не отрисована (виден TeX)")

    h1 = [h["text"] for d in summary for h in d["headings"] if h["level"] == 1]
    if not any(CYRILLIC.search(t) for t in h1):
        problems.append(f"нет заголовка h1 на русском: {h1}")

    if nb.page.locator(".jp-OutputArea-output img").count():
        nb.reveal(".jp-OutputArea-output img")
        nb.screenshot("-figure")
    if problems and nb.console_errors:  # подсказка для отладки, сама по себе не ошибка
        problems.append("ошибки в консоли браузера: " + " | ".join(nb.console_errors[:5]))
    assert not problems, f"{nb.relpath}:\n" + "\n".join(problems)


# ---------------------------------------------------------------- виджеты


IMAGE_DIGESTS_JS = """
async (selector) => Promise.all(Array.from(document.querySelectorAll(selector)).map(async img => {
  if (!img.src) return '';
  const bytes = await (await fetch(img.src)).arrayBuffer();
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, '0')).join('');
}))
"""


def _image_digests(page) -> list[str]:
    """Содержимое (SHA-256 байтов) каждой картинки-исследователя: src бывает blob-URL."""
    return page.evaluate(IMAGE_DIGESTS_JS, IMAGE)


def _settled_digests(page, timeout_s: float = 120) -> list[str]:
    """Дождаться, пока ядро свободно и картинки не меняются (обновления от прошлого ползунка):
    два чтения подряд при свободном ядре дают одно и то же."""
    deadline = time.monotonic() + timeout_s
    last = _image_digests(page)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _image_digests(page)
        if now == last and page.evaluate(KERNEL_IDLE_JS):
            break
        last = now
    return last


def _move_slider(nb, index: int) -> tuple[str, str]:
    """Сдвинуть ``index``-й ползунок с клавиатуры в дальний конец (Home/End); вернуть
    (было, стало).

    Дальний конец — самое заметное изменение: в профиле CI декодер почти не обучен и
    соседние точки дают почти одинаковые картинки. Локатор ищет ручку заново при каждом
    действии (press сам дожидается, пока элемент прикреплён к DOM).
    """
    handle = nb.page.locator(SLIDER).nth(index).locator(".noUi-handle").first
    nb.reveal(f"{SLIDER} .noUi-handle", index)
    lo = float(handle.get_attribute("aria-valuemin"))
    hi = float(handle.get_attribute("aria-valuemax"))
    start = handle.get_attribute("aria-valuenow")
    handle.press("Home" if float(start) - lo > hi - float(start) else "End")
    deadline = time.monotonic() + 30
    while handle.get_attribute("aria-valuenow") == start and time.monotonic() < deadline:
        time.sleep(0.1)
    return start, handle.get_attribute("aria-valuenow")


def test_explorer_widgets_update(notebook):
    """Только у ноутбуков, которые импортируют course_utils.explorer (conftest.py снимает
    этот тест у остальных)."""
    nb = notebook
    page = nb.page
    sliders = page.locator(SLIDER)
    assert _run_ok(nb), (
        f"{nb.relpath} не выполнился, виджеты не проверить: {nb.run_error or nb.run_result}"
    )
    assert sliders.count() > 0, (
        f"{nb.relpath}: нет отрисованного ползунка с классом {SLIDER_CLASS} "
        "(ipywidgets.FloatSlider + add_class) — виджет не показан или не по соглашению"
    )
    assert page.locator(IMAGE).count() > 0, (
        f"{nb.relpath}: нет картинки с классом {IMAGE_CLASS} (ipywidgets.Image + add_class)"
    )
    output = {"selector": SLIDER, "closest": ".jp-OutputArea-output"}
    for i in range(sliders.count()):
        label = sliders.nth(i).locator(".widget-label").first.inner_text().strip() or f"#{i}"
        nb.reveal(index=i, **output)
        before = _settled_digests(page)
        nb.screenshot(f"-widget{i}-before", index=i, **output)
        was, now = _move_slider(nb, i)
        assert was != now, (
            f"ползунок {label!r} не сдвинулся с клавиатуры ({was}) — проблема теста, не виджета"
        )
        deadline = time.monotonic() + 120
        while _image_digests(page) == before and time.monotonic() < deadline:
            time.sleep(0.5)
        after = _settled_digests(page)  # дождаться последнего обновления картинки
        nb.screenshot(f"-widget{i}-after", index=i, **output)
        assert after != before, (
            f"{nb.relpath}: ползунок {label!r} сдвинут {was} -> {now}, "
            f"но ни одна картинка {IMAGE_CLASS} не изменилась за 120 с"
        )


@pytest.mark.parametrize("path", sorted(WIDGET_NOTEBOOKS))
def test_widget_notebook_is_checked(path):
    """Ноутбуки с виджетами (course.toml) попадают в браузерные тесты."""
    if os.environ.get("COURSE_BROWSER_NOTEBOOKS"):
        pytest.skip("COURSE_BROWSER_NOTEBOOKS задан: проверяются другие ноутбуки")
    assert (REPO_ROOT / path).is_file(), f"{path} ({WIDGET_NOTEBOOKS[path]}) не найден"
    assert path in notebook_sources()[1]


def test_has_widgets_in_the_manifest_says_who_builds_explorers():
    """has_widgets в course.toml — ровно у ноутбуков, которые строят виджеты-исследователи
    (по ним conftest.py решает, у кого проверять виджеты в браузере)."""
    for nb in manifest.load().notebooks:
        builds = uses_explorer(read_cells(REPO_ROOT / nb.path))
        found = "есть" if builds else "нет"
        assert builds == nb.has_widgets, (
            f"{nb.path}: has_widgets = {nb.has_widgets}, а импорт course_utils.explorer — {found}"
        )
