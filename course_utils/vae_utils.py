"""Арифметика в скрытом пространстве VAE: векторы атрибутов, их добавление, морфинг.

Имена функций — как в лекции (``get_vector_from_label``, ``add_vector_to_images``,
``morph_faces``), логика исправлена: положение изображения — ``z_mean`` (а не
случайная выборка ``z``), батчи без одной из групп пропускаются, вектор всегда
единичной длины, все картинки декодируются ОДНИМ вызовом декодера, у морфинга есть
оба конца (alpha от 0 до 1 включительно).

Годится любая модель с атрибутами ``encoder`` (возвращает ``z_mean, z_log_var, z``) и
``decoder``, например :class:`course_utils.vae.VAE`. Функции возвращают массивы,
которые рисуют (``show=False`` — только вернуть).
"""

from __future__ import annotations

import numpy as np

__all__ = ["encode_mean", "decode", "get_vector_from_label", "add_vector_to_images", "morph",
           "morph_faces"]  # fmt: skip


def _to_numpy(x):
    if isinstance(x, np.ndarray):
        return x
    if type(x).__module__.startswith("tensorflow"):
        return x.numpy()  # батчи tf.data при любом бэкенде: без лишних преобразований
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x))


def encode_mean(vae, images):
    """``z_mean`` для батча изображений (numpy ``(batch, z_dim)``): детерминированное
    положение изображения в скрытом пространстве, без шума выборки."""
    z_mean, _, _ = vae.encoder(np.asarray(images, dtype="float32"), training=False)
    return _to_numpy(z_mean)


def decode(vae, z):
    """Декодирует все точки ``z`` одним вызовом декодера; numpy ``(batch, H, W, C)``."""
    return _to_numpy(vae.decoder(np.asarray(z, dtype="float32"), training=False))


def _split_batch(batch):
    if isinstance(batch, dict):
        raise TypeError("Ожидались батчи (изображения, метки) или изображения, а не словари.")
    if isinstance(batch, (tuple, list)):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


def _first_images(data, n):
    """Первые ``n`` изображений из массива или из набора батчей (numpy)."""
    if hasattr(data, "shape") and len(getattr(data, "shape", ())) == 4:
        images = np.asarray(data)[:n]
    else:
        taken, count = [], 0
        for batch in data:
            images, _ = _split_batch(batch)
            images = _to_numpy(images)
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


def get_vector_from_label(data, vae, embedding_dim, label, tolerance=0.08, max_images=20000,
                          verbose=True, print_every=5):  # fmt: skip
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
        labels = _to_numpy(labels).reshape(-1) > 0
        seen += len(labels)
        if labels.all() or not labels.any():
            skipped += 1
            continue
        z = encode_mean(vae, images).astype("float64")
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
        row = line.format(seen, f"{moves[True]:.3f}", f"{moves[False]:.3f}",
                          f"{distance:.3f}", f"{change:+.3f}")  # fmt: skip
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
        reason = ("средние устоялись" if settled else
                  f"достигнут предел {max_images} изображений" if seen >= max_images else
                  "данные закончились")  # fmt: skip
        print(f"Вектор {label} найден ({reason}): POS {counts[True]}, NEG {counts[False]}, "
              f"пропущено батчей без одной из групп: {skipped}.")  # fmt: skip
    return (vector / norm).astype("float32")


def _show_grid(rows, titles=None, row_labels=None, size=1.4):
    import matplotlib.pyplot as plt

    n_rows, n_cols = rows.shape[:2]
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(n_cols * size, n_rows * size + 0.3),
                             squeeze=False)  # fmt: skip
    for r in range(n_rows):
        for c in range(n_cols):
            ax = axes[r, c]
            image = np.clip(rows[r, c], 0, 1)
            ax.imshow(image.squeeze(-1) if image.shape[-1] == 1 else image,
                      cmap="gray" if image.shape[-1] == 1 else None)  # fmt: skip
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and titles is not None:
                ax.set_title(titles[c], fontsize=9)
        if row_labels is not None:
            axes[r, 0].set_ylabel(row_labels[r], fontsize=9)
    fig.tight_layout()
    plt.show()


def add_vector_to_images(data, vae, feature_vec, n=5, alphas=(-4, -3, -2, -1, 0, 1, 2, 3, 4),
                         show=True):  # fmt: skip
    """Сдвигает ``n`` лиц вдоль вектора атрибута: декодирует ``z_mean + alpha * feature_vec``.

    Возвращает массив ``(n, 1 + len(alphas), H, W, C)``: в каждой строке исходное
    изображение, затем декодированные версии для каждого ``alpha`` (``alpha=0`` —
    обычная реконструкция). Все ``n * len(alphas)`` точек декодируются одним вызовом.
    """
    images = _first_images(data, n)
    alphas = np.asarray(alphas, dtype="float32")
    z = encode_mean(vae, images)
    vec = np.asarray(feature_vec, dtype="float32").reshape(1, 1, -1)
    if vec.shape[-1] != z.shape[1]:
        raise ValueError(f"Длина вектора {vec.shape[-1]}, а скрытое пространство {z.shape[1]}.")
    shifted = z[:, None, :] + alphas[None, :, None] * vec  # (n, len(alphas), z_dim)
    decoded = decode(vae, shifted.reshape(-1, z.shape[1]))
    decoded = decoded.reshape(n, len(alphas), *decoded.shape[1:])
    grid = np.concatenate([images[:, None], decoded], axis=1)
    if show:
        titles = ["исходное"] + [f"α = {a:g}" for a in alphas]
        _show_grid(grid, titles)
    return grid


def morph(vae, image_a, image_b, n_steps=10):
    """Декодирует точки ``z_A * (1 - alpha) + z_B * alpha`` для ``n_steps`` значений alpha
    от 0 до 1 ВКЛЮЧИТЕЛЬНО (``z`` — ``z_mean`` изображений). Одним вызовом декодера.

    Возвращает ``(alphas, decoded)``: ``decoded[0]`` — декодированное ``z_A``,
    ``decoded[-1]`` — декодированное ``z_B``.
    """
    if int(n_steps) < 2:
        raise ValueError(f"n_steps={n_steps}: нужно хотя бы 2 шага (оба конца).")
    z = encode_mean(vae, np.stack([np.asarray(image_a), np.asarray(image_b)]))
    alphas = np.linspace(0.0, 1.0, int(n_steps), dtype="float32")
    points = z[0][None] * (1 - alphas[:, None]) + z[1][None] * alphas[:, None]
    return alphas, decode(vae, points)


def morph_faces(data, vae, n_steps=10, pair=(0, 1), show=True):
    """Плавный переход между двумя лицами из ``data`` (по умолчанию — первыми двумя).

    Возвращает массив ``(n_steps + 2, H, W, C)``: исходное A, ``n_steps`` декодированных
    точек на отрезке от ``z_A`` до ``z_B`` (alpha = 0 ... 1 включительно), исходное B.
    """
    images = _first_images(data, max(pair) + 1)
    a, b = images[pair[0]], images[pair[1]]
    alphas, decoded = morph(vae, a, b, n_steps)
    strip = np.concatenate([a[None], decoded, b[None]])
    if show:
        titles = ["A"] + [f"α = {t:.2f}" for t in alphas] + ["B"]
        _show_grid(strip[None], titles, size=1.2)
    return strip
