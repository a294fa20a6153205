"""Проверка вынесенных результатов по настоящим данным — в чистом процессе проверяющего.

Сюда из песочницы попадают только файлы (JSON и ``.npy`` без pickle); ни одно имя из
пространства имён студента здесь не используется. Каждая проверка сравнивает заявление
студента с тем, что проверяющий вычислил сам: классы — по номеру билета, данные — с
пикселями и метками CIFAR-10, модель — по её ответам на изображения, которые выбрал
проверяющий. Баллы за проверку берутся из метаданных nbgrader ноутбука преподавателя
(:func:`evidence.points_from_source`); здесь только названия и сами проверки.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections import Counter
from dataclasses import dataclass

import numpy as np

from course_utils.assignment import classes_from_student_id
from course_utils.checks.evidence import (
    NOT_KERAS,
    Context,
    NoExport,
    heldout_indices,
    label_by_image,
    row_keys,
)

#: Реконструкции должны быть ощутимо лучше среднего изображения: доля его ошибки.
RECONSTRUCTION_RATIO = 0.8
#: Кадры морфинга и ответы декодера на те же точки могут отличаться не больше чем на это.
MORPH_ATOL = 0.02
#: Самая большая разумная размерность скрытого пространства (изображение — 3072 числа).
MAX_LATENT_DIM = 1024
#: KL модели на тестовых изображениях больше этого (у VAE — единицы и десятки натов).
MIN_KL = 1e-3


@dataclass
class Check:
    grade_id: str
    title: str
    points: float
    max_points: float
    message: str


def _fail(message: str):
    raise AssertionError(message)


def check_classes(ctx: Context) -> str:
    student_id = ctx.ex.value("STUDENT_ID", "STUDENT_ID")
    if ctx.ex.report.get("STUDENT_ID_type") != "str":
        _fail(
            'STUDENT_ID должен быть строкой, например STUDENT_ID = "0123456789" (в целом числе пропадают ведущие нули).'
        )
    try:
        expected = classes_from_student_id(student_id)
    except (TypeError, ValueError) as exc:
        _fail(f"STUDENT_ID = {student_id!r}: {exc}")
    classes = [int(c) for c in ctx.ex.value("classes", "classes")]
    if classes != expected:
        _fail(
            f"Для номера {student_id!r} классы — {expected} (первые четыре разные цифры с конца, по возрастанию), а в classes — {classes}."
        )
    return f"классы {expected} соответствуют номеру {student_id!r}"


def _check_split(
    ctx: Context, split: str, real_x: np.ndarray, real_y: np.ndarray, classes: list[int]
) -> int:
    x = ctx.ex.array(f"x_{split}")
    y = ctx.ex.array(f"y_{split}").reshape(-1)
    if x.ndim != 4 or x.shape[1:] != (32, 32, 3):
        _fail(f"x_{split}: форма {x.shape}, а нужна (n, 32, 32, 3).")
    if len(x) != len(y):
        _fail(f"x_{split} и y_{split} разной длины: {len(x)} и {len(y)}.")
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        _fail(f"x_{split}: значения должны быть от 0 до 1 (разделите uint8 на 255 один раз).")
    scaled = x.astype(np.float64) * 255.0
    pixels = np.rint(scaled)
    if np.abs(scaled - pixels).max() > 1e-3:
        _fail(
            f"x_{split}: это не пиксели CIFAR-10, делённые на 255 (значения изменены: шум, сглаживание, другой масштаб)."
        )
    wanted = np.isin(real_y, classes)
    want_counts = Counter(int(v) for v in real_y[wanted])
    got_counts = Counter(int(v) for v in y)
    if got_counts != want_counts:
        _fail(
            f"y_{split}: нужны все изображения классов {classes} ({dict(sorted(want_counts.items()))} по классам), "
            f"а в данных {dict(sorted(got_counts.items()))}."
        )
    if Counter(row_keys(pixels.astype(np.uint8), y)) != Counter(
        row_keys(real_x[wanted], real_y[wanted])
    ):
        _fail(
            f"x_{split}: изображения (или их метки) не совпадают с изображениями CIFAR-10 этих классов: "
            "возьмите их из load_cifar10() без изменений, только приведите к float32 и разделите на 255."
        )
    return len(x)


def check_data(ctx: Context) -> str:
    classes = ctx.data_classes
    if classes is None:
        _fail(
            "Нельзя проверить данные: не определены ни верный STUDENT_ID, ни classes из четырёх разных меток 0..9."
        )
    x_train, y_train, x_test, y_test = ctx.real
    n_train = _check_split(ctx, "train", x_train, y_train, classes)
    n_test = _check_split(ctx, "test", x_test, y_test, classes)
    return f"все изображения классов {classes}: {n_train} обучающих и {n_test} тестовых, пиксели и метки совпадают с CIFAR-10"


def _heldout(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Индексы (в запросе) тестовых изображений выбранных классов и их пиксели 0..1."""
    _, _, x_test, y_test = ctx.real
    indices = heldout_indices(ctx.course_data, ctx.heldout_seed)
    mine = np.isin(y_test[indices], ctx.data_classes or list(range(10)))
    return mine, x_test[indices].astype(np.float32) / 255.0


