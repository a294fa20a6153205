"""Арифметика в скрытом пространстве VAE: векторы атрибутов, их добавление, морфинг.

Имена функций — как в лекции (``get_vector_from_label``, ``add_vector_to_images``,
``morph_faces``), логика исправлена: положение изображения — ``z_mean`` (а не
случайная выборка ``z``), батчи без одной из групп пропускаются, вектор всегда
единичной длины, все картинки декодируются ОДНИМ вызовом декодера, у морфинга есть
оба конца (alpha от 0 до 1 включительно).

Годится любая модель с атрибутами ``encoder`` (возвращает ``z_mean, z_log_var, z``) и
``decoder``, например :class:`course_utils.vae.VAE`; там, где нужен только декодер, можно
передать и сам декодер. Порядок аргументов везде один, как в лекции: сначала данные,
потом модель — ``morph_faces(data, vae)``, ``morph(image_a, image_b, vae)``,
``decode(z, vae)``. Функции возвращают массивы, которые рисуют (``show=False`` — только
вернуть).
"""

from __future__ import annotations

import numpy as np

from course_utils.images import show_grid, to_numpy

__all__ = [
    "encode_mean",
    "decode",
    "line_points",
    "decode_line",
    "get_vector_from_label",
    "add_vector_to_images",
    "morph",
    "morph_faces",
]


def _model_part(model, part, function):
    """``model.encoder`` / ``model.decoder`` (или сама модель, если это декодер)."""
    if hasattr(model, part):
        return getattr(model, part)
    if part == "decoder" and callable(model):
        return model
    raise TypeError(
        f"{function}: последним аргументом ожидалась модель VAE с атрибутом {part}, получено "
        f"{type(model).__name__}. Порядок аргументов: сначала данные, потом модель, "
        f"например {function}(..., vae)."
    )


def _check_data(data, function):
    """Понятная ошибка, если модель передана первой (прежний порядок аргументов)."""
    if hasattr(data, "decoder") or hasattr(data, "encoder"):
        raise TypeError(
            f"{function}: первым аргументом передана модель. Порядок аргументов в курсе — "
            f"сначала данные, потом модель: {function}(данные, ..., vae)."
        )


def encode_mean(images, vae):
    """``z_mean`` для батча изображений (numpy ``(batch, z_dim)``): детерминированное
    положение изображения в скрытом пространстве, без шума выборки."""
    _check_data(images, "encode_mean")
    encoder = _model_part(vae, "encoder", "encode_mean")
    z_mean, _, _ = encoder(np.asarray(images, dtype="float32"), training=False)
    return to_numpy(z_mean)


def decode(z, vae):
    """Декодирует все точки ``z`` одним вызовом декодера; numpy ``(batch, H, W, C)``.

    ``vae`` — модель с атрибутом ``decoder`` или сам декодер.
    """
    _check_data(z, "decode")
    decoder = _model_part(vae, "decoder", "decode")
    return to_numpy(decoder(np.asarray(z, dtype="float32"), training=False))


