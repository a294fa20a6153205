"""Время до качества: сколько шагов и минут нужно VAE лиц (ноутбук 03), чтобы достичь
качества, сохранённого в ноутбуке.

Качество лиц — как в ноутбуке 03: PSNR реконструкций отложенных лиц не ниже ``--psnr``
(21 дБ) и все шесть векторов атрибутов «растёт» по правилу ноутбука
(``course_utils.face_attributes.report_attribute_effects``). Каждый рецепт учится в своём
процессе на нарисованных лицах (``COURSE_DATA=sample``); после контрольных эпох обучение
приостанавливается, качество измеряется (это время в счёт не идёт), и печатается, на каком
шаге качество достигнуто впервые.

Время шага у рецептов с той же моделью, батчем и точностью одно и то же, поэтому их главная
мера — число шагов до качества: от нагрузки машины оно не зависит. Минуты обучения печатаются
тоже, но рецепты идут один за другим, и нагрузка общей машины между ними может меняться;
рецепт, меняющий сам шаг (XLA), честно сравнивать только по минутам на свободной машине.

Запуск: ``python tools/bench/faces_time_to_quality.py [--recipes constant80 cosine40_beta30k] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

#: Рецепты: эпохи, батч, скорость обучения и её расписание, XLA, β (по умолчанию BETA);
#: контрольные эпохи.
RECIPES = {
    # Прежний рецепт ноутбука 03: постоянная скорость обучения 1e-3, 80 эпох (3 440 шагов).
    "constant80": dict(epochs=80, batch=128, lr=1e-3, schedule="constant", checks=(40, 60, 80)),
    # Рецепт ноутбука до 2026-12-07: скорость 2e-3 убывает по косинусу до нуля за 60 эпох.
    "cosine60": dict(epochs=60, batch=128, lr=2e-3, schedule="cosine", checks=(40, 50, 60)),
    # Короче: docs/faces_runs.md — cosine40 дал 20,5 дБ против 21,5, шагов не хватило.
    "cosine40": dict(epochs=40, batch=128, lr=2e-3, schedule="cosine", checks=(30, 40)),
    # Нынешний рецепт ноутбука 03: те же 40 эпох, но ошибка реконструкции весит в 1,5 раза
    # больше (β = 30 000): лица резче ценой большей KL, 21 дБ за половину шагов constant80.
    "cosine40_beta30k": dict(
        epochs=40, batch=128, lr=2e-3, schedule="cosine", checks=(30, 40), beta=30_000.0
    ),
    # Тот же рецепт с XLA (jit_compile=True): шагов столько же, меняется время шага (на CPU
    # Keras сам XLA не включает; tools/faces_speed.py, вариант memory_xla).
    "cosine40_xla": dict(
        epochs=40, batch=128, lr=2e-3, schedule="cosine", checks=(40,), jit_compile=True
    ),
}
#: Рецепт, с которым сравниваются остальные (отношение шагов и минут до качества).
BASELINE = "constant80"
BETA = 20_000.0
TEST_FRACTION = 0.1


def _schedule(recipe, steps_per_epoch):
    import keras

    if recipe["schedule"] == "constant":
        return recipe["lr"]
    total = recipe["epochs"] * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(recipe["lr"], decay_steps=total)


def measure_quality(vae, classifier, train_images, train_labels, test_x, attributes):
    """PSNR отложенных лиц и вердикты векторов атрибутов, как в ноутбуке 03."""
    import contextlib
    import io

    from course_utils.face_attributes import attribute_effects, report_attribute_effects
    from course_utils.face_quality import reconstruction_psnr
    from course_utils.vae_utils import get_vector_from_label

    def batches(name, size=256):
        values = train_labels[name].to_numpy()
        for start in range(0, len(train_images), size):
            yield train_images[start : start + size] / 255.0, values[start : start + size]

    vectors = {
        name: get_vector_from_label(batches(name), vae, 200, name, verbose=False)
        for name in attributes
    }
    effects = attribute_effects(vae, classifier, vectors, test_x, alphas=(-2, 0, 2))
    with contextlib.redirect_stdout(io.StringIO()):
        verdicts = report_attribute_effects(effects, classifier)
    return {
        "psnr_db": round(reconstruction_psnr(vae, test_x), 2),
        "vectors": {name: [round(p, 2) for p in effects[name]["probs"][name]] for name in effects},
        "working": sorted(name for name, verdict in verdicts.items() if verdict == "растёт"),
    }


def run_recipe(name, psnr_bar, seed):
    """Обучает один рецепт в этом процессе; возвращает замеры по контрольным эпохам."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    import tensorflow as tf

    from course_utils.celeba import load_celeba_arrays
    from course_utils.face_attributes import train_attribute_classifier
    from course_utils.generated_faces import RENDERED_ATTRIBUTES, generate_celeba_sample
    from course_utils.vae import VAE, build_face_decoder, build_face_encoder

    recipe = RECIPES[name]
    folder = generate_celeba_sample(verbose=False)
    attributes = RENDERED_ATTRIBUTES
    images, labels = load_celeba_arrays(attributes, data_dir=folder)
    n_test = int(len(images) * TEST_FRACTION)
    train_images, test_x = images[:-n_test], images[-n_test:].astype("float32") / 255.0
    train_labels = labels.iloc[:-n_test].reset_index(drop=True)
    classifier = train_attribute_classifier(
        images, labels, attributes, holdout_fraction=n_test / len(images), epochs=10
    )

    keras.utils.set_random_seed(seed)
    batch = recipe["batch"]
    steps_per_epoch = int(np.ceil(len(train_images) / batch))
    train = (
        tf.data.Dataset.from_tensor_slices(train_images)
        .shuffle(len(train_images), seed=seed)
        .batch(batch)
        .map(lambda x: tf.cast(x, tf.float32) / 255.0)
        .prefetch(2)
    )
    beta = recipe.get("beta", BETA)
    vae = VAE(build_face_encoder(), build_face_decoder(), beta=beta, reconstruction="mse")
    vae.compile(
        optimizer=keras.optimizers.Adam(_schedule(recipe, steps_per_epoch)),
        jit_compile=recipe.get("jit_compile", False),
    )
    points, epoch_done, train_seconds = [], 0, 0.0
    for check in recipe["checks"]:
        start = time.perf_counter()
        vae.fit(train, initial_epoch=epoch_done, epochs=check, verbose=0)
        train_seconds += time.perf_counter() - start
        epoch_done = check
        quality = measure_quality(vae, classifier, train_images, train_labels, test_x, attributes)
        reached = quality["psnr_db"] >= psnr_bar and len(quality["working"]) == len(attributes)
        point = dict(
            epoch=check, steps=check * steps_per_epoch, train_min=round(train_seconds / 60, 1)
        )
        points.append({**point, **quality, "reached": reached})
        print(json.dumps({"recipe": name, **points[-1]}, ensure_ascii=False), flush=True)
    return {"recipe": name, **recipe, "checks": list(recipe["checks"]), "points": points}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--psnr", type=float, default=21.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="куда записать результаты")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # один рецепт в этом процессе
    args = parser.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(run_recipe(args.one, args.psnr, args.seed)), flush=True)
        return 0

    results = []
    for name in args.recipes:  # каждый рецепт — в своём процессе (свой граф и пул потоков)
        proc = subprocess.run(
            [sys.executable, __file__, "--one", name, "--psnr", str(args.psnr)],
            env={**os.environ, "COURSE_DATA": "sample"},
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
        results.append(json.loads(line.removeprefix("RESULT ")))
        print(proc.stdout.replace(line, ""), flush=True)
    firsts = {r["recipe"]: next((p for p in r["points"] if p["reached"]), None) for r in results}
    base = firsts.get(BASELINE)
    print(f"{'рецепт':<14}{'шагов до качества':>20}{'мин обучения':>14}{'шагов к ' + BASELINE:>22}")
    for name, first in firsts.items():
        steps = first["steps"] if first else "не достиг"
        minutes = first["train_min"] if first else "—"
        ratio = f"{first['steps'] / base['steps']:.2f}" if first and base else "—"
        print(f"{name:<14}{steps!s:>20}{minutes!s:>14}{ratio:>22}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