class NotTrainedYet(AssertionError):
    """Модель ещё не обучена (самопроверка до обучения решит это только при сдаче)."""


def _require_trained_keras(ctx: Context) -> None:
    """Баллы за модель — только модели Keras, веса которой изменены обучением."""
    if ctx.model_state == "not_keras":
        _fail(NOT_KERAS)
    if ctx.model_state == "clean" and not ctx.clean_report.get("trained"):
        raise NotTrainedYet(
            "Модель не обучена: веса кодировщика или декодера такие же, как при создании "
            "(все смещения нулевые). Обучите её vae.fit(...) до этой ячейки."
        )


def check_vae(ctx: Context) -> str:
    if ctx.model_state == "not_keras":
        _fail(NOT_KERAS)
    dim = ctx.ex.value("LATENT_DIM", "LATENT_DIM")
    if (
        ctx.ex.report.get("LATENT_DIM_type") not in ("int", "int32", "int64")
        or not 0 < dim <= MAX_LATENT_DIM
    ):
        _fail(f"LATENT_DIM должна быть целым числом от 1 до {MAX_LATENT_DIM}, а она {dim!r}.")
    what = "vae.encoder на изображениях проверяющего"
    z_mean, z_log_var, z = (ctx.ex.array(n, what, "vae") for n in ("z_mean", "z_log_var", "z"))
    n = len(heldout_indices(ctx.course_data))
    for name, part in (("z_mean", z_mean), ("z_log_var", z_log_var), ("z", z)):
        if part.shape != (n, dim):
            _fail(
                f"vae.encoder должен возвращать [z_mean, z_log_var, z] формы (n, LATENT_DIM) = (n, {dim}), а {name} формы {part.shape}."
            )
        if not np.all(np.isfinite(part)):
            _fail(f"vae.encoder: в {name} есть nan или inf.")
    if np.array_equal(z, z_mean):
        # Выборка может шуметь только при обучении: тогда смотрим ответ при training=True.
        with contextlib.suppress(NoExport):
            z_mean, z_log_var, z = (
                ctx.ex.array(f"{name}_training") for name in ("z_mean", "z_log_var", "z")
            )
    if float(np.std(z_mean, axis=0).max()) < 1e-3:
        _fail("z_mean одинакова для всех изображений: кодировщик не зависит от входа.")
    if z.shape != z_mean.shape or z_log_var.shape != z_mean.shape:
        _fail("vae.encoder при training=True вернул части другой формы.")
    sigma = np.exp(0.5 * z_log_var.astype(np.float64))
    if np.all(sigma < 1e-4):
        _fail(
            "Дисперсия апостериорного распределения почти нулевая (exp(z_log_var) ≈ 0): это не VAE, а обычный автокодировщик."
        )
    if np.allclose(z, z_mean):
        _fail(
            "z совпадает с z_mean: нет выборки z = z_mean + exp(z_log_var / 2)·ε (слой Sampling), это не VAE."
        )
    eps = (z.astype(np.float64) - z_mean) / np.maximum(sigma, 1e-12)
    if not (0.6 < float(np.std(eps)) < 1.6 and abs(float(np.mean(eps))) < 0.3):
        _fail(
            "z не похожа на выборку z_mean + exp(z_log_var / 2)·ε с ε ~ N(0, 1): "
            f"(z − z_mean)/σ имеет среднее {np.mean(eps):.2f} и разброс {np.std(eps):.2f} вместо 0 и 1."
        )
    # Последним: строение верно, осталось обучение (самопроверка до fit его ещё не видит).
    _require_trained_keras(ctx)
    return f"VAE с LATENT_DIM = {dim}: кодировщик возвращает z_mean, z_log_var и выборку z"


