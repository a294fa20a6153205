"""Помощники браузерных тестов: сервер JupyterLab, ноутбук в Chromium, сводка страницы.

Курс глазами студента: ноутбук открывается в настоящем JupyterLab, выполняется
"Run > Run All Cells" в профиле CI (COURSE_FAST=1, COURSE_DATA=sample), а тесты смотрят
на то, что нарисовал браузер. Сервер работает с временной копией ноутбуков и временными
настройками, поэтому прогон никогда не меняет файлы пользователя.

Переменные окружения (необязательные):
- COURSE_BROWSER_NOTEBOOKS — папка с ноутбуками вместо notebooks/ (для отладки харнесса);
- COURSE_BROWSER_TIMEOUT — сколько секунд ждать выполнения одного ноутбука (по умолчанию 900);
- COURSE_BROWSER_SCREENSHOTS — куда класть скриншоты (по умолчанию build/screenshots);
- COURSE_BROWSER_FULL=1 — полный профиль вместо CI (без COURSE_FAST, COURSE_DATA как задан):
  долго, только для скриншотов README.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from course_utils import manifest
from course_utils.config import REPO_ROOT

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Файлы, которые ноутбуки пишут во время работы: копировать их незачем.
COPY_IGNORE = shutil.ignore_patterns(
    ".ipynb_checkpoints", "checkpoint", "logs", "models", "output", "__pycache__"
)
# Настройки JupyterLab на время теста: без новостей и автосохранения, все ячейки в DOM.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_S = float(os.environ.get("COURSE_BROWSER_TIMEOUT", "900"))
SCREENSHOTS = Path(
    os.environ.get("COURSE_BROWSER_SCREENSHOTS") or REPO_ROOT / "build" / "screenshots"
)


# ---------------------------------------------------------------- какие ноутбуки проверяем


def notebook_sources() -> tuple[Path, list[str]]:
    """Корень и пути (относительно корня) всех ноутбуков курса, которые проверяет браузер."""
    override = os.environ.get("COURSE_BROWSER_NOTEBOOKS")
    if override:
        root = Path(override).resolve()
        return root, [p.name for p in sorted(root.glob("*.ipynb"))]
    # Ноутбуки курса из course.toml; эталоны заданий (nbgrader source) тоже должны
    # выполняться у студента, а версии для студентов — открываться.
    course = manifest.load()
    found = sorted(
        [nb.path for nb in course.notebooks] + [a.student_version for a in course.assignments]
    )
    return REPO_ROOT, found + [a.source for a in course.assignments]


def read_cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def uses_explorer(cells: list[dict]) -> bool:
    """Ноутбук строит виджеты-исследователи: его код импортирует ``course_utils.explorer``."""
    return any(
        c["cell_type"] == "code" and "course_utils.explorer" in cell_source(c) for c in cells
    )


def is_student_version(cells: list[dict]) -> bool:
    """Версия для студента: заготовки с `raise NotImplementedError` падают по замыслу."""
    return any(
        c["cell_type"] == "code" and "raise NotImplementedError" in cell_source(c) for c in cells
    )


# ---------------------------------------------------------------- нужные программы


def _missing_tools() -> str | None:
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "нет Chromium / Chromium not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "нет Playwright / Playwright not installed (pip install playwright)"
    if importlib.util.find_spec("jupyterlab") is None:
        return f"нет JupyterLab в {sys.executable} / JupyterLab not installed in this environment"
    return None


def require_browser_tools() -> None:
    reason = _missing_tools()
    if reason:
        pytest.skip(f"Браузерные тесты пропущены: {reason}. Browser tests skipped.")


# ---------------------------------------------------------------- сервер JupyterLab


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process_tree(proc: subprocess.Popen) -> None:
    """Остановить сервер и все его потомки (ядра запускаются в своих сессиях)."""
    try:
        import psutil

        children = psutil.Process(proc.pid).children(recursive=True)
    except Exception:
        children = []
    for sig, wait_s in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                continue
    for child in children:
        try:
            if child.is_running():
                child.kill()
        except Exception:
            pass


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    log: Path

    def log_tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:]


def start_lab_server(tmp: Path) -> tuple[subprocess.Popen, LabServer]:
    """Запустить `jupyter lab` этого окружения на свободном порту с временными настройками."""
    src_root, relpaths = notebook_sources()
    root = tmp / "course"
    # Временная копия: браузер может сохранить ноутбук, но не ноутбук пользователя.
    for folder in sorted({Path(r).parent for r in relpaths}):
        shutil.copytree(src_root / folder, root / folder, ignore=COPY_IGNORE, dirs_exist_ok=True)
    root.mkdir(exist_ok=True)

    config_dir = tmp / "config"
    for name, value in LAB_SETTINGS.items():
        target = config_dir / "lab" / "user-settings" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))

    env = dict(os.environ)
    # С MPLBACKEND=Agg ядро не включает inline-бэкенд и графики не появляются.
    env.pop("MPLBACKEND", None)
    if os.environ.get("COURSE_BROWSER_FULL") == "1":
        env.pop("COURSE_FAST", None)  # полный профиль, данные — из COURSE_DATA как есть
    else:
        env.update(COURSE_FAST="1", COURSE_DATA="sample")  # профиль CI
    env.update(
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTERLAB_SETTINGS_DIR=str(config_dir / "lab" / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        IPYTHONDIR=str(tmp / "ipython"),
    )
    token = secrets.token_hex(16)
    port = _free_port()
    cmd = [
        # Этот же интерпретатор, а не скрипт bin/jupyter: у скопированного окружения строка
        # #! скрипта может указывать на чужой Python (и ядро взяло бы чужой course_utils).
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        "--expose-app-in-browser",  # window.jupyterapp: команды меню из теста
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = tmp / "jupyterlab.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=root,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root=root, log=log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab не запустился (код {proc.returncode}):\n{server.log_tail()}"
                )
            try:
                urllib.request.urlopen(f"{server.url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab не ответил за 120 с:\n{server.log_tail()}")
                time.sleep(0.5)
    except BaseException:
        stop_process_tree(proc)
        raise
    return proc, server


# ---------------------------------------------------------------- ноутбук в браузере

# Сводка того, что видно на странице, по ячейкам в порядке ноутбука.
SUMMARY_JS = """
() => {
  // Текст разметки без кода и уже отрисованных формул (MathJax): там TeX законен.
  const proseText = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: n => n.parentElement.closest('code, pre, mjx-container, .MathJax')
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
    });
    const parts = [];
    while (walker.nextNode()) parts.push(walker.currentNode.textContent);
    return [parts.join('')];
  };
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets.map((cell, i) => {
    const node = cell.node;
    const prompt = node.querySelector('.jp-InputArea-prompt');
    const outputs = Array.from(node.querySelectorAll('.jp-OutputArea-output')).map(o => ({
      mime: o.getAttribute('data-mime-type') || '',
      text: (o.innerText || '').slice(0, 3000),
      imgs: o.querySelectorAll('img').length,
    }));
    const md = node.querySelector('.jp-RenderedMarkdown');
    return {
      index: i,
      type: cell.model.type,
      prompt: prompt ? prompt.innerText.trim() : '',
      executionCount: cell.model.type === 'code' ? cell.model.executionCount : null,
      modelOutputTypes: cell.model.type === 'code'
        ? cell.model.outputs.toJSON().map(o => o.output_type) : [],
      errors: cell.model.type === 'code'
        ? cell.model.outputs.toJSON().filter(o => o.output_type === 'error')
            .map(o => o.ename + ': ' + o.evalue) : [],
      outputs,
      rendered: md !== null && !node.classList.contains('jp-mod-editMode')
                && md.offsetParent !== null,
      headings: md ? Array.from(md.querySelectorAll('h1,h2,h3,h4,h5,h6'))
          .map(h => ({level: Number(h.tagName[1]), text: h.innerText.replace('¶', '').trim()})) : [],
      rawHashLines: md ? Array.from(md.querySelectorAll('p'))
          .map(p => p.innerText).filter(t => /^#{1,6}\\s/.test(t)) : [],
      rawMath: md ? proseText(md).filter(t => /\\$[^$]*\\\\[A-Za-z]+[^$]*\\$/.test(t)) : [],
    };
  });
}
"""

KERNEL_IDLE_JS = """
() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const ctx = panel && panel.sessionContext;
  const kernel = ctx && ctx.session && ctx.session.kernel;
  return !!kernel && kernel.status === 'idle' && ctx.isReady
    && !Array.from(document.querySelectorAll('.jp-InputArea-prompt'))
         .some(p => p.innerText.includes('*'));
}
"""

# Страница дорисовала то, что знает модель: у каждой ячейки кода столько же выводов на
# странице, сколько в модели, markdown-ячейки отрисованы. Условие, а не пауза.
RENDERED_JS = """
() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content) return false;
  return panel.content.widgets.every(cell => {
    if (!cell.node.isConnected) return false;
    if (cell.model.type === 'markdown') return cell.rendered;
    if (cell.model.type !== 'code') return true;
    return cell.outputArea.widgets.length === cell.model.outputs.length;
  });
}
"""

# Найти элемент заново (JupyterLab может перерисовать ячейку между двумя вызовами),
# прокрутить к нему и вернуть его прямоугольник и прямоугольник видимой части ноутбука —
# всё за один вызов на странице, поэтому элемент не может «отвалиться» посередине.
REVEAL_JS = """
async ([selector, index, closest]) => {
  const find = () => {
    let el = document.querySelectorAll(selector)[index];
    if (el && closest) el = el.closest(closest);
    return el && el.isConnected ? el : null;
  };
  let el = find();
  if (!el) return null;
  el.scrollIntoView({block: 'start'});
  // Дождаться кадра после прокрутки (с запасным таймером: в фоне кадров нет).
  await Promise.race([
    new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))),
    new Promise(r => setTimeout(r, 500)),
  ]);
  el = find();
  if (!el) return null;
  const rect = n => { const r = n.getBoundingClientRect();
                      return {x: r.x, y: r.y, width: r.width, height: r.height}; };
  const view = el.closest('.jp-WindowedPanel-outer')
    || document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
  return {box: rect(el), view: view ? rect(view) : null};
}
"""


@dataclass
class NotebookPage:
    relpath: str
    path: Path  # копия, которую открыл JupyterLab
    cells: list[dict]  # ячейки из файла (nbformat JSON)
    page: object
    student_version: bool
    run_result: object = None
    run_error: str | None = None
    run_seconds: float | None = None
    console_errors: list[str] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return Path(self.relpath).stem

    def summary(self) -> list[dict]:
        return self.page.evaluate(SUMMARY_JS)

    def reveal(self, selector: str, index: int = 0, closest: str | None = None) -> dict:
        """Прокрутить к элементу (``index``-му по ``selector``, или его предку ``closest``).

        Элемент ищется заново при каждой попытке: JupyterLab перерисовывает ячейки, и
        сохранённая ссылка на узел может оказаться «not attached to the DOM».
        """
        args = [selector, index, closest]
        return _wait_for(self.page, REVEAL_JS, f"элемент {args} на странице", 120, 0.2, args)

    def screenshot(self, name: str, selector: str | None = None, **where) -> Path:
        """Снимок окна; с ``selector`` — только этого элемента в видимой части ноутбука."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"{self.stem}{name}.png"
        if selector is None:
            self.page.screenshot(path=str(target))
            return target
        found = self.reveal(selector, **where)
        box, view = found["box"], found["view"] or found["box"]
        x0, y0 = max(box["x"], view["x"]), max(box["y"], view["y"])
        x1 = min(box["x"] + box["width"], view["x"] + view["width"])
        y1 = min(box["y"] + box["height"], view["y"] + view["height"])
        clip = {"x": x0, "y": y0, "width": max(x1 - x0, 1), "height": max(y1 - y0, 1)}
        self.page.screenshot(path=str(target), clip=clip)
        return target


