"""`make nbval`: ноутбуки курса под nbval так, как их видит Colab, — каждый один в пустой
папке, пакет курса только из wheel, без сети, в профиле CI.

Окружение с wheel готовит ``tools/wheel_env.py``. Ноутбуки копируются в
``build/nbval/run/<имя>/`` (папка ``build/nbval`` создаётся заново), к каждой копии в конце
добавляется ячейка, которая падает, если ядро взяло пакет курса не из wheel. Затем nbval
выполняет копии в ядре ``course-wheel`` и сверяет ячейки ``# NBVAL_CHECK_OUTPUT`` с выводом,
сохранённым в ноутбуках. Один прогон проверяет и выводы ноутбуков, и то, что курс работает
из установленного пакета (раньше это были два отдельных выполнения каждого ноутбука).

CelebA ноутбуки получают так, как в Colab после ``kagglehub``: папку в раскладке Kaggle
без пометки генератора (нарисованные лица, ``CELEBA_DIR``). Ноутбук должен принять их за
настоящий набор и всё равно измерить векторы атрибутов: это проверяет ячейка
``REAL_CELEBA_CHECK`` перед проверкой wheel. Встроенные нарисованные лица (``COURSE_DATA=sample``)
ноутбук 03 берёт в браузерном тесте и в ``make run``.

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

#: Ячейка после ноутбука с CelebA (переменные ноутбука 03): набор без пометки генератора —
#: «настоящий», и классификатор всё равно измерил каждый вектор атрибута.
REAL_CELEBA_CHECK = (
    "# make nbval: CelebA в раскладке Kaggle ноутбук считает настоящим и всё равно измеряет\n"
    "# каждый вектор атрибута независимым классификатором.\n"
    "assert REAL_DATA, DATA_NAME\n"
    "assert set(classifier.auc) == set(ATTRIBUTES), classifier.auc\n"
    "assert set(verdicts) == set(ATTRIBUTES), verdicts"
)


def _code_cell(cell_id: str, source: str) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id,
        "metadata": {},
        "outputs": [],
        "source": source,
    }


def kaggle_layout_celeba(datasets: Path) -> Path:
    """``<datasets>/celeba-dataset``: нарисованные лица в раскладке Kaggle, без пометки
    генератора (``manifest.json``), — для ноутбука неотличимы от настоящего CelebA."""
    from course_utils.generated_faces import FAST_SAMPLE_SIZE, generate_celeba_sample, is_generated

    # Столько же лиц, сколько рисует профиль CI, где nbval выполняет ноутбуки.
    drawn = generate_celeba_sample(
        n_images=FAST_SAMPLE_SIZE, seed=5, cache=datasets.parent / "drawn", verbose=False
    )
    folder = datasets / "celeba-dataset"
    shutil.copytree(drawn, folder, ignore=shutil.ignore_patterns("manifest.json"))
    assert not is_generated(folder)
    return folder


def copy_alone(notebook: Path, folder: Path, venv: Path, real_celeba: bool = False) -> Path:
    """Копия ноутбука одна в пустой папке, с проверкой источника пакета в конце (и, если
    ``real_celeba``, — с проверкой того, что CelebA ноутбук принял за настоящий)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    if real_celeba:
        nb["cells"].append(_code_cell("real-celeba-check", REAL_CELEBA_CHECK))
    nb["cells"].append(_code_cell("wheel-check", WHEEL_CHECK.format(venv=str(venv))))
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
    course = manifest.load(ROOT)
    with_celeba = {(ROOT / n.path).resolve() for n in course.notebooks if "celeba" in n.datasets}
    real_celeba = {p for p in paths if p.resolve() in with_celeba}
    if real_celeba:
        wheel_env["env"]["CELEBA_DIR"] = str(kaggle_layout_celeba(BUILD / "datasets"))
    copies = [
        copy_alone(p, BUILD / "run" / p.stem, wheel_env["venv"], p in real_celeba) for p in paths
    ]
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--durations=15"]
    cmd += ["--nbval-lax", f"--nbval-kernel-name={KERNEL}", *pytest_args, *map(str, copies)]
    print(" ".join(cmd), flush=True)
    return subprocess.call(cmd, env=wheel_env["env"], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
