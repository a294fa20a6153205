"""Отчёт о качестве моделей курса: ``make quality`` -> ``docs/quality.md`` и ``docs/quality.json``.

Каждый ноутбук выполняется в полном (документированном) профиле в ``build/quality/``, а
числа берутся из его же переменных — ровно те, что ноутбук печатает:

* ``fashion`` — ноутбук 02: ``val_loss`` после 5 эпох (лекция: 135.56);
* ``cifar`` — эталон задания: PSNR тестовых реконструкций (цель — не меньше 20 дБ);
* ``faces`` — ноутбук 03: PSNR отложенных лиц, активные измерения, разнообразие, эффекты
  векторов и утечка, плавность морфинга (``FACE_QUALITY``).

Полный прогон долгий (на 2 ядрах CPU — больше часа), поэтому ``--parts`` выбирает части, а
``--reuse ЧАСТЬ=файл.json`` берёт числа части из уже выполненного прогона (каждый прогон
части пишет ``build/quality/<часть>/result.json``; ноутбук 03 сам пишет
``notebooks/output/faces/quality.json``). Невыполненные части отчёт так и называет.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_utils import manifest
from course_utils.face_attributes import MIN_EFFECT

ROOT = Path(__file__).resolve().parent.parent
MARK = "QUALITY_JSON "
# Эталон задания на CIFAR-10 — по course.toml (задание, которому нужен набор cifar10).
CIFAR_ASSIGNMENT = next(a for a in manifest.load(ROOT).assignments if "cifar10" in a.datasets)
PARTS = {
    "fashion": (
        ROOT / "notebooks" / "02_vae_fashion_mnist.ipynb",
        'json.dumps({"epochs": len(history.history["val_loss"]), '
        '"val_loss": history.history["val_loss"][-1]})',
    ),
    "cifar": (
        ROOT / CIFAR_ASSIGNMENT.source,
        'json.dumps({"psnr_db": float(10 * np.log10(1.0 / mse)), "test_images": len(x_test)})',
    ),
    "faces": (
        ROOT / "notebooks" / "03_vae_celeba_faces.ipynb",
        "json.dumps(FACE_QUALITY, ensure_ascii=False)",
    ),
}


def run_part(name, timeout):
    """Выполняет ноутбук части в полном профиле и возвращает его числа и время."""
    path, expression = PARTS[name]
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(f"import json\nprint({MARK!r} + {expression})"))
    workdir = ROOT / "build" / "quality" / name
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.pop("COURSE_FAST", None)  # полный профиль
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=timeout, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    minutes = (time.perf_counter() - start) / 60
    nbformat.write(nb, workdir / path.name)
    for output in nb.cells[-1].get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(MARK):
                result = {"minutes": round(minutes, 1), **json.loads(line[len(MARK) :])}
                (workdir / "result.json").write_text(json.dumps(result, ensure_ascii=False))
                return result
    raise RuntimeError(f"{path.name}: последняя ячейка не напечатала {MARK.strip()}")


def _markdown(results):
    lines = [
        "# Качество моделей курса",
        "",
        "Создано `make quality` (`tools/quality.py`); числа — из переменных самих "
        "ноутбуков в полном профиле. Машина: 2 ядра CPU, без GPU, общая с другими "
        "задачами.",
        "",
    ]
    fashion = results.get("fashion")
    lines += ["## Fashion-MNIST (ноутбук 02)", ""]
    if fashion:
        lines.append(
            f"`val_loss` после {fashion['epochs']} эпох: **{fashion['val_loss']:.2f}** "
            f"(лекция: 135.56); {fashion['minutes']} мин."
        )
    else:
        lines.append("Не выполнялось в этом отчёте.")
    cifar = results.get("cifar")
    lines += ["", "## CIFAR-10, эталон задания", ""]
    if cifar:
        ok = "цель выполнена" if cifar["psnr_db"] >= 20 else "цель НЕ выполнена"
        lines.append(
            f"PSNR реконструкций {cifar['test_images']} тестовых изображений: "
            f"**{cifar['psnr_db']:.2f} дБ** за {cifar['minutes']} мин "
            f"(цель — не меньше 20 дБ не дольше 10 мин: {ok})."
        )
    else:
        lines.append("Не выполнялось в этом отчёте.")
    faces = results.get("faces")
    lines += ["", "## Лица (ноутбук 03)", ""]
    if not faces:
        lines.append("Не выполнялось в этом отчёте.")
    else:
        lines += [
            f"Обучение: {faces['run']}. Проверка — на {faces['test_images']} отложенных лицах.",
            "",
            "| мера | значение |",
            "|---|---|",
            f"| PSNR реконструкций, дБ | {faces['reconstruction_psnr_db']} |",
            f"| активных измерений (KL > 0,01 нат) из 200 | {faces['active_dims']} |",
            f"| KL всего, нат | {faces['kl_total_nats']} |",
            f"| разнообразие новых лиц / настоящих | {faces['diversity_vs_real']} |",
            f"| морфинг: самый большой шаг / средний | {faces['morph_max_over_mean_step']} |",
            "",
            "Векторы признаков: средняя вероятность атрибута по независимому "
            "классификатору при α = −2, 0, +2; утечка — самое большое изменение другого "
            "измеримого атрибута между α = −2 и +2. Вывод «растёт» — вероятность растёт "
            f"с α и между α = −2 и +2 вырастает не меньше чем на {MIN_EFFECT:g}.",
            "",
            "| вектор | AUC классификатора | α = −2 | α = 0 | α = +2 | вывод | утечка |",
            "|---|---|---|---|---|---|---|",
        ]
        auc = faces["classifier_auc"]
        measurable = [n for n, v in faces["verdicts"].items() if v != "не измерим"]
        for name, probs in faces["attribute_effects"].items():
            own = probs[name]
            leaks = {o: p[-1] - p[0] for o, p in probs.items() if o != name and o in measurable}
            other, leak = max(leaks.items(), key=lambda kv: abs(kv[1])) if leaks else ("—", 0.0)
            lines.append(
                f"| {name} | {auc[name]:.3f} | {own[0]:.2f} | {own[1]:.2f} | "
                f"{own[-1]:.2f} | {faces['verdicts'][name]} | {other} {leak:+.2f} |"
            )
        if "minutes" in faces:
            lines += ["", f"Весь ноутбук: {faces['minutes']} мин."]
    reused = {name: part["reused_from"] for name, part in results.items() if "reused_from" in part}
    if reused:
        lines += ["", "Числа взяты из уже выполненных прогонов (`--reuse`):", ""]
        lines += [f"* {name}: `{path}`" for name, path in reused.items()]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="fashion,cifar,faces")
    parser.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="ЧАСТЬ=ФАЙЛ",
        help="числа части из уже выполненного прогона (JSON)",
    )
    parser.add_argument("--timeout", type=int, default=4 * 3600, help="секунд на ячейку")
    args = parser.parse_args(argv)
    reuse = dict(item.split("=", 1) for item in args.reuse)
    results = {}
    for name in [p for p in args.parts.split(",") if p]:
        if name in reuse:
            path = Path(reuse[name]).resolve()
            results[name] = json.loads(path.read_text(encoding="utf-8"))
            shown = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
            results[name]["reused_from"] = shown
            continue
        print(f"== {name}: {PARTS[name][0].name}", flush=True)
        results[name] = run_part(name, args.timeout)
    docs = ROOT / "docs"
    (docs / "quality.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (docs / "quality.md").write_text(_markdown(results), encoding="utf-8")
    print((docs / "quality.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    sys.exit(main())