# Диалог выбора ядра — принять; уведомления (новости) — закрыть. Одним вызовом на странице:
# узел, найденный отдельным шагом, мог бы исчезнуть до щелчка.
DISMISS_POPUPS_JS = """
() => {
  const accept = document.querySelector('.jp-Dialog .jp-Dialog-button.jp-mod-accept');
  if (accept && accept.offsetParent !== null) accept.click();
  document.querySelectorAll('.jp-Notification-Toast-Close').forEach(b => b.click());
}
"""


def _dismiss_popups(page) -> None:
    page.evaluate(DISMISS_POPUPS_JS)


def _wait_for(page, js: str, what: str, timeout_s: float, poll_s: float = 0.5, arg=None):
    """Ждать, пока JS-функция ``js`` на странице не вернёт истину; вернуть её значение."""
    deadline = time.monotonic() + timeout_s
    while not (value := page.evaluate(js, arg)):
        _dismiss_popups(page)
        if time.monotonic() > deadline:
            raise AssertionError(f"не дождались за {timeout_s:.0f} с: {what}")
        time.sleep(poll_s)
    return value


def open_notebook(context, server: LabServer, relpath: str) -> NotebookPage:
    path = server.root / relpath
    cells = read_cells(path)
    page = context.new_page()
    nb = NotebookPage(relpath, path, cells, page, is_student_version(cells))
    page.on("console", lambda m: nb.console_errors.append(m.text) if m.type == "error" else None)
    workspace = re.sub(r"[^A-Za-z0-9]+", "-", relpath)  # своё рабочее место на ноутбук
    opened = (
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        f" return !!w && !!w.context && w.context.path === {json.dumps(relpath)}"
        " && !!w.sessionContext && w.content.widgets.length > 0; }"
    )
    try:
        # Не ждать события load (на занятой машине дольше 30 с по умолчанию): дальше условия.
        page.goto(
            f"{server.url}/lab/workspaces/{workspace}/tree/{relpath}?reset&token={server.token}",
            wait_until="commit",
        )
        _wait_for(page, opened, f"JupyterLab открыл {relpath}", 300)
        # И у версии для студента: пока ядро подключается, JupyterLab перерисовывает ячейки.
        _wait_for(page, KERNEL_IDLE_JS, f"ядро для {relpath} запущено и свободно", 300)
        _wait_for(page, RENDERED_JS, f"ячейки {relpath} отрисованы", 120)
        # Больше места ноутбуку на снимках: боковые панели свернуть.
        page.evaluate(
            "() => { jupyterapp.shell.collapseLeft(); jupyterapp.shell.collapseRight(); }"
        )
        _dismiss_popups(page)
    except BaseException:
        close_notebook(nb)
        raise
    return nb


def run_all_cells(nb: NotebookPage, timeout_s: float = TIMEOUT_S) -> None:
    """Run > Run All Cells и ждать, пока ядро не освободится."""
    page = nb.page
    start = time.monotonic()
    page.evaluate(
        "() => { window.__runAll = undefined;"
        " window.jupyterapp.commands.execute('notebook:run-all-cells')"
        "   .then(r => { window.__runAll = {ok: r}; },"
        "         e => { window.__runAll = {error: String(e)}; }); }"
    )
    _wait_for(page, "() => window.__runAll !== undefined", f"Run All в {nb.relpath}", timeout_s, 1)
    # Вывод (картинки, виджеты) может прийти чуть позже ответа ядра.
    _wait_for(page, KERNEL_IDLE_JS, f"ядро свободно после {nb.relpath}", 300)
    _wait_for(page, RENDERED_JS, f"выводы {nb.relpath} отрисованы", 120)
    nb.run_result = page.evaluate("() => window.__runAll")
    nb.run_seconds = time.monotonic() - start


def close_notebook(nb: NotebookPage) -> None:
    try:
        nb.page.evaluate(
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " return w && w.sessionContext ? w.sessionContext.shutdown() : null; }"
        )
    except Exception:
        pass
    nb.page.close()
