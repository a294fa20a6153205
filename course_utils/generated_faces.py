"""Офлайн-замена CelebA: нарисованные «лица» в раскладке настоящего набора.

Лицензия CelebA запрещает распространять его копии, поэтому при ``COURSE_DATA=sample``
курс рисует свои лица (:func:`generate_celeba_sample`): детерминированно по зерну, в той
же раскладке (JPEG 178x218 и ``list_attr_celeba.csv`` из тех же 40 столбцов). На картинке
видны шесть атрибутов — :data:`RENDERED_ATTRIBUTES`:

* ``Smiling`` — широкий открытый рот полумесяцем с зубами (иначе узкая почти прямая линия);
* ``Blond_Hair`` — светлые жёлтые волосы (иначе чёрные, каштановые, рыжие или седые);
* ``Eyeglasses`` — тёмные круглые оправы с перемычкой;
* ``Male`` — короткая стрижка и тень щетины на подбородке (иначе длинные волосы);
* ``Wearing_Hat`` — шляпа с полями и лентой закрывает верх головы;
* ``Pale_Skin`` — заметно более светлая кожа.

Чтобы модели было чему учиться, остальное тоже меняется от лица к лицу: фон (цвет и
градиент), наклон и поворот головы, положение и размер, объём волос, чёлка, цвет глаз и
одежды. Остальные 34 столбца CSV — случайный шум -1/1, на картинку они не влияют.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from course_utils import config
from course_utils.celeba_layout import CELEBA_ATTRIBUTES, CSV_NAME, image_files

__all__ = [
    "FAST_SAMPLE_SIZE",
    "RENDERED_ATTRIBUTES",
    "SAMPLE_SIZE",
    "generate_celeba_sample",
    "is_generated",
]

#: Атрибуты, которые генератор рисует.
RENDERED_ATTRIBUTES = (
    "Smiling",
    "Blond_Hair",
    "Eyeglasses",
    "Male",
    "Wearing_Hat",
    "Pale_Skin",
)

SAMPLE_SIZE = 6000  # изображений в сгенерированном наборе по умолчанию
#: В профиле CI (``COURSE_FAST=1``) ноутбук 03 берёт 512 изображений: рисовать 6000 (около
#: 15 с) незачем, хватает 1000 (около 2 с).
FAST_SAMPLE_SIZE = 1000
SAMPLE_SEED = 2024
_GENERATOR_VERSION = 3
_MANIFEST = "manifest.json"
_W, _H = 178, 218  # размер изображений CelebA (ширина, высота)

_SKIN_LIGHT, _SKIN_DARK = np.array([230, 190, 160.0]), np.array([130, 86, 60.0])
_SKIN_PALE = np.array([248, 231, 220.0])
_BLOND = np.array([[232, 204, 112], [244, 222, 150], [214, 180, 90]], dtype=float)
_OTHER_HAIR = np.array(
    [[24, 20, 20], [64, 42, 28], [110, 72, 44], [150, 70, 36], [140, 136, 132], [44, 34, 30]],
    dtype=float,
)  # чёрные..рыжие, седые
_PROBABILITIES = {
    "Smiling": 0.5,
    "Blond_Hair": 0.3,
    "Eyeglasses": 0.25,
    "Male": 0.45,
    "Wearing_Hat": 0.2,
    "Pale_Skin": 0.25,
}


def _sample_parameters(n, seed):
    """Все случайные величины набора сразу (детерминированно по ``seed``)."""
    rng = np.random.default_rng(seed)
    attrs = np.where(rng.random((n, len(CELEBA_ATTRIBUTES))) < 0.3, 1, -1)
    for name, p in _PROBABILITIES.items():
        attrs[:, CELEBA_ATTRIBUTES.index(name)] = np.where(rng.random(n) < p, 1, -1)
    params = {
        "dx": rng.uniform(-12, 12, n),
        "dy": rng.uniform(-8, 8, n),
        "s": rng.uniform(0.88, 1.1, n),
        "tilt": rng.uniform(-14, 14, n),
        "yaw": rng.uniform(-0.16, 0.16, n),
        "bg_top": rng.uniform(20, 245, (n, 3)),
        "bg_bottom": rng.uniform(20, 245, (n, 3)),
        "skin_t": rng.random(n),
        "pale_t": rng.random(n),
        "blond": _BLOND[rng.integers(0, len(_BLOND), n)] + rng.uniform(-10, 10, (n, 1)),
        "other": _OTHER_HAIR[rng.integers(0, len(_OTHER_HAIR), n)] + rng.uniform(-10, 10, (n, 1)),
        "volume": rng.uniform(0.9, 1.25, n),
        "length": rng.uniform(0.6, 1.35, n),
        "bangs": rng.random(n) < 0.6,
        "hat": rng.uniform(15, 170, (n, 3)),
        "clothes": rng.uniform(20, 230, (n, 3)),
        "smile": rng.uniform(13, 16, n),
        "flat": rng.uniform(-1.5, 1.5, n),
        "iris": rng.uniform(20, 110, n),
    }
    return attrs, params


def _color(rgb, alpha=None):
    rgb = tuple(int(v) for v in np.clip(np.round(rgb), 0, 255))
    return rgb if alpha is None else (*rgb, alpha)


def _background(top, bottom):
    from PIL import Image

    t = np.linspace(0, 1, _H)[:, None, None]
    pixels = top[None, None] * (1 - t) + bottom[None, None] * t
    return Image.fromarray(np.broadcast_to(pixels, (_H, _W, 3)).round().astype("uint8"))


def _draw_face(attr, p, i):
    """Одно лицо 178x218 (PIL). ``attr`` — словарь атрибутов (bool).

    Голова рисуется на прозрачном слое и поворачивается вокруг шеи (наклон), черты лица
    сдвинуты вбок на ``yaw`` (поворот головы); плечи и фон не поворачиваются.
    """
    from PIL import Image, ImageDraw

    cx, cy, s = _W / 2 + p["dx"][i], 118 + p["dy"][i], p["s"][i]
    a, b = 46 * s, 60 * s  # полуоси овала лица
    if attr["Pale_Skin"]:
        skin = _SKIN_PALE - 10 * p["pale_t"][i]
    else:
        skin = _SKIN_LIGHT + (_SKIN_DARK - _SKIN_LIGHT) * p["skin_t"][i]
    hair = p["blond"][i] if attr["Blond_Hair"] else p["other"][i]
    img = _background(p["bg_top"][i], p["bg_bottom"][i])
    ImageDraw.Draw(img).ellipse([cx - 88, _H - 28, cx + 88, _H + 88], fill=_color(p["clothes"][i]))

    head = Image.new("RGBA", (_W, _H), (0, 0, 0, 0))
    d = ImageDraw.Draw(head)

    def ellipse(x, y, rx, ry, fill, **kw):
        d.ellipse([x - rx, y - ry, x + rx, y + ry], fill=fill, **kw)

    # шея, волосы за головой
    d.rectangle([cx - 21 * s, cy + 0.5 * b, cx + 21 * s, _H], fill=_color(skin * 0.9, 255))
    vol, length = p["volume"][i], p["length"][i]
    if attr["Male"]:
        ellipse(cx, cy - 0.12 * b, 1.06 * a * min(vol, 1.1), 1.04 * b, _color(hair, 255))
    else:
        ellipse(cx, cy - 0.15 * b, 1.15 * a * vol, 1.12 * b, _color(hair, 255))
        bottom = cy + (0.35 + 0.9 * length) * b
        for side in (-1, 1):
            x0, x1 = sorted((cx + side * 0.78 * a, cx + side * 1.15 * a * vol))
            d.rounded_rectangle([x0, cy - 0.2 * b, x1, bottom], radius=10, fill=_color(hair, 255))
    # лицо; у мужчин — тень щетины на нижней части
    box = [cx - a, cy - b, cx + a, cy + b]
    d.ellipse(box, fill=_color(skin, 255))
    if attr["Male"]:
        d.chord(box, 25, 155, fill=_color(skin * 0.75 + np.array([0, 12, 34]), 255))
    # чёлка (или только линия волос)
    bang_low = -0.3 if p["bangs"][i] else -0.62
    d.chord(
        [cx - 1.02 * a, cy - 1.08 * b, cx + 1.02 * a, cy + bang_low * b],
        180,
        360,
        fill=_color(hair, 255),
    )
    # черты лица сдвинуты вбок: голова повёрнута
    fx = cx + p["yaw"][i] * a
    ey = cy - 0.18 * b
    brow = _color(hair * 0.7, 255)
    for side in (-1, 1):
        ex = fx + side * 0.38 * a
        ellipse(ex, ey, 7 * s, 4.5 * s, (245, 245, 245, 255))
        ellipse(ex, ey, 3.6 * s, 3.6 * s, _color((40, p["iris"][i], p["iris"][i] + 10), 255))
        d.line([ex - 8 * s, ey - 10 * s, ex + 8 * s, ey - 11 * s], fill=brow, width=3)
    d.line([fx, ey + 6 * s, fx + 3 * s, cy + 0.2 * b], fill=_color(skin * 0.8, 255), width=3)
    # рот: улыбка — широкий открытый рот полумесяцем с зубами, иначе узкая почти прямая линия
    my = cy + 0.42 * b
    if attr["Smiling"]:
        half, depth = 0.52 * a, p["smile"][i] * s
        d.chord([fx - half, my - depth, fx + half, my + depth], 0, 180, fill=(150, 30, 45, 255))
        d.chord(
            [fx - 0.8 * half, my - 0.3 * depth, fx + 0.8 * half, my + 0.3 * depth],
            0,
            180,
            fill=(246, 242, 236, 255),
        )
    else:
        half, u = 0.3 * a, np.linspace(-1, 1, 15)
        ys = my + 2 + p["flat"][i] * (1 - 2 * u**2)
        d.line(list(zip(fx + half * u, ys)), fill=(150, 30, 45, 255), width=4, joint="curve")
    # очки: тёмные круглые оправы с перемычкой и дужками
    if attr["Eyeglasses"]:
        frame, r = (24, 24, 30, 255), 11 * s
        for side in (-1, 1):
            ex = fx + side * 0.38 * a
            d.ellipse([ex - r, ey - r, ex + r, ey + r], outline=frame, width=5)
            d.line([ex + side * r, ey, cx + side * 0.98 * a, ey - 3], fill=frame, width=4)
        d.line([fx - 0.38 * a + r, ey, fx + 0.38 * a - r, ey], fill=frame, width=5)
    # шляпа: тулья, поля и светлая лента
    if attr["Wearing_Hat"]:
        hat = p["hat"][i]
        brim_y = cy - 0.75 * b
        d.rectangle([cx - 1.0 * a, brim_y - 70 * s, cx + 1.0 * a, brim_y], fill=_color(hat, 255))
        d.rectangle(
            [cx - 1.0 * a, brim_y - 14 * s, cx + 1.0 * a, brim_y - 6 * s],
            fill=_color(hat * 0.4 + 140, 255),
        )
        ellipse(cx, brim_y, 1.45 * a, 9 * s, _color(hat, 255))
    head = head.rotate(p["tilt"][i], resample=Image.BICUBIC, center=(cx, cy + b))
    img.paste(head, (0, 0), head)
    return img


def _manifest(n, seed):
    return {
        "generator_version": _GENERATOR_VERSION,
        "seed": int(seed),
        "count": int(n),
        "size": [_W, _H],
        "rendered_attributes": list(RENDERED_ATTRIBUTES),
    }


def is_generated(folder) -> bool:
    """Истина, если в папке — сгенерированная замена CelebA, а не настоящий набор."""
    return (Path(folder) / _MANIFEST).is_file()


def _is_complete(folder: Path, manifest) -> bool:
    try:
        saved = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    images = folder / "img_align_celeba" / "img_align_celeba"
    return (
        saved == manifest
        and (folder / CSV_NAME).is_file()
        and images.is_dir()
        and len(image_files(images)) == manifest["count"]
    )


def generate_celeba_sample(n_images=SAMPLE_SIZE, seed=SAMPLE_SEED, cache=None, verbose=True):
    """Рисует офлайн-замену CelebA и возвращает её папку (аналог ``celeba-dataset``).

    ``n_images`` JPEG-файлов 178x218 (``000001.jpg``...) и ``list_attr_celeba.csv`` с 40
    столбцами CelebA (-1/1) появляются в ``<cache>/celeba-sample/v<версия>-seed<seed>-n<n>/``
    (``cache`` по умолчанию — ``config.cache_dir()``). Видимы атрибуты
    :data:`RENDERED_ATTRIBUTES` (см. описание модуля), остальные столбцы — случайный шум.

    Одинаковые ``seed`` и ``n_images`` дают побайтно одинаковые файлы. Готовый полный
    набор (проверяется по ``manifest.json`` и числу файлов) используется повторно. Набор
    пишется во временную папку и переименовывается целиком, поэтому прерванный запуск не
    оставляет половины набора; чужие файлы функция не трогает и не удаляет.
    """
    import pandas as pd

    if int(n_images) < 1:
        raise ValueError(f"n_images={n_images}: нужно хотя бы одно изображение.")
    n_images = int(n_images)
    base = Path(cache if cache is not None else config.cache_dir()) / "celeba-sample"
    target = base / f"v{_GENERATOR_VERSION}-seed{seed}-n{n_images}"
    manifest = _manifest(n_images, seed)
    if _is_complete(target, manifest):
        return target
    if target.exists():
        raise FileExistsError(
            f"Папка {target} существует, но не похожа на полный сгенерированный набор "
            "(нет manifest.json или не хватает файлов). Удалите или переименуйте её сами "
            "и запустите снова — курс не удаляет файлы, которые создал не он."
        )
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=base))
    try:
        images_dir = tmp / "img_align_celeba" / "img_align_celeba"
        images_dir.mkdir(parents=True)
        attrs, params = _sample_parameters(n_images, seed)
        names = [f"{k + 1:06d}.jpg" for k in range(n_images)]
        index = {name: CELEBA_ATTRIBUTES.index(name) for name in RENDERED_ATTRIBUTES}
        progress = None
        if verbose:
            import keras

            print(f"Рисую {n_images} лиц (замена CelebA, seed={seed}) в {target}")
            progress = keras.utils.Progbar(n_images, unit_name="image")
        for k, name in enumerate(names):
            attr = {a: attrs[k, j] > 0 for a, j in index.items()}
            _draw_face(attr, params, k).save(images_dir / name, quality=92)
            if progress is not None and ((k + 1) % 200 == 0 or k + 1 == n_images):
                progress.update(k + 1)
        table = pd.DataFrame(attrs, columns=list(CELEBA_ATTRIBUTES))
        table.insert(0, "image_id", names)
        table.to_csv(tmp / CSV_NAME, index=False)
        (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        try:
            tmp.rename(target)
        except OSError:
            # Другой процесс успел положить готовый набор: берём его, свой черновик убираем.
            if not _is_complete(target, manifest):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # только наша временная папка
        raise
    return target
