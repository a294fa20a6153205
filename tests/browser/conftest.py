"""Фикстуры браузерных тестов: сервер JupyterLab, headless Chromium и выполненный ноутбук.

Сервер и браузер останавливаются всегда, и при упавшей проверке (finally).
Без Chromium или Playwright (ноутбук студента) тесты пропускаются с понятной причиной.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest
from browser_helpers import (
    CHROMIUM_ARGS,
    VIEWPORT,
    close_notebook,
    notebook_sources,
    open_notebook,
    read_cells,
    require_browser_tools,
    run_all_cells,
    start_lab_server,
    stop_process_tree,
    uses_explorer,
)


def pytest_collection_modifyitems(config, items):
    """Проверка виджетов — только у ноутбуков, которые их строят; у остальных она снимается
    (deselected), а не пропускается (пропуск значит: чего-то не хватает, например Chromium)."""
    root = notebook_sources()[0]
    drop = [
        item
        for item in items
        if item.originalname == "test_explorer_widgets_update"
        and not uses_explorer(read_cells(root / item.callspec.params["notebook"]))
    ]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [item for item in items if item not in drop]


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"сигнал {signum}")


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    require_browser_tools()
    # SIGTERM (таймаут CI) -> KeyboardInterrupt: pytest всё равно выполнит finally ниже.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    proc, server = start_lab_server(tmp_path_factory.mktemp("jupyterlab"))
    try:
        yield server
    finally:
        stop_process_tree(proc)
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def browser_context(lab_server, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    context = None
    try:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=shutil.which("chromium") or shutil.which("chromium-browser"),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
            locale="ru-RU",
        )
        yield context
    finally:
        try:
            if context is not None:
                context.close()
        finally:
            pw.stop()


@pytest.fixture(scope="module", params=notebook_sources()[1], ids=lambda r: Path(r).stem)
def notebook(request, lab_server, browser_context):
    """Ноутбук, открытый в JupyterLab и выполненный целиком (версия для студента — только открыта).

    Область — модуль с параметром: pytest выполняет все тесты одного ноутбука подряд,
    затем закрывает его и гасит ядро.
    """
    nb = open_notebook(browser_context, lab_server, request.param)
    try:
        if not nb.student_version:
            try:
                run_all_cells(nb)
            except AssertionError as exc:  # тест покажет это вместе со сводкой ячеек
                nb.run_error = str(exc)
        yield nb
    finally:
        close_notebook(nb)
