"""Набор лиц CelebA: загрузка с диска и офлайн-замена с той же раскладкой.

Настоящий CelebA (Kaggle, ``jessicali9530/celeba-dataset``) распаковывается так::

    celeba-dataset/
        img_align_celeba/img_align_celeba/000001.jpg ...   (178x218, JPEG)
        list_attr_celeba.csv                               (image_id + 40 столбцов -1/1)

:func:`load_celeba` и :func:`load_celeba_labelled` читают эту раскладку через
``keras.utils.image_dataset_from_directory`` (изображения подгружаются с диска батчами,
весь набор в память не попадает).

Лицензия CelebA запрещает распространять его копии, поэтому при ``COURSE_DATA=sample``
курс рисует свои «лица» (:func:`generate_celeba_sample`): детерминированно по зерну,
в той же раскладке, с CSV из тех же 40 столбцов. Видимы и измеримы
(:func:`attribute_score`) шесть атрибутов — :data:`RENDERED_ATTRIBUTES`:

* ``Smiling`` — широкий открытый рот полумесяцем с зубами (иначе узкая почти прямая линия);
* ``Blond_Hair`` — светлые жёлтые волосы (иначе тёмно-каштановые или чёрные);
* ``Eyeglasses`` — тёмные круглые оправы с перемычкой;
* ``Male`` — короткая стрижка и тень щетины на подбородке (иначе длинные волосы);
* ``Wearing_Hat`` — тёмная шляпа с лентой закрывает верх головы;
* ``Pale_Skin`` — заметно более светлая кожа.

Остальные 34 столбца в сгенерированном наборе — случайный шум -1/1, на картинку
они не влияют.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from course_utils import config

__all__ = [
    "CELEBA_ATTRIBUTES",
    "RENDERED_ATTRIBUTES",
    "celeba_dir",
    "celeba_image_dir",
    "read_attributes",
    "load_celeba",
    "load_celeba_labelled",
    "generate_celeba_sample",
    "attribute_score",
]

#: 40 атрибутов CelebA в порядке столбцов ``list_attr_celeba.csv``.
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald",
    "Bangs", "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair",
    "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose",
    "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair",
    "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick",
    "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # fmt: skip

#: Атрибуты, которые генератор рисует (и :func:`attribute_score` измеряет).
RENDERED_ATTRIBUTES = (
    "Smiling", "Blond_Hair", "Eyeglasses", "Male", "Wearing_Hat", "Pale_Skin",
)  # fmt: skip

CSV_NAME = "list_attr_celeba.csv"
KAGGLE_DATASET = "jessicali9530/celeba-dataset"
SAMPLE_SIZE = 4000  # изображений в сгенерированном наборе по умолчанию
SAMPLE_SEED = 2024
_GENERATOR_VERSION = 2
_MANIFEST = "manifest.json"
_W, _H = 178, 218  # размер изображений CelebA (ширина, высота)
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


# --- Где лежат данные --------------------------------------------------------------


def _how_to_get_data() -> str:
    return (
        "Как получить CelebA: через Kaggle CLI "
        f"`kaggle datasets download -d {KAGGLE_DATASET}` и `unzip celeba-dataset.zip "
        "-d celeba-dataset`, или вручную со страницы "
        f"https://www.kaggle.com/datasets/{KAGGLE_DATASET} (архив ~1,3 ГБ). "
        "Распакуйте так, чтобы получилось celeba-dataset/img_align_celeba/img_align_celeba/*.jpg "
        "и celeba-dataset/list_attr_celeba.csv, и укажите папку: аргументом data_dir, "
        "переменной CELEBA_DIR или COURSE_DATA=<папка, в которой лежит celeba-dataset>. "
        "Без настоящих данных задайте COURSE_DATA=sample: курс сам нарисует похожий "
        "набор лиц с той же раскладкой."
    )


def celeba_dir(data_dir=None) -> Path:
    """Папка набора (та, в которой лежат ``img_align_celeba/`` и ``list_attr_celeba.csv``).

    Порядок поиска: аргумент ``data_dir``; переменная ``CELEBA_DIR``;
    ``<COURSE_DATA>/celeba-dataset``, если ``COURSE_DATA`` — папка; при
    ``COURSE_DATA=sample`` — сгенерированный набор в кэше курса (создаётся при первом
    вызове). Иначе — ``FileNotFoundError`` с инструкцией, как получить данные.
    """
    if data_dir is None:
        data_dir = os.environ.get("CELEBA_DIR") or None
    if data_dir is None:
        local = config.local_datasets_dir()
        if local is not None:
            data_dir = local / "celeba-dataset"
        elif config.use_sample_data():
            return generate_celeba_sample()
        else:
            raise FileNotFoundError(
                "Папка с CelebA не указана, а скачать набор автоматически нельзя "
                "(он лежит на Kaggle и требует входа). " + _how_to_get_data()
            )
    path = Path(data_dir).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"Папки с CelebA нет: {path}. " + _how_to_get_data())
    return path


def celeba_image_dir(data_dir=None) -> Path:
    """Папка с самими JPEG-файлами (в архиве с Kaggle она вложена дважды)."""
    root = celeba_dir(data_dir)
    for candidate in (root / "img_align_celeba" / "img_align_celeba", root / "img_align_celeba"):
        if candidate.is_dir() and any(
            f.name.lower().endswith(_IMAGE_EXTENSIONS) for f in os.scandir(candidate)
        ):
            return candidate
    raise FileNotFoundError(
        f"В {root} нет изображений: ожидалась папка img_align_celeba/img_align_celeba "
        "с файлами 000001.jpg и далее. " + _how_to_get_data()
    )


def _image_files(image_dir: Path) -> list[str]:
    """Пути файлов относительно ``image_dir`` в том порядке, в каком их перечисляет
    ``image_dataset_from_directory`` (``os.walk``, папки и имена по алфавиту)."""
    names = []
    for root, _, files in sorted(os.walk(image_dir), key=lambda item: item[0]):
        for name in sorted(files):
            if name.lower().endswith(_IMAGE_EXTENSIONS):
                names.append(os.path.relpath(os.path.join(root, name), image_dir))
    return names


def read_attributes(data_dir=None):
    """Таблица атрибутов (``pandas.DataFrame``) в порядке файлов на диске.

    Строки переставлены так, как ``image_dataset_from_directory`` перечисляет файлы,
    и проверено, что каждому изображению соответствует ровно одна строка.
    """
    import pandas as pd

    root = celeba_dir(data_dir)
    csv_path = root / CSV_NAME
    if not csv_path.is_file():
        raise FileNotFoundError(f"Нет файла атрибутов {csv_path}. " + _how_to_get_data())
    attributes = pd.read_csv(csv_path)
    if "image_id" not in attributes.columns:
        raise ValueError(
            f"{csv_path}: нет столбца image_id — это не list_attr_celeba.csv из CelebA. "
            + _how_to_get_data()
        )
    files = _image_files(celeba_image_dir(root))
    ids = attributes["image_id"].astype(str)
    file_set, id_set = set(files), set(ids)
    if len(ids) != len(id_set) or file_set != id_set:
        missing = sorted(file_set - id_set)[:3]
        extra = sorted(id_set - file_set)[:3]
        raise ValueError(
            f"Строки {csv_path.name} не совпадают с изображениями: файлов {len(files)}, "
            f"строк {len(ids)} (уникальных {len(id_set)}); изображения без строки: "
            f"{missing or 'нет'}; строки без изображения: {extra or 'нет'}. "
            "Скорее всего, архив распакован не полностью или CSV от другой версии набора. "
            + _how_to_get_data()
        )
    return attributes.set_index("image_id").loc[files].reset_index()


def _check_label(label, columns) -> None:
    if label in columns:
        return
    close = difflib.get_close_matches(str(label), list(columns), n=3, cutoff=0.4)
    hint = f" Возможно, вы имели в виду: {', '.join(close)}." if close else ""
    raise KeyError(
        f"Атрибута {label!r} нет в list_attr_celeba.csv.{hint} "
        f"Все атрибуты: {', '.join(columns)}."
    )


# --- Загрузка ------------------------------------------------------------------------


def _to_unit_float(images):
    # image_dataset_from_directory всегда отдаёт tf.data (при любом бэкенде Keras),
    # поэтому внутри map — операции TensorFlow, а не keras.ops
    import tensorflow as tf

    return tf.cast(images, tf.float32) / 255.0


def _image_dataset(image_dir, labels, image_size, batch_size, shuffle, seed,
                   validation_split, subset):  # fmt: skip
    import keras

    if validation_split and subset is None:
        subset = "both"
    return keras.utils.image_dataset_from_directory(
        str(image_dir),
        labels=labels,
        label_mode=None if labels is None else "int",
        color_mode="rgb",
        image_size=(image_size, image_size),
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        validation_split=validation_split or None,
        subset=subset if validation_split else None,
        interpolation="bilinear",
    )


def load_celeba(data_dir=None, image_size=64, batch_size=128, shuffle=True, seed=42,
                validation_split=None, subset=None):  # fmt: skip
    """Изображения CelebA как ``tf.data.Dataset`` батчей ``(batch, size, size, 3)``, float32 0..1.

    Файлы читаются с диска по мере надобности и уменьшаются до ``image_size`` билинейной
    интерполяцией (как в лекции). ``validation_split=0.2`` с ``subset="training"`` или
    ``"validation"`` возвращает одну часть, без ``subset`` — пару ``(train, validation)``.
    Папку ищет :func:`celeba_dir`.
    """
    image_dir = celeba_image_dir(data_dir)
    data = _image_dataset(image_dir, None, image_size, batch_size, shuffle, seed,
                          validation_split, subset)  # fmt: skip
    if isinstance(data, list):
        return tuple(part.map(_to_unit_float) for part in data)
    return data.map(_to_unit_float)


def load_celeba_labelled(label, data_dir=None, image_size=64, batch_size=128, shuffle=True,
                         seed=42, validation_split=None, subset=None):  # fmt: skip
    """Пары ``(изображения, метки)``: метка 1, если у лица есть атрибут ``label``, иначе 0.

    В CSV CelebA значения -1/1; здесь они переведены в 0/1 (int32). Порядок строк CSV
    сверяется с порядком файлов, который использует ``image_dataset_from_directory``,
    поэтому метки точно относятся к своим изображениям. Остальные аргументы — как у
    :func:`load_celeba`. Неизвестное имя атрибута — ``KeyError`` с похожими именами.
    """
    attributes = read_attributes(data_dir)
    _check_label(label, [c for c in attributes.columns if c != "image_id"])
    values = attributes[label].to_numpy()
    if not np.isin(values, (-1, 1)).all():
        raise ValueError(f"Столбец {label!r} должен содержать только -1 и 1.")
    labels = (values > 0).astype("int32").tolist()
    image_dir = celeba_image_dir(data_dir)
    data = _image_dataset(image_dir, labels, image_size, batch_size, shuffle, seed,
                          validation_split, subset)  # fmt: skip
    prepare = lambda x, y: (_to_unit_float(x), y)  # noqa: E731
    if isinstance(data, list):
        return tuple(part.map(prepare) for part in data)
    return data.map(prepare)


# --- Генератор офлайн-замены ----------------------------------------------------------

_BACKGROUNDS = np.array(
    [[200, 202, 208], [182, 200, 230], [212, 198, 232], [186, 214, 222], [232, 204, 214],
     [220, 220, 226]], dtype=float,
)  # fmt: skip  # светлые, синего не меньше зелёного: не «жёлтые», как светлые волосы
_SKIN_LIGHT, _SKIN_DARK = np.array([226, 186, 156.0]), np.array([168, 118, 88.0])
_SKIN_PALE = np.array([247, 229, 216.0])
_BLOND = np.array([[228, 198, 108], [240, 214, 128], [210, 176, 92]], dtype=float)
_DARK_HAIR = np.array([[78, 54, 36], [36, 30, 30], [112, 76, 50], [58, 40, 32]], dtype=float)
_HATS = np.array([[30, 40, 112], [82, 30, 102], [30, 30, 36], [112, 22, 32], [22, 68, 92]],
                 dtype=float)  # fmt: skip
_CLOTHES = np.array([[60, 80, 140], [150, 40, 50], [90, 90, 100], [40, 40, 50], [120, 130, 170]],
                    dtype=float)  # fmt: skip
_PROBABILITIES = {"Smiling": 0.5, "Blond_Hair": 0.3, "Eyeglasses": 0.25, "Male": 0.45,
                  "Wearing_Hat": 0.2, "Pale_Skin": 0.25}  # fmt: skip


def _sample_parameters(n, seed):
    """Все случайные величины набора сразу (детерминированно по ``seed``)."""
    rng = np.random.default_rng(seed)
    attrs = np.where(rng.random((n, len(CELEBA_ATTRIBUTES))) < 0.3, 1, -1)
    for name, p in _PROBABILITIES.items():
        attrs[:, CELEBA_ATTRIBUTES.index(name)] = np.where(rng.random(n) < p, 1, -1)
    params = {
        "dx": rng.uniform(-6, 6, n), "dy": rng.uniform(-4, 4, n), "s": rng.uniform(0.94, 1.06, n),
        "bg": _BACKGROUNDS[rng.integers(0, len(_BACKGROUNDS), n)] + rng.uniform(-12, 12, (n, 1)),
        "skin_t": rng.random(n), "pale_t": rng.random(n),
        "blond": _BLOND[rng.integers(0, len(_BLOND), n)] + rng.uniform(-10, 10, (n, 1)),
        "dark": _DARK_HAIR[rng.integers(0, len(_DARK_HAIR), n)] + rng.uniform(-8, 8, (n, 1)),
        "hat": _HATS[rng.integers(0, len(_HATS), n)],
        "clothes": _CLOTHES[rng.integers(0, len(_CLOTHES), n)],
        "smile": rng.uniform(13, 16, n), "flat": rng.uniform(-1.5, 1.5, n),
        "iris": rng.uniform(20, 70, n),
    }  # fmt: skip
    return attrs, params


def _color(rgb):
    return tuple(int(v) for v in np.clip(np.round(rgb), 0, 255))


def _draw_face(attr, p, i):
    """Одно лицо 178x218 (PIL). ``attr`` — словарь атрибутов (bool)."""
    from PIL import Image, ImageDraw

    cx, cy, s = _W / 2 + p["dx"][i], 118 + p["dy"][i], p["s"][i]
    a, b = 46 * s, 60 * s  # полуоси овала лица
    if attr["Pale_Skin"]:
        skin = _SKIN_PALE - 8 * p["pale_t"][i]
    else:
        skin = _SKIN_LIGHT + (_SKIN_DARK - _SKIN_LIGHT) * p["skin_t"][i]
    hair = p["blond"][i] if attr["Blond_Hair"] else p["dark"][i]
    img = Image.new("RGB", (_W, _H), _color(p["bg"][i]))
    d = ImageDraw.Draw(img)

    def ellipse(x, y, rx, ry, fill, **kw):
        d.ellipse([x - rx, y - ry, x + rx, y + ry], fill=fill, **kw)

    # плечи, шея, волосы за головой
    ellipse(cx, _H + 30, 88, 58, _color(p["clothes"][i]))
    d.rectangle([cx - 21 * s, cy + 0.5 * b, cx + 21 * s, _H], fill=_color(skin * 0.9))
    if attr["Male"]:
        ellipse(cx, cy - 0.12 * b, 1.1 * a, 1.05 * b, _color(hair))
    else:
        ellipse(cx, cy - 0.15 * b, 1.22 * a, 1.12 * b, _color(hair))
        d.rounded_rectangle([cx - 1.22 * a, cy - 0.2 * b, cx - 0.78 * a, cy + 1.25 * b],
                            radius=10, fill=_color(hair))  # fmt: skip
        d.rounded_rectangle([cx + 0.78 * a, cy - 0.2 * b, cx + 1.22 * a, cy + 1.25 * b],
                            radius=10, fill=_color(hair))  # fmt: skip
    # лицо; у мужчин — тень щетины на нижней части
    box = [cx - a, cy - b, cx + a, cy + b]
    d.ellipse(box, fill=_color(skin))
    if attr["Male"]:
        d.chord(box, 25, 155, fill=_color(skin * 0.75 + np.array([0, 12, 34])))
    # чёлка
    d.chord([cx - 1.02 * a, cy - 1.08 * b, cx + 1.02 * a, cy - 0.3 * b], 180, 360,
            fill=_color(hair))  # fmt: skip
    # глаза и брови
    ey = cy - 0.18 * b
    brow = _color(hair * 0.7)
    for side in (-1, 1):
        ex = cx + side * 0.38 * a
        ellipse(ex, ey, 7 * s, 4.5 * s, (245, 245, 245))
        ellipse(ex, ey, 3.6 * s, 3.6 * s, _color((40, p["iris"][i], p["iris"][i] + 10)))
        d.line([ex - 8 * s, ey - 10 * s, ex + 8 * s, ey - 11 * s], fill=brow, width=3)
    # нос
    d.line([cx, ey + 6 * s, cx + 3 * s, cy + 0.2 * b], fill=_color(skin * 0.8), width=3)
    # рот: улыбка — широкий открытый рот полумесяцем с зубами, иначе узкая почти прямая линия
    my = cy + 0.42 * b
    if attr["Smiling"]:
        half, depth = 0.52 * a, p["smile"][i] * s
        d.chord([cx - half, my - depth, cx + half, my + depth], 0, 180, fill=(150, 30, 45))
        d.chord([cx - 0.8 * half, my - 0.3 * depth, cx + 0.8 * half, my + 0.3 * depth], 0, 180,
                fill=(246, 242, 236))  # fmt: skip
    else:
        half, u = 0.3 * a, np.linspace(-1, 1, 15)
        ys = my + 2 + p["flat"][i] * (1 - 2 * u**2)
        d.line(list(zip(cx + half * u, ys)), fill=(150, 30, 45), width=4, joint="curve")
    # очки: тёмные круглые оправы с перемычкой и дужками
    if attr["Eyeglasses"]:
        frame, r = (24, 24, 30), 11 * s
        for side in (-1, 1):
            ex = cx + side * 0.38 * a
            d.ellipse([ex - r, ey - r, ex + r, ey + r], outline=frame, width=5)
            d.line([ex + side * r, ey, cx + side * 0.98 * a, ey - 3], fill=frame, width=4)
        d.line([cx - 0.38 * a + r, ey, cx + 0.38 * a - r, ey], fill=frame, width=5)
    # шляпа: тулья до верхнего края кадра, поля и лента
    if attr["Wearing_Hat"]:
        hat = p["hat"][i]
        brim_y = cy - 0.75 * b
        d.rectangle([cx - 1.0 * a, -5, cx + 1.0 * a, brim_y], fill=_color(hat))
        d.rectangle([cx - 1.0 * a, brim_y - 14 * s, cx + 1.0 * a, brim_y - 6 * s],
                    fill=_color(hat * 0.5 + 90))  # fmt: skip
        ellipse(cx, brim_y, 1.45 * a, 9 * s, _color(hat))
    return img


def _manifest(n, seed):
    return {"generator_version": _GENERATOR_VERSION, "seed": int(seed), "count": int(n),
            "size": [_W, _H], "rendered_attributes": list(RENDERED_ATTRIBUTES)}  # fmt: skip


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
        and len(_image_files(images)) == manifest["count"]
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


# --- Измеримые признаки ------------------------------------------------------------


def _as_unit_array(images):
    x = np.asarray(images, dtype="float32")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"Ожидались RGB-изображения (batch, H, W, 3), получено {x.shape}.")
    if x.max() > 1.5:  # uint8 0..255
        x = x / 255.0
    if x.shape[1:3] != (64, 64):
        import keras

        x = keras.ops.convert_to_numpy(
            keras.ops.image.resize(x, (64, 64), interpolation="bilinear")
        )
    return x


def _region(x, rows, cols):
    """Среднее по прямоугольнику (включительно) в координатах 64x64; форма (batch, 3)."""
    return x[:, rows[0] : rows[1] + 1, cols[0] : cols[1] + 1].mean(axis=(1, 2))


_CHEEK_ROWS, _CHEEK_LEFT, _CHEEK_RIGHT = (38, 40), (18, 21), (42, 45)


def _cheeks(values):
    """Среднее значения (batch, H, W, 1) по двум щекам; форма (batch,)."""
    left = _region(values, _CHEEK_ROWS, _CHEEK_LEFT)
    right = _region(values, _CHEEK_ROWS, _CHEEK_RIGHT)
    return ((left + right) / 2)[:, 0]


def _mouth_mass(x):
    """«Масса» рта: сумма превышения красноты (R - G) над щеками в окне вокруг рта.

    Губы заметно краснее кожи, а волосы, щетина и фон — нет. Открытый улыбающийся рот
    в несколько раз больше тонкой линии сомкнутых губ. Размытие (как у выходов VAE)
    почти не меняет сумму, только распределяет её по соседним пикселям.
    """
    redness = (x[..., 0] - x[..., 1])[..., None]
    cheek = _cheeks(redness)
    excess = redness[:, 38:53, 20:45, 0] - cheek[:, None, None]
    # в долях превышения краски губ (R - G = 120/255) над кожей: светлая кожа не в счёт
    scale = np.maximum(120 / 255 - cheek, 0.1)
    return np.clip(excess - 0.03, 0, None).sum(axis=(1, 2)) / scale


def attribute_score(images, attribute):
    """Измеряет нарисованный атрибут на изображениях лиц; массив ``(batch,)`` чисел.

    ``images`` — ``(batch, H, W, 3)`` или одно изображение, 0..1 (или 0..255); если размер
    не 64x64, изображения приводятся к нему (билинейно). Чем больше число, тем сильнее атрибут:

    * ``Smiling`` — размер рта: сумма превышения красноты ``R - G`` над щеками вокруг рта;
    * ``Blond_Hair`` — средняя «желтизна» ``max(G - B - 0.15, 0)`` по кадру;
    * ``Eyeglasses`` — насколько полоса глаз темнее щёк, в долях их яркости (оправы);
    * ``Male`` — насколько низ лица синее щёк (превышение ``B - R``; серо-синяя щетина);
    * ``Wearing_Hat`` — тёмность верхней части кадра над головой;
    * ``Pale_Skin`` — яркость щёк.

    Измерения рассчитаны на сгенерированный набор (:func:`generate_celeba_sample`) и
    на выходы VAE, обученного на нём; к настоящим фотографиям они не относятся.
    """
    if attribute not in RENDERED_ATTRIBUTES:
        close = difflib.get_close_matches(str(attribute), RENDERED_ATTRIBUTES, n=3, cutoff=0.4)
        hint = f" Возможно: {', '.join(close)}." if close else ""
        raise KeyError(
            f"Атрибут {attribute!r} не измеряется.{hint} "
            f"Измеримы: {', '.join(RENDERED_ATTRIBUTES)}."
        )
    x = _as_unit_array(images)
    bright = x.mean(axis=-1, keepdims=True)
    cheek = _cheeks(bright)
    if attribute == "Smiling":
        score = _mouth_mass(x)
    elif attribute == "Blond_Hair":
        score = np.clip(x[..., 1] - x[..., 2] - 0.15, 0, None).mean(axis=(1, 2))
    elif attribute == "Eyeglasses":
        # в долях яркости щёк: на тёмной коже оправа темнит меньше, чем на светлой
        score = 1.0 - _region(bright, (28, 34), (20, 44))[:, 0] / np.maximum(cheek, 0.05)
    elif attribute == "Male":
        blueness = x[..., 2] - x[..., 0]
        excess = blueness - _cheeks(blueness[..., None])[:, None, None]
        # только «синее кожи»: губы (краснее кожи) не вычитаются из щетины
        score = np.clip(excess[:, 45:50, 24:41], 0, None).mean(axis=(1, 2))
    elif attribute == "Wearing_Hat":
        score = 1.0 - _region(bright, (2, 7), (24, 40))[:, 0]
    else:  # Pale_Skin
        score = cheek
    return np.asarray(score, dtype="float32")
