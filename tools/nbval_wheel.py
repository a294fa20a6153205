"""`make nbval`: ноутбуки курса под nbval так, как их видит Colab, — каждый один в пустой
папке, пакет курса только из wheel, без сети, в профиле CI.

Окружение с wheel готовит ``tools/wheel_env.py``. Ноутбуки копируются в
``build/nbval/run/<имя>/`` (папка ``build/nbval`` создаётся заново), к каждой копии в конце
добавляется ячейка, которая падает, если ядро взяло пакет курса не из wheel. Затем nbval
выполняет копии в ядре ``course-wheel`` и сверяет ячейки ``# NBVAL_CHECK_OUTPUT`` с выводом,
сохранённым в ноутбуках. Один прогон проверяет и выводы ноутбуков, и то, что курс работает
из установленного пакета (раньше это были два отдельных выполнения каждого ноутбука).

Запуск: ``python tools/nbval_wheel.py [ноутбук ...] [-- аргументы pytest]``; без ноутбуков —
``run-list`` из ``course.toml`` (версии заданий для студентов не решены, вместо них — эталоны).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from wheel_env import KERNEL, build_wheel, make_env  # noqa: E402

from course_utils import manifest  # noqa: E402

BUILD = ROOT / "build" / "nbval"
#: Последняя ячейка каждой копии: пакет курса взят из окружения с wheel.
WHEEL_CHECK = (
    "# make nbval: пакет курса должен быть взят из wheel, а не из репозитория.\n"
    "import course_utils\n"
    "assert course_utils.__file__.startswith({venv!r}), course_utils.__file__"
)


def copy_alone(notebook: Path, folder: Path, venv: Path) -> Path:
    """Копия ноутбука одна в пустой папке, с проверкой источника пакета в конце."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "wheel-check",
            "metadata": {},
            "outputs": [],
            "source": WHEEL_CHECK.format(venv=str(venv)),
        }
    )
    folder.mkdir(parents=True)
    copy = folder / notebook.name
    copy.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return copy


def main(argv: list[str]) -> int:
    split = argv.index("--") if "--" in argv else len(argv)
    notebooks, pytest_args = argv[:split], argv[split + 1 :]
    paths = [Path(p) for p in notebooks] or [ROOT / p for p in manifest.load(ROOT).run_list()]
    shutil.rmtree(BUILD, ignore_errors=True)  # только своя папка сборки
    BUILD.mkdir(parents=True)
    wheel = build_wheel(BUILD / "src", BUILD / "dist")
    wheel_env = make_env(wheel, BUILD / "venv", BUILD / "home")
    copies = [copy_alone(p, BUILD / "run" / p.stem, wheel_env["venv"]) for p in paths]
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--durations=15"]
    cmd += ["--nbval-lax", f"--nbval-kernel-name={KERNEL}", *pytest_args, *map(str, copies)]
    print(" ".join(cmd), flush=True)
    return subprocess.call(cmd, env=wheel_env["env"], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
