"""Время до качества: рецепты обучения в парных, чередующихся замерах (``make bench``).

Две задачи:

* ``faces`` — VAE лиц ноутбука 03 на нарисованных лицах (``COURSE_DATA=sample``); качество —
  как в ноутбуке: PSNR реконструкций отложенных лиц не ниже 21 дБ (``PSNR_BARS``) и все шесть
  векторов атрибутов «растёт» (``course_utils.face_attributes.report_attribute_effects``);
* ``cifar`` — эталон задания на настоящем CIFAR-10 (папка ``COURSE_DATA``, по умолчанию
  ``../shared/datasets``): модель и данные — из ячеек самого эталона, качество — PSNR
  реконструкций тестовых изображений не ниже 20 дБ.

Каждый рецепт учится в своём процессе (свой граф и пул потоков). Процессы готовятся (данные,
классификатор, модель; это время в счёт не идёт), а затем учатся **по очереди, по одной
эпохе**: A, B, B, A, A, B… (порядок в круге каждый раз обратный), пока один учится, другие
ждут. Так нагрузка общей машины делится между рецептами поровну, и отношение их времён —
парная мера, которая от нагрузки почти не зависит (абсолютные минуты от неё зависят).
После контрольных эпох рецепт измеряет качество (в счёт не идёт); достигнув его, рецепт
останавливается. С ``--full-baseline`` базовый рецепт (первый в ``--recipes``, прежний рецепт
ноутбука) доучивается до конца, и время каждого рецепта сравнивается ещё и с полным временем
базового («вдвое быстрее сегодняшнего рецепта»).

Печатается таблица: шаги и минуты обучения до качества, их отношения к базовому рецепту (к его
времени до качества и к полному времени), а также медиана парных отношений времени шага
(эпохи одного круга).
``--json`` дописывает задачу в JSON, ``--markdown`` рисует из JSON таблицы между метками в
``docs/benchmarks.md``.

Запуск: ``python tools/bench/time_to_quality.py --task faces [--recipes constant80
cosine40_beta30k] [--json docs/time_to_quality.json --markdown docs/benchmarks.md]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from machine_facts import cpus, load_now, processor, utc_stamp  # noqa: E402
from readme_times import replace_marked  # noqa: E402
from time_make_test import commit  # noqa: E402

#: Рецепты задач: эпохи, батч, скорость обучения и её расписание, контрольные эпохи,
#: β (если не как у задачи), XLA и (у лиц) автонастройка tf.data. Первый рецепт задачи — базовый.
RECIPES = {
    "faces": {
        # Прежний рецепт ноутбука 03: постоянная скорость обучения 1e-3, 80 эпох (3 440 шагов),
        # и прежний конвейер данных — с автонастройкой tf.data (см. memory_batches).
        "constant80": dict(
            epochs=80, lr=1e-3, schedule="constant", checks=(40, 50, 60, 70, 80), autotune=True
        ),
        # Нынешний рецепт ноутбука 03: скорость 2e-3 убывает по косинусу за 40 эпох, β = 30 000.
        "cosine40_beta30k": dict(
            epochs=40, lr=2e-3, schedule="cosine", checks=(30, 40), beta=30_000.0
        ),
        # Рецепт ноутбука до 2026-12-07: косинус за 60 эпох, β = 20 000.
        "cosine60": dict(epochs=60, lr=2e-3, schedule="cosine", checks=(40, 50, 60)),
        # docs/faces_runs.md: при β = 20 000 за 40 эпох — 20,5 дБ, шагов не хватило.
        "cosine40": dict(epochs=40, lr=2e-3, schedule="cosine", checks=(30, 40)),
        # Нынешний рецепт с XLA (jit_compile=True): шагов столько же, меняется время шага.
        "cosine40_beta30k_xla": dict(
            epochs=40, lr=2e-3, schedule="cosine", checks=(40,), beta=30_000.0, jit_compile=True
        ),
    },
    "cifar": {
        # Нынешний эталон: 20 эпох, скорость 1e-3 убывает по косинусу.
        "cosine20": dict(epochs=20, lr=1e-3, schedule="cosine", checks=(10, 15, 20)),
        # Тот же шаг без расписания: когда постоянная скорость дойдёт до 20 дБ.
        "constant30": dict(epochs=30, lr=1e-3, schedule="constant", checks=(10, 15, 20, 25, 30)),
        # Вдвое короче: хватит ли косинуса за 10 эпох.
        "cosine10": dict(epochs=10, lr=1e-3, schedule="cosine", checks=(10,)),
    },
}
#: Рецепты, которые ``make bench`` сравнивает: базовый (первый) и выбранный.
DEFAULT_RECIPES = {"faces": ("constant80", "cosine40_beta30k"), "cifar": ("cosine20", "cosine10")}
#: Планки качества задач (PSNR, дБ).
PSNR_BARS = {"faces": 21.0, "cifar": 20.0}
FACES_BETA = 20_000.0
FACES_BATCH = 128
TEST_FRACTION = 0.1
#: Строки протокола между процессом рецепта и координатором (остальной вывод — шум фреймворка).
MARK = "TTQ "
MD_START = "<!-- time-to-quality:start -->"
MD_END = "<!-- time-to-quality:end -->"


# --------------------------------------------------------------------------- рецепт в процессе


def _optimizer(recipe, steps_per_epoch):
    import keras

    lr = recipe["lr"]
    if recipe["schedule"] == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(
            lr, decay_steps=recipe["epochs"] * steps_per_epoch
        )
    return keras.optimizers.Adam(lr)


def faces_quality(vae, classifier, train_images, train_labels, test_x, attributes):
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

    z_dim = vae.encoder.output[0].shape[-1]
    vectors = {
        name: get_vector_from_label(batches(name), vae, z_dim, name, verbose=False)
        for name in attributes
    }
    effects = attribute_effects(vae, classifier, vectors, test_x, alphas=(-2, 0, 2))
    with contextlib.redirect_stdout(io.StringIO()):
        verdicts = report_attribute_effects(effects, classifier)
    working = sorted(name for name, verdict in verdicts.items() if verdict == "растёт")
    psnr_db = round(reconstruction_psnr(vae, test_x), 2)
    return {
        "psnr_db": psnr_db,
        "vectors": {name: [round(p, 2) for p in effects[name]["probs"][name]] for name in effects},
        "working": working,
        "reached": psnr_db >= PSNR_BARS["faces"] and len(working) == len(attributes),
    }


def prepare_faces(recipe, seed):
    """Модель ноутбука 03, данные из памяти; возвращает (vae, набор, шагов в эпохе, мера)."""
    from course_utils.celeba import load_celeba_arrays, memory_batches
    from course_utils.face_attributes import train_attribute_classifier
    from course_utils.generated_faces import RENDERED_ATTRIBUTES, generate_celeba_sample
    from course_utils.vae import VAE, build_face_decoder, build_face_encoder

    folder = generate_celeba_sample(verbose=False)
    images, labels = load_celeba_arrays(RENDERED_ATTRIBUTES, data_dir=folder)
    n_test = int(len(images) * TEST_FRACTION)
    train_images, test_x = images[:-n_test], images[-n_test:].astype("float32") / 255.0
    train_labels = labels.iloc[:-n_test].reset_index(drop=True)
    classifier = train_attribute_classifier(
        images, labels, RENDERED_ATTRIBUTES, holdout_fraction=n_test / len(images), epochs=10
    )
    # autotune=True у constant80: конвейер ноутбука до 2026-12-07.
    train = memory_batches(
        train_images, batch_size=FACES_BATCH, seed=seed, autotune=recipe.get("autotune", False)
    )
    steps = -(-len(train_images) // FACES_BATCH)
    beta = recipe.get("beta", FACES_BETA)
    vae = VAE(build_face_encoder(), build_face_decoder(), beta=beta, reconstruction="mse")
    vae.compile(optimizer=_optimizer(recipe, steps), jit_compile=recipe.get("jit_compile", False))

    def quality():
        return faces_quality(
            vae, classifier, train_images, train_labels, test_x, RENDERED_ATTRIBUTES
        )

    return vae, dict(x=train, shuffle=False), steps, quality  # набор уже перемешан


#: Ячейки эталона задания, которые строят данные и модель (по порядку).
CIFAR_CELLS = ("setup", "params", "classes_solution", "data_solution", "model_solution")


def prepare_cifar(recipe, seed):
    """Данные и модель эталона задания — из его собственных ячеек; мера — PSNR теста."""
    import keras
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    from course_utils import manifest
    from course_utils.face_quality import reconstruction_psnr

    assignment = next(a for a in manifest.load(ROOT).assignments if "cifar10" in a.datasets)
    cells = {c.get("id"): c for c in nbformat.read(ROOT / assignment.source, as_version=4).cells}
    space = {"__name__": "__cifar_reference__"}
    for cell_id in CIFAR_CELLS:
        if cell_id == "model_solution":  # эпохи и скорость рецепта — до того, как модель соберётся
            space.update(EPOCHS=recipe["epochs"], LEARNING_RATE=recipe["lr"])
        code = TransformerManager().transform_cell(cells[cell_id].source)  # %pip — в ветке Colab
        exec(compile(code, f"<{assignment.name}:{cell_id}>", "exec"), space)  # noqa: S102
    keras.utils.set_random_seed(seed)
    vae, x_train = space["vae"], space["x_train"]
    steps = -(-len(x_train) // space["BATCH_SIZE"])
    vae.compile(optimizer=_optimizer(recipe, steps))

    def quality():
        psnr_db = round(reconstruction_psnr(vae, space["x_test"]), 2)
        return {"psnr_db": psnr_db, "reached": psnr_db >= PSNR_BARS["cifar"]}

    return vae, dict(x=x_train, batch_size=space["BATCH_SIZE"], shuffle=True), steps, quality


def serve(task, name, seed):
    """Процесс одного рецепта: готовится, затем на каждую строку ``epoch`` учит одну эпоху."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    recipe = RECIPES[task][name]
    keras.utils.set_random_seed(seed)
    prepare = prepare_faces if task == "faces" else prepare_cifar
    vae, fit_args, steps, quality = prepare(recipe, seed)
    _say(ready=True, steps_per_epoch=steps)
    epoch = 0
    for line in sys.stdin:
        if line.strip() != "epoch":
            break
        start = time.perf_counter()
        vae.fit(**fit_args, initial_epoch=epoch, epochs=epoch + 1, verbose=0)
        report = {"epoch": epoch + 1, "seconds": round(time.perf_counter() - start, 2)}
        epoch += 1
        if epoch in recipe["checks"]:
            report.update(quality())
        _say(**report)