#: Ключи суммарных потерь в истории по убыванию предпочтения.
LOSS_KEYS = ("loss", "total_loss", "elbo", "elbo_loss", "vae_loss", "neg_elbo")
#: Слагаемые потерь VAE (KL, реконструкция): это не суммарные потери.
LOSS_PARTS = ("kl", "recon")


def choose_loss_key(history: dict) -> str | None:
    """Ключ суммарных потерь в ``history.history`` под любым разумным именем.

    Слагаемые (``kl_loss``, ``reconstruction_loss``) суммарными не считаются: у модели
    с трекерами ``elbo`` и ``kl_loss`` суммарные потери — ``elbo``.
    """
    for key in LOSS_KEYS:
        if key in history:
            return key
    candidates = [
        k
        for k in history
        if ("loss" in k or "elbo" in k)
        and not k.startswith("val_")
        and not any(part in k for part in LOSS_PARTS)
    ]
    for word in ("total", "elbo"):
        for key in candidates:
            if word in key:
                return key
    return candidates[0] if len(candidates) == 1 else None


def check_training(ctx: Context) -> str:
    history = ctx.ex.value("history", "history (результат vae.fit)")
    if not isinstance(history, dict) or not history:
        _fail("history.history пуст: сохраните в history результат vae.fit(...).")
    key = choose_loss_key(history)
    if key is None:
        _fail(
            f"В history.history не найден ключ суммарных потерь (loss, total_loss, ...): есть только {sorted(history)}."
        )
    losses = np.asarray(history[key], dtype=float)
    if len(losses) < 2:
        _fail(f"Эпох обучения: {len(losses)}, а нужно не меньше двух.")
    if not np.all(np.isfinite(losses)):
        _fail(
            f"В потерях {key} есть nan или inf: {losses.tolist()}. Уменьшите шаг обучения или проверьте функцию потерь."
        )
    if not losses[-1] < losses[0]:
        _fail(f"Потери {key} не уменьшились: {losses[0]:.4g} → {losses[-1]:.4g}.")
    story = f"Потери {key} уменьшились ({losses[0]:.4g} → {losses[-1]:.4g}), но"
    try:
        _require_trained_keras(ctx)
    except AssertionError as exc:
        _fail(f"{story} {exc}")
    if ctx.model_state == "clean":
        mine, _ = _heldout(ctx)
        kl = float(np.mean(ctx.model_array("kl", "KL")[mine]))
        if not kl > MIN_KL:
            _fail(
                f"{story} KL модели на тестовых изображениях {kl:.2g}: кодировщик не зависит "
                "от изображения или это не VAE."
            )
    if ctx.model_state != "clean":
        # Модель не загрузилась в чистом процессе (работу посмотрят глазами): обучение видно
        # только по реконструкциям.
        try:
            check_reconstruction(ctx)
        except (AssertionError, NoExport) as exc:
            _fail(f"{story} по модели обучения не видно: {exc}")
    return f"{len(losses)} эпох(и), {key}: {losses[0]:.4g} → {losses[-1]:.4g}"