def line_points(start, end, n=10):
    """``n`` точек ``(1 - alpha) * start + alpha * end`` для alpha от 0 до 1 ВКЛЮЧИТЕЛЬНО,
    массив ``(n, z_dim)``. Единственная интерполяция курса: ею пользуются
    :func:`decode_line` (а через неё :func:`morph` и исследователь) и проверка упражнения
    о морфинге."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 2:
        raise ValueError(
            f"Точек на отрезке n должно быть целое число >= 2 (оба конца), получено {n!r}."
        )
    start, end = np.asarray(start, dtype="float32"), np.asarray(end, dtype="float32")
    alphas = np.linspace(0.0, 1.0, int(n), dtype="float32")[:, None]
    return (1.0 - alphas) * start + alphas * end


def decode_line(start, end, vae, n=10):
    """Точки отрезка скрытого пространства от ``start`` до ``end`` (:func:`line_points`) и
    их декодирование одним вызовом. Возвращает ``(points, images)``."""
    points = line_points(start, end, n)
    return points, decode(points, vae)


def _split_batch(batch):
    if isinstance(batch, dict):
        raise TypeError("Ожидались батчи (изображения, метки) или изображения, а не словари.")
    if isinstance(batch, (tuple, list)):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


def _first_images(data, n):
    """Первые ``n`` изображений из массива или из набора батчей (numpy)."""
    _check_data(data, "morph_faces / add_vector_to_images")
    if hasattr(data, "shape") and len(getattr(data, "shape", ())) == 4:
        images = np.asarray(data)[:n]
    else:
        taken, count = [], 0
        for batch in data:
            images, _ = _split_batch(batch)
            images = to_numpy(images)
            taken.append(images)
            count += len(images)
            if count >= n:
                break
        if not taken:
            raise ValueError("Набор данных пуст: изображений для показа нет.")
        images = np.concatenate(taken)[:n]
    if len(images) < n:
        raise ValueError(f"Нужно {n} изображений, а в данных только {len(images)}.")
    return images.astype("float32")


def get_vector_from_label(
    data, vae, embedding_dim, label, tolerance=0.08, max_images=20000, verbose=True, print_every=5
):
    """Вектор атрибута: среднее ``z_mean`` изображений с атрибутом минус среднее без него.

    ``data`` — батчи ``(изображения, метки)``; атрибут есть, если метка > 0 (подходят и
    метки 0/1 из :func:`course_utils.celeba.load_celeba_labelled`, и -1/1 из CSV CelebA).
    Средние копятся батч за батчем; батч, где нет одной из групп, пропускается.
    Остановка — когда оба средних почти перестали двигаться (сумма сдвигов за батч
    меньше ``tolerance``), набрано ``max_images`` изображений или данные кончились.

    Таблица хода (``verbose=True``; строка на каждый ``print_every``-й батч и последний):
    изображений учтено, сдвиг среднего POS и NEG за батч, расстояние между средними и
    его изменение. Возвращает вектор ЕДИНИЧНОЙ длины (numpy ``(embedding_dim,)``).
    """
    _check_data(data, "get_vector_from_label")
    sums = {True: np.zeros(embedding_dim, "float64"), False: np.zeros(embedding_dim, "float64")}
    counts = {True: 0, False: 0}
    means = {True: None, False: None}
    distance, seen, skipped, rows = 0.0, 0, 0, 0
    settled = False
    line = "{:>8} {:>9} {:>9} {:>9} {:>11}"
    if verbose:
        print(f"Атрибут: {label}")
        print(line.format("images", "POS move", "NEG move", "distance", "Δ distance"))
    last_row = None
    for batch in data:
        images, labels = _split_batch(batch)
        if labels is None:
            raise ValueError(
                "get_vector_from_label нужны пары (изображения, метки): загрузите данные "
                "с метками, например load_celeba_labelled(label)."
            )
        labels = to_numpy(labels).reshape(-1) > 0
        seen += len(labels)
        if labels.all() or not labels.any():
            skipped += 1
            continue
        z = encode_mean(images, vae).astype("float64")
        if z.shape[1] != embedding_dim:
            raise ValueError(
                f"embedding_dim={embedding_dim}, а кодировщик выдаёт {z.shape[1]} измерений."
            )
        moves = {}
        for group in (True, False):
            sums[group] += z[labels == group].sum(axis=0)
            counts[group] += int((labels == group).sum())
            new_mean = sums[group] / counts[group]
            old = means[group]
            moves[group] = float(np.linalg.norm(new_mean - (0 if old is None else old)))
            means[group] = new_mean
        new_distance = float(np.linalg.norm(means[True] - means[False]))
        change, distance = new_distance - distance, new_distance
        rows += 1
        first = rows == 1
        settled = not first and moves[True] + moves[False] < tolerance
        row = line.format(
            seen, f"{moves[True]:.3f}", f"{moves[False]:.3f}", f"{distance:.3f}", f"{change:+.3f}"
        )
        if verbose and (first or rows % print_every == 0):
            print(row)
            last_row = None
        else:
            last_row = row
        if settled or seen >= max_images:
            break
    if counts[True] == 0 or counts[False] == 0:
        which = "с атрибутом" if counts[True] == 0 else "без атрибута"
        raise ValueError(
            f"В данных не нашлось ни одного батча, где есть и изображения {which} "
            f"{label!r}, и остальные (просмотрено {seen} изображений, батчей пропущено: "
            f"{skipped}). Проверьте метки (атрибут — метка > 0) или возьмите больше данных "
            "и батчи побольше."
        )
    vector = means[True] - means[False]
    norm = np.linalg.norm(vector)
    if not norm > 0:
        raise ValueError(f"Средние с атрибутом {label!r} и без него совпали: вектора нет.")
    if verbose:
        if last_row is not None:
            print(last_row)
        reason = (
            "средние устоялись"
            if settled
            else f"достигнут предел {max_images} изображений"
            if seen >= max_images
            else "данные закончились"
        )
        print(
            f"Вектор {label} найден ({reason}): POS {counts[True]}, NEG {counts[False]}, "
            f"пропущено батчей без одной из групп: {skipped}."
        )
    return (vector / norm).astype("float32")


def add_vector_to_images(
    data, vae, feature_vec, n=5, alphas=(-4, -3, -2, -1, 0, 1, 2, 3, 4), show=True
):
    """Сдвигает ``n`` лиц вдоль вектора атрибута: декодирует ``z_mean + alpha * feature_vec``.

    Возвращает массив ``(n, 1 + len(alphas), H, W, C)``: в каждой строке исходное
    изображение, затем декодированные версии для каждого ``alpha`` (``alpha=0`` —
    обычная реконструкция). Все ``n * len(alphas)`` точек декодируются одним вызовом.
    """
    images = _first_images(data, n)
    alphas = np.asarray(alphas, dtype="float32")
    z = encode_mean(images, vae)
    vec = np.asarray(feature_vec, dtype="float32").reshape(1, 1, -1)
    if vec.shape[-1] != z.shape[1]:
        raise ValueError(f"Длина вектора {vec.shape[-1]}, а скрытое пространство {z.shape[1]}.")
    shifted = z[:, None, :] + alphas[None, :, None] * vec  # (n, len(alphas), z_dim)
    decoded = decode(shifted.reshape(-1, z.shape[1]), vae)
    decoded = decoded.reshape(n, len(alphas), *decoded.shape[1:])
    grid = np.concatenate([images[:, None], decoded], axis=1)
    if show:
        titles = ["исходное"] + [f"α = {a:g}" for a in alphas]
        show_grid(grid, titles)
    return grid


def morph(image_a, image_b, vae, n_steps=10):
    """Декодирует точки ``z_A * (1 - alpha) + z_B * alpha`` для ``n_steps`` значений alpha
    от 0 до 1 ВКЛЮЧИТЕЛЬНО (``z`` — ``z_mean`` изображений). Одним вызовом декодера.

    Возвращает ``(alphas, decoded)``: ``decoded[0]`` — декодированное ``z_A``,
    ``decoded[-1]`` — декодированное ``z_B``.
    """
    if int(n_steps) < 2:
        raise ValueError(f"n_steps={n_steps}: нужно хотя бы 2 шага (оба конца).")
    _check_data(image_a, "morph")
    z_a, z_b = encode_mean(np.stack([np.asarray(image_a), np.asarray(image_b)]), vae)
    _, decoded = decode_line(z_a, z_b, vae, int(n_steps))
    alphas = np.linspace(0.0, 1.0, int(n_steps), dtype="float32")
    return alphas, decoded


def morph_faces(data, vae, n_steps=10, pair=(0, 1), show=True):
    """Плавный переход между двумя лицами из ``data`` (по умолчанию — первыми двумя).

    Возвращает массив ``(n_steps + 2, H, W, C)``: исходное A, ``n_steps`` декодированных
    точек на отрезке от ``z_A`` до ``z_B`` (alpha = 0 ... 1 включительно), исходное B.
    """
    images = _first_images(data, max(pair) + 1)
    a, b = images[pair[0]], images[pair[1]]
    alphas, decoded = morph(a, b, vae, n_steps)
    strip = np.concatenate([a[None], decoded, b[None]])
    if show:
        titles = ["A"] + [f"α = {t:.2f}" for t in alphas] + ["B"]
        show_grid(strip[None], titles, cell_size=1.2)
    return strip
