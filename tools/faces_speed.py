"""Скорость обучения VAE для лиц на CPU: что ускоряет шаг (для ``docs/benchmarks.md``).

Сравниваются (нарисованные лица ``COURSE_DATA=sample``, модель и батч — как в ноутбуке 03):

* ``disk`` — батчи прямо из ``load_celeba`` (JPEG читается и уменьшается каждую эпоху; так
  ноутбук учился раньше);
* ``memory`` — изображения один раз прочитаны в память (``load_celeba_arrays``), батчи из
  массива uint8 (``memory_batches``, без автонастройки tf.data; так ноутбук учится теперь);
* ``memory_autotune`` — то же с автонастройкой tf.data (так ноутбук учился до 2026-12-07):
  в конце замера итератор иногда ждёт пробуждения её потока;
* ``memory_bf16`` — то же со смешанной точностью ``mixed_bfloat16``;
* ``memory_b256`` — то же с батчем 256;
* ``memory_xla`` — то же с XLA (``compile(jit_compile=True)``): шаг компилируется целиком;
* ``memory_glibc`` — как ``memory``, но с настройками glibc по умолчанию: без
  ``MALLOC_ARENA_MAX=1`` и высоких порогов, которые ``make`` задаёт всем своим командам
  (каждый большой тензор тогда берёт память у системы заново).

Все варианты, кроме ``memory_glibc``, идут с переменными памяти из Makefile. Кроме скорости
печатается число страничных прерываний (minor faults), системное время процессора на шаг и
доля времени замера, когда процесс не считал (``idle``: 1 − процессорное время / (время × ядра);
у вычислений на двух ядрах — около 0,1, у замера, который ждал поток tf.data, — больше).

Варианты чередуются по кругу (ABCD ABCD...), чтобы нагрузка общей машины делилась между
ними поровну; печатается медиана изображений в секунду и средняя потеря после замера.
Запуск: ``python tools/faces_speed.py [--rounds 3] [--steps 10] [--modes memory memory_xla]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

MODES = (
    "disk",
    "memory",
    "memory_autotune",
    "memory_bf16",
    "memory_b256",
    "memory_xla",
    "memory_glibc",
)
#: Переменные glibc из Makefile (одна арена, память не возвращается системе после каждого тензора).
MALLOC_TUNING = {
    "MALLOC_ARENA_MAX": "1",
    "MALLOC_MMAP_THRESHOLD_": "1000000000",
    "MALLOC_TRIM_THRESHOLD_": "4000000000",
}


def measure(mode, steps):
    """Один замер в отдельном процессе (политика точности глобальна для процесса)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import resource

    import keras

    from course_utils.celeba import load_celeba, load_celeba_arrays, memory_batches
    from course_utils.generated_faces import generate_celeba_sample
    from course_utils.vae import VAE, build_face_decoder, build_face_encoder

    folder = generate_celeba_sample(verbose=False)
    batch = 256 if mode.endswith("b256") else 128
    if mode.endswith("bf16"):
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(0)
    vae = VAE(build_face_encoder(), build_face_decoder(), beta=5000.0, reconstruction="mse")
    vae.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=mode.endswith("xla"))
    if mode == "disk":
        data = load_celeba(data_dir=folder, batch_size=batch).repeat()
    else:
        images, _ = load_celeba_arrays(data_dir=folder)
        autotune = mode == "memory_autotune"
        data = memory_batches(images, batch_size=batch, seed=0, autotune=autotune).repeat()
    # Набор уже перемешан (shuffle=False, иначе Keras предупреждает, что перемешать не может).
    vae.fit(data, steps_per_epoch=3, epochs=1, shuffle=False, verbose=0)  # прогрев: граф
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start, cpu = time.perf_counter(), time.process_time()
    history = vae.fit(data, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "mode": mode,
        "batch": batch,
        "steps": steps,
        "images_per_s": steps * batch / seconds,
        "loss": history.history["loss"][-1],
        "minor_faults_per_step": (after.ru_minflt - usage.ru_minflt) / steps,
        "system_s_per_step": (after.ru_stime - usage.ru_stime) / steps,
        "idle": round(1 - cpu / (seconds * (os.cpu_count() or 1)), 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--one", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, args.steps)))
        return
    results = {mode: [] for mode in args.modes}
    for _ in range(args.rounds):
        for mode in args.modes:
            env = {k: v for k, v in os.environ.items() if k not in MALLOC_TUNING}
            if mode != "memory_glibc":
                env.update(MALLOC_TUNING)
            out = subprocess.run(
                [sys.executable, __file__, "--one", mode, "--steps", str(args.steps)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            row = json.loads(out.strip().splitlines()[-1])
            results[mode].append(row)
            print(json.dumps(row), flush=True)
    print(
        "| вариант | батч | изображений/с (медиана) | замеры | прерываний на шаг | сист. с на шаг "
        "| простой (замеры) |\n|---|---|---|---|---|---|---|"
    )
    for mode, rows in results.items():
        speeds = sorted(r["images_per_s"] for r in rows)
        print(
            f"| {mode} | {rows[0]['batch']} | {speeds[len(speeds) // 2]:.0f} | "
            + ", ".join(f"{r['images_per_s']:.0f}" for r in rows)  # по порядку замеров
            + f" | {sorted(r['minor_faults_per_step'] for r in rows)[len(rows) // 2]:.0f}"
            + f" | {sorted(r['system_s_per_step'] for r in rows)[len(rows) // 2]:.2f}"
            + " | "
            + ", ".join(f"{r['idle']:.2f}" for r in rows)
            + " |"
        )


if __name__ == "__main__":
    main()