def check_reconstruction(ctx: Context) -> str:
    mine, images = _heldout(ctx)
    reconstructions = ctx.model_array(
        "reconstructions", "vae.decoder(z_mean) на изображениях проверяющего"
    )
    if reconstructions.shape != images.shape:
        _fail(
            f"vae.decoder должен возвращать изображения формы (n, 32, 32, 3), а вернул {reconstructions.shape}."
        )
    if not np.all(np.isfinite(reconstructions)):
        _fail("vae.decoder вернул nan или inf.")
    x_train, y_train, _, _ = ctx.real
    classes = ctx.data_classes or list(range(10))
    mean_image = x_train[np.isin(y_train, classes)].astype(np.float64).mean(axis=0) / 255.0
    target = images[mine].astype(np.float64)
    model_mse = float(np.mean((reconstructions[mine] - target) ** 2))
    baseline_mse = float(np.mean((mean_image[None] - target) ** 2))
    psnr = lambda mse: 10 * np.log10(1.0 / max(mse, 1e-12))  # noqa: E731
    if not model_mse < RECONSTRUCTION_RATIO * baseline_mse:
        _fail(
            f"Реконструкции {int(mine.sum())} тестовых изображений ваших классов не лучше среднего изображения: "
            f"PSNR {psnr(model_mse):.1f} дБ, у среднего изображения {psnr(baseline_mse):.1f} дБ "
            f"(нужна ошибка меньше {RECONSTRUCTION_RATIO:g} ошибки среднего). Обучите модель дольше "
            "или проверьте, что декодер получает z (а не шум) и что вес реконструкции не слишком мал."
        )
    return f"PSNR реконструкций тестовых изображений {psnr(model_mse):.1f} дБ (среднее изображение: {psnr(baseline_mse):.1f} дБ)"


def _real_labels(ctx: Context, image: np.ndarray) -> set[int]:
    scaled = image.astype(np.float64) * 255.0
    if np.abs(scaled - np.rint(scaled)).max() > 1e-3:
        return set()
    key = hashlib.blake2b(np.rint(scaled).astype(np.uint8).tobytes(), digest_size=16).digest()
    return label_by_image(ctx.course_data).get(key, set())


def check_pair(ctx: Context) -> str:
    classes = ctx.data_classes or []
    labels = {}
    for name in ("a", "b"):
        image = ctx.ex.array(f"image_{name}")
        label = int(ctx.ex.value(f"label_{name}", f"label_{name}"))
        if image.shape != (32, 32, 3):
            _fail(f"image_{name}: форма {image.shape}, а нужна (32, 32, 3).")
        real = _real_labels(ctx, image)
        if not real:
            _fail(
                f"image_{name} нет среди изображений CIFAR-10 (x_train или x_test): возьмите его из данных без изменений."
            )
        if label not in real:
            _fail(f"label_{name} = {label}, а у этого изображения в CIFAR-10 метка {sorted(real)}.")
        if label not in classes:
            _fail(f"label_{name} = {label} не из ваших классов {classes}.")
        labels[name] = label
    if labels["a"] == labels["b"]:
        _fail("Изображения A и B одного класса, а нужны разные.")
    return f"изображения классов {labels['a']} и {labels['b']} из CIFAR-10"


def check_morph(ctx: Context) -> str:
    _require_trained_keras(ctx)
    frames = ctx.ex.array("morph_frames")
    if frames.ndim != 4 or frames.shape[1:] != (32, 32, 3):
        _fail(f"morph_frames: форма {frames.shape}, а нужна (k, 32, 32, 3).")
    if len(frames) < 8:
        _fail(f"Кадров {len(frames)}, нужно не меньше 8 (оба конца включены).")
    if not np.all(np.isfinite(frames)):
        _fail("В morph_frames есть nan или inf.")
    if float(np.abs(frames[0].astype(np.float64) - frames[-1]).max()) < 0.05:
        _fail("Первый и последний кадры одинаковы: морфинга нет (декодер не зависит от точки?).")
    expected = ctx.model_array(
        "line_frames", "декодер на точках отрезка между z_mean изображений A и B", "line"
    )
    if expected.shape != frames.shape:
        _fail(f"Декодер на {len(frames)} точках отрезка вернул форму {expected.shape}.")
    off = (
        np.abs(frames.astype(np.float64) - expected).reshape(len(frames), -1).max(axis=1)
        > MORPH_ATOL
    )
    if off.any():
        wrong = [int(i) for i in np.flatnonzero(off)]
        ends = [name for i, name in ((0, "первый"), (len(frames) - 1, "последний")) if off[i]]
        hint = (
            f" (в том числе {' и '.join(ends)})"
            if ends
            else " (концы верны, неверны промежуточные кадры)"
        )
        _fail(
            f"Кадры {wrong}{hint} — не декодированные точки z_A·(1−α) + z_B·α при α = 0 … 1 "
            f"с равным шагом, где z_A и z_B — z_mean изображений image_a и image_b: "
            "декодируйте точки отрезка в скрытом пространстве (не смешивайте пиксели)."
        )
    return f"{len(frames)} кадров — декодированные точки отрезка между z_mean изображений A и B"


