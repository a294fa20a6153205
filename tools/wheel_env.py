"""Курс глазами Colab: wheel пакета ``course_utils`` в свежем окружении вне репозитория.

wheel собирается из файлов репозитория под git (как из свежего клона) и ставится в новое
окружение (``python -m venv``) без зависимостей и без индекса; сами зависимости (TensorFlow,
Keras, Jupyter) берутся из окружения, где запущен этот скрипт, через файл ``.pth`` — так всё
работает офлайн и быстро, а пакет курса импортируется только из wheel. В окружении — ядро
Jupyter ``course-wheel``; переменные среды отрезают сеть (прокси, которого нет) и дают
окружению свои HOME и кэш курса.

Этим окружением пользуются ``make nbval`` (``tools/nbval_wheel.py``: каждый ноутбук — один в
пустой папке) и ``tests/test_wheel.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from set_repo import repo_files  # noqa: E402

KERNEL = "course-wheel"
#: Прокси, которого нет: любая попытка скачать что-то падает сразу, а не ждёт сеть.
NO_NETWORK = "http://127.0.0.1:9"


def run(cmd, **kwargs) -> str:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def build_wheel(src: Path, dist: Path) -> Path:
    """wheel из файлов репозитория под git: они копируются в ``src``, wheel кладётся в ``dist``."""
    for path in repo_files(ROOT):
        if path.is_file():
            target = src / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index"]
        + ["--no-build-isolation", "--wheel-dir", dist, src]
    )
    (built,) = dist.glob("course_utils-*.whl")
    return built


def make_env(wheel: Path, venv: Path, home: Path) -> dict:
    """Новое окружение с одним пакетом курса из wheel: ``{"python", "venv", "env"}``."""
    run([sys.executable, "-m", "venv", "--clear", venv])
    python = venv / "bin" / "python"
    # Сначала wheel (pip не видит пакетов курса из .venv), затем зависимости через .pth.
    run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel])
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]))
    Path(str(site).strip(), "course_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JUPYTER"))}
    env.update(
        HOME=str(home),
        KERAS_HOME=str(home / "keras"),
        COURSE_CACHE=str(home / "cache"),
        COURSE_DATA="sample",
        COURSE_FAST="1",
        KERAS_BACKEND="tensorflow",
        http_proxy=NO_NETWORK,
        https_proxy=NO_NETWORK,
        HTTP_PROXY=NO_NETWORK,
        HTTPS_PROXY=NO_NETWORK,
        no_proxy="127.0.0.1,localhost",  # ядро Jupyter говорит с сервером по localhost
    )
    run([python, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL], env=env)
    # Спецификацию ядра видит и Jupyter окружения, где запущен этот скрипт (nbval в .venv).
    env["JUPYTER_PATH"] = str(venv / "share" / "jupyter")
    return {"python": python, "venv": venv, "env": env}