def _say(**fields):
    print(MARK + json.dumps(fields, ensure_ascii=False), flush=True)


# --------------------------------------------------------------------------- координатор


class Worker:
    """Процесс рецепта, которому координатор по очереди даёт эпохи. ``full`` — учить все эпохи
    рецепта и после качества (базовый рецепт: его полное время — «время сегодняшнего рецепта»)."""

    def __init__(self, task, name, seed, env, full=False):
        self.name, self.recipe, self.full = name, RECIPES[task][name], full
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--task", task, "--serve", name, "--seed", str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.steps_per_epoch = self._read()["steps_per_epoch"]
        self.epochs: list[dict] = []

    def _read(self) -> dict:
        for line in self.proc.stdout:
            if line.startswith(MARK):
                return json.loads(line[len(MARK) :])
        raise RuntimeError(f"рецепт {self.name}: процесс завершился (код {self.proc.wait()})")

    def train_epoch(self) -> dict:
        self.proc.stdin.write("epoch\n")
        self.proc.stdin.flush()
        self.epochs.append(self._read())
        return self.epochs[-1]

    @property
    def done(self) -> bool:
        last = self.epochs[-1] if self.epochs else {}
        reached = bool(last.get("reached")) and not self.full
        return reached or len(self.epochs) >= self.recipe["epochs"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait()


def interleave(workers, echo=print):
    """Эпохи по очереди, порядок в каждом круге обратный предыдущему (ABBA), пока все не
    закончат; возвращает номера кругов: ``{рецепт: [круг каждой эпохи]}``."""
    rounds = {w.name: [] for w in workers}
    order, number = list(workers), 0
    while any(not w.done for w in workers):
        number += 1
        for worker in order:
            if worker.done:
                continue
            report = worker.train_epoch()
            rounds[worker.name].append(number)
            echo(json.dumps({"round": number, "recipe": worker.name, **report}, ensure_ascii=False))
            if worker.done:
                worker.close()
        order.reverse()
    return rounds


def summarize(workers, rounds, baseline):
    """Шаги и минуты до качества, отношения к базовому рецепту (к его времени до качества и,
    если он доучился, к его полному времени) и парное отношение шага."""
    by_name = {w.name: w for w in workers}

    def first_reached(worker):
        return next((i for i, e in enumerate(worker.epochs) if e.get("reached")), None)

    def step_seconds(worker):  # время шага в каждом круге
        return {
            r: e["seconds"] / worker.steps_per_epoch
            for r, e in zip(rounds[worker.name], worker.epochs)
        }

    base_steps = step_seconds(by_name[baseline])
    rows = []
    for worker in workers:
        index = first_reached(worker)
        own = step_seconds(worker)
        spent = None if index is None else sum(e["seconds"] for e in worker.epochs[: index + 1])
        paired = [own[r] / base_steps[r] for r in own if r in base_steps]
        rows.append(
            {
                "recipe": worker.name,
                **{k: v for k, v in worker.recipe.items() if k != "checks"},
                "checks": list(worker.recipe["checks"]),
                "steps_per_epoch": worker.steps_per_epoch,
                "epochs": worker.epochs,
                "reached_at_epoch": None if index is None else index + 1,
                "steps_to_quality": None if index is None else (index + 1) * worker.steps_per_epoch,
                "seconds_to_quality": None if spent is None else round(spent, 1),
                "minutes_to_quality": None if spent is None else round(spent / 60, 2),
                "step_seconds_median": round(statistics.median(own.values()), 3),
                "paired_step_ratio": round(statistics.median(paired), 3) if paired else None,
            }
        )
    base_row = next(r for r in rows if r["recipe"] == baseline)
    base = by_name[baseline]
    full_seconds = (
        sum(e["seconds"] for e in base.epochs)
        if len(base.epochs) == base.recipe["epochs"]
        else None
    )
    for row in rows:
        spent = row["seconds_to_quality"]
        row["full_baseline_minutes"] = None if full_seconds is None else round(full_seconds / 60, 2)
        row["full_time_ratio"] = (
            round(spent / full_seconds, 3) if spent is not None and full_seconds else None
        )
        for key, ratio_key in (
            ("steps_to_quality", "steps_ratio"),
            ("seconds_to_quality", "time_ratio"),
        ):
            reached = row[key] is not None and base_row[key]
            row[ratio_key] = round(row[key] / base_row[key], 3) if reached else None
    return rows


def _check_text(epoch: dict) -> str:
    """``40: 21.1`` или, у лиц, ``40: 21.1 (векторов 6 из 6)``."""
    text = f"{epoch['epoch']}: {epoch['psnr_db']:g}"
    if "working" in epoch:
        text += f" (векторов {len(epoch['working'])} из {len(epoch['vectors'])})"
    return text


def markdown(results: dict) -> str:
    """Таблицы всех задач из JSON (для ``docs/benchmarks.md``)."""
    titles = {
        "faces": "VAE лиц (ноутбук 03), нарисованные лица; качество — PSNR ≥ 21 дБ и все шесть векторов",
        "cifar": "Эталон задания, настоящий CIFAR-10; качество — PSNR теста ≥ 20 дБ",
    }
    lines = []
    for task, run in results.items():
        lines += [
            f"**{titles[task]}.** {run['date']}, {run['cpus']} ядра"
            + (f" ({run['processor']})" if run.get("processor") else "")
            + ", загрузка "
            f"{run['load_before'][0]:g} → {run['load_after'][0]:g}, базовый рецепт "
            f"`{run['baseline']}`, коммит `{run['commit']}`.",
            "",
            "| рецепт | шагов до качества | мин обучения до качества | шагов к базовому | "
            "время к базовому | время к полному базовому | шаг к базовому (парно, медиана) | "
            "PSNR по контрольным эпохам |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in run["recipes"]:
            checks = ", ".join(_check_text(e) for e in row["epochs"] if "psnr_db" in e)

            def show(value):
                return "не достиг" if value is None else f"{value:g}"

            full = row.get("full_time_ratio")  # нет, если базовый остановился на качестве
            full = "—" if full is None else f"{full:g}"
            lines.append(
                f"| `{row['recipe']}` | {show(row['steps_to_quality'])} | "
                f"{show(row['minutes_to_quality'])} | {show(row['steps_ratio'])} | "
                f"{show(row['time_ratio'])} | {full} | {show(row['paired_step_ratio'])} | "
                f"{checks} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip()


CIFAR_ARCHIVE = "cifar-10/cifar-10-python.tar.gz"


def _cifar_folder() -> str:
    return os.environ.get("COURSE_DATA") or str(ROOT.parent / "shared" / "datasets")


def real_cifar() -> bool:
    """Есть ли настоящий CIFAR-10 в папке ``COURSE_DATA`` (по умолчанию ``../shared/datasets``)."""
    return (Path(_cifar_folder()) / CIFAR_ARCHIVE).is_file()


def _echo(line):
    print(line, flush=True)  # строка за строкой и в файл: прерванный замер оставляет свои эпохи


def run(task, names, seed, echo=_echo, full_baseline=False) -> dict:
    env = {**os.environ}
    if task == "faces":
        env["COURSE_DATA"] = "sample"
    else:
        env["COURSE_DATA"] = _cifar_folder()
    env.pop("COURSE_FAST", None)  # полный профиль
    load_before, date, measured = load_now(), utc_stamp(), commit()  # код, который меряется
    workers = []
    try:
        for name in names:  # подготовка по очереди: её время в замер не входит
            full = full_baseline and name == names[0]
            workers.append(Worker(task, name, seed, env, full=full))
        rounds = interleave(workers, echo)
    finally:
        for worker in workers:
            worker.close()
    return {
        "date": date,
        "cpus": cpus(),
        "processor": processor(),
        "load_before": load_before,
        "load_after": load_now(),
        "commit": measured,
        "baseline": names[0],
        "recipes": summarize(workers, rounds, names[0]),
    }


def render(json_path: Path, markdown_path: Path) -> None:
    """Таблицы всех задач из ``json_path`` — между метками в ``markdown_path``."""
    results = json.loads(json_path.read_text(encoding="utf-8"))
    try:
        shown = json_path.resolve().relative_to(ROOT).as_posix()
    except ValueError:  # JSON вне репозитория
        shown = json_path.as_posix()
    note = f"<!-- Пишет tools/bench/time_to_quality.py из {shown}; не правьте руками. -->"
    text = markdown_path.read_text(encoding="utf-8")
    body = f"{note}\n{markdown(results)}"
    markdown_path.write_text(replace_marked(text, MD_START, MD_END, body), encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=list(RECIPES), default="faces")
    parser.add_argument(
        "--recipes", nargs="+", help="первый — базовый (по умолчанию — пара make bench)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--full-baseline",
        action="store_true",
        help="базовый рецепт доучивается до конца: время каждого рецепта сравнивается и с его "
        "полным временем",
    )
    parser.add_argument("--json", type=Path, help="дописать задачу в этот JSON")
    parser.add_argument("--markdown", type=Path, help="нарисовать таблицы из JSON в этом файле")
    parser.add_argument(
        "--render-only", action="store_true", help="только нарисовать таблицы --json в --markdown"
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # процесс одного рецепта
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.task, args.serve, args.seed)
        return 0
    if args.render_only:
        if not (args.json and args.markdown):
            parser.error("--render-only нужны --json и --markdown")
        render(args.json, args.markdown)
        return 0
    names = args.recipes or list(DEFAULT_RECIPES[args.task])
    unknown = sorted(set(names) - set(RECIPES[args.task]))
    if unknown:
        parser.error(f"нет рецептов {unknown} у задачи {args.task}: {sorted(RECIPES[args.task])}")
    if args.task == "cifar" and not real_cifar():
        print(
            "Время до качества для CIFAR-10 пропущено: 20 дБ — планка настоящих данных, а "
            f"архива нет. Положите его в <папка>/{CIFAR_ARCHIVE} и задайте COURSE_DATA=<папка>."
        )
        return 0
    result = run(args.task, names, args.seed, full_baseline=args.full_baseline)
    print(markdown({args.task: result}))
    if args.json:
        results = json.loads(args.json.read_text(encoding="utf-8")) if args.json.exists() else {}
        results[args.task] = result
        args.json.write_text(
            json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        if args.markdown:
            render(args.json, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