def check_figure(ctx: Context) -> str:
    ctx.ex.value("figure_images", "morph_figure", "morph_figure")
    if ctx.ex.report.get("figure_class") != "matplotlib.figure.Figure":
        _fail(
            f"morph_figure должен быть рисунком matplotlib (Figure), а он {ctx.ex.report.get('figure_class')}."
        )
    if int(ctx.ex.report["figure_images"]) < 1:
        _fail("На рисунке morph_figure нет ни одного изображения (ax.imshow).")
    try:
        from PIL import Image

        data = ctx.ex.read("figure.png", 50_000_000)
        if data is None:
            raise OSError("нет файла")
        pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    except OSError as exc:
        _fail(f"Рисунок morph_figure не сохраняется в PNG ({exc}).")
    if pixels.std() == 0:
        _fail("Рисунок morph_figure пуст.")
    return f"рисунок с {ctx.ex.report['figure_images']} изображениями"


#: Баллы проверок — те же, что в метаданных nbgrader ноутбука преподавателя (по ним ставит
#: баллы проверка; тест сверяет): отсюда их берёт самопроверка в ноутбуке студента.
POINTS = {
    "test_classes": 1.0,
    "test_data": 1.0,
    "test_vae": 2.0,
    "test_training": 2.0,
    "test_reconstruction": 2.0,
    "test_pair": 0.5,
    "test_morph": 1.0,
    "test_figure": 0.5,
}

#: Проверки по grade_id ячейки с оценкой в ноутбуке преподавателя: (название, функция).
CHECKS = {
    "test_classes": ("Классы по номеру билета", check_classes),
    "test_data": ("Данные: все изображения этих классов из CIFAR-10", check_data),
    "test_vae": ("Модель — VAE с LATENT_DIM", check_vae),
    "test_training": ("Обучение: не меньше 2 эпох, потери конечны и уменьшились", check_training),
    "test_reconstruction": (
        "Реконструкции тестовых изображений лучше среднего",
        check_reconstruction,
    ),
    "test_pair": ("Два изображения разных классов из данных", check_pair),
    "test_morph": ("Морфинг: кадры — декодированный отрезок между z_mean", check_morph),
    "test_figure": ("Рисунок с кадрами морфинга", check_figure),
}


def verify(
    ctx: Context, points: dict[str, float], why_missing: str = ""
) -> tuple[list[Check], str | None]:
    """Проверяет вынос и ответы чистого процесса; возвращает проверки с баллами и номер,
    который вписал студент.

    ``why_missing`` — чем объяснить отсутствие выноса (например, «ячейка не уложилась в
    предел времени»), если студенту нечего проверить.
    """
    export = ctx.ex
    results = []
    for grade_id, max_points in points.items():
        title, check = CHECKS[grade_id]
        try:
            message = check(ctx)
            got = max_points
        except AssertionError as exc:
            message, got = str(exc), 0.0
        except NoExport as exc:
            message, got = (f"{why_missing}. {exc}" if why_missing else str(exc)), 0.0
        except Exception as exc:  # noqa: BLE001 — странные данные студента — это 0 баллов, не сбой
            message, got = f"Результат не удалось проверить: {type(exc).__name__}: {exc}"[:500], 0.0
        results.append(Check(grade_id, title, got, max_points, message))
    typed = export.report.get("STUDENT_ID")
    return results, (str(typed) if typed is not None else None)
