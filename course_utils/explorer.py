"""Интерактивный исследователь двумерного скрытого пространства VAE.

:func:`latent_explorer` рисует статический рисунок (облако кодов, выбранная точка и её
декодированное изображение — он виден везде, даже где виджеты не работают) и возвращает
панель ipywidgets: два ползунка ``z₁``, ``z₂`` выбирают точку скрытого пространства,
картинка под ними — то, во что декодер превращает эту точку.

Соглашение для браузерных тестов: картинка — ``ipywidgets.Image`` (PNG) с классом
``vae-explorer-image``, ползунки — ``ipywidgets.FloatSlider`` с классом
``vae-explorer-slider`` и подписями ``z₁``, ``z₂``; картинка обновляется в обработчике
``observe`` на ``value``.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np

from course_utils.images import GRAY_CMAP, to_unit_range
from course_utils.palette import FASHION_MNIST_CLASSES_RU, class_scatter
from course_utils.vae_utils import decode, decode_line

__all__ = ["latent_explorer", "decode_line", "to_png", "ExplorerBox", "SLIDER_CLASS", "IMAGE_CLASS"]

#: CSS-классы виджетов (соглашение с браузерными тестами и ноутбуками: одно место).
SLIDER_CLASS = "vae-explorer-slider"
IMAGE_CLASS = "vae-explorer-image"
BOX_CLASS = "vae-explorer"


def _latent_dim(decoder):
    shape = getattr(decoder, "input_shape", None)
    if not isinstance(shape, tuple) or len(shape) != 2:
        raise ValueError(
            "latent_explorer ожидает декодер Keras с одним входом формы (batch, 2), "
            f"получен вход {shape!r}."
        )
    return shape[-1]


def to_png(image, cmap=GRAY_CMAP, size=160):
    """PNG-байты изображения ``(h, w)``, ``(h, w, 1)`` или ``(h, w, 3)``.

    Значения приводятся к 0..1 правилом :func:`course_utils.images.to_unit_range`. Серое
    изображение раскрашивается как в ``display``: при ``cmap="gray_r"`` 1 — чёрный,
    при ``"gray"`` 1 — белый. Картинка увеличивается до ``size`` пикселей по большей
    стороне без сглаживания (видны настоящие пиксели).
    """
    from PIL import Image

    image = to_unit_range(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        if cmap not in ("gray", "gray_r", "Greys"):
            raise ValueError(
                f"to_png: палитра {cmap!r} не поддерживается, возьмите 'gray' или 'gray_r'."
            )
        if cmap != "gray":
            image = 1.0 - image
    elif image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(
            f"to_png: ожидалось изображение (h, w), (h, w, 1) или (h, w, 3), получено {image.shape}."
        )
    pil = Image.fromarray(np.round(image * 255).astype("uint8"))
    scale = max(1, size // max(pil.size))
    pil = pil.resize((pil.size[0] * scale, pil.size[1] * scale), Image.NEAREST)
    buffer = io.BytesIO()
    pil.save(buffer, format="png")
    return buffer.getvalue()


def _static_figure(point, image, embeddings, labels, class_names, z_range, cmap):
    import matplotlib.pyplot as plt

    fig, (ax_space, ax_image) = plt.subplots(
        1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [1.2, 1]}
    )
    if embeddings is not None and labels is not None:
        class_scatter(ax_space, embeddings, labels, class_names)
    elif embeddings is not None:
        ax_space.scatter(embeddings[:, 0], embeddings[:, 1], c="grey", s=3, alpha=0.5)
    ax_space.scatter([point[0]], [point[1]], marker="*", s=350, c="white", edgecolors="black")
    ax_space.set_xlim(*z_range)
    ax_space.set_ylim(*z_range)
    ax_space.set_xlabel("z₁")
    ax_space.set_ylabel("z₂")
    ax_space.set_title("Скрытое пространство и выбранная точка")
    if image.shape[-1] == 1:
        ax_image.imshow(image[..., 0], cmap=cmap, vmin=0, vmax=1)
    else:
        ax_image.imshow(np.clip(image, 0, 1))
    ax_image.set_title(f"Декодер в точке z = ({point[0]:.2f}, {point[1]:.2f})")
    ax_image.axis("off")
    fig.tight_layout()
    plt.show()
    plt.close(fig)


def latent_explorer(
    decoder,
    z_range=(-3.0, 3.0),
    initial=(0.0, 0.0),
    embeddings=None,
    labels=None,
    class_names=FASHION_MNIST_CLASSES_RU,
    step=0.05,
    cmap=GRAY_CMAP,
    image_size=160,
    show_static=True,
):
    """Исследователь двумерного скрытого пространства: ползунки ``z₁``, ``z₂`` -> картинка.

    Аргументы:
        decoder: декодер Keras ``(batch, 2) -> изображения`` со значениями 0..1 (или
            модель VAE с атрибутом ``decoder``).
        z_range: границы ползунков ``(min, max)``.
        initial: начальная точка ``(z1, z2)``.
        embeddings, labels: необязательное облако кодов ``(n, 2)`` и их метки — рисуются
            на статическом рисунке для ориентира (цвета и легенда — ``class_scatter``).
        class_names: названия классов по меткам для легенды (по умолчанию Fashion-MNIST).
        step: шаг ползунков.
        cmap: ``"gray_r"`` (как ``display``) или ``"gray"`` для серых изображений.
        image_size: размер картинки в пикселях.
        show_static: сначала показать статический рисунок (виден и там, где виджеты не
            отображаются: на GitHub, в PDF).

    Возвращает панель ``ipywidgets.VBox`` (её нужно вывести последней строкой ячейки).
    У панели есть атрибуты ``sliders`` (два ``FloatSlider``), ``image`` (``Image``),
    ``label`` и ``decode(z1, z2)``.
    """
    decoder = getattr(decoder, "decoder", decoder)
    if _latent_dim(decoder) != 2:
        raise ValueError(
            f"latent_explorer работает с двумерным скрытым пространством, а вход декодера "
            f"имеет размерность {_latent_dim(decoder)}. Для многомерного пространства "
            "исследуйте отрезки между точками с помощью decode_line."
        )
    low, high = (float(v) for v in z_range)
    if not low < high:
        raise ValueError(f"z_range={z_range!r}: нужна пара (min, max) с min < max.")
    initial = [float(np.clip(v, low, high)) for v in initial]
    if embeddings is not None:
        embeddings = np.asarray(embeddings)
        if embeddings.ndim != 2 or embeddings.shape[1] != 2:
            raise ValueError(f"embeddings: нужен массив (n, 2), получена форма {embeddings.shape}.")

    first_image = decode([initial], decoder)[0]
    if show_static:
        _static_figure(initial, first_image, embeddings, labels, class_names, (low, high), cmap)

    sliders = []
    for name, value in zip(("z₁", "z₂"), initial):
        slider = widgets.FloatSlider(
            value=value,
            min=low,
            max=high,
            step=step,
            description=name,
            continuous_update=True,
            readout_format=".2f",
        )
        slider.add_class(SLIDER_CLASS)
        sliders.append(slider)
    image = widgets.Image(
        value=to_png(first_image, cmap, image_size), format="png", width=image_size
    )
    image.add_class(IMAGE_CLASS)
    label = widgets.Label(value=_caption(*initial))

    def update(_change=None):
        z1, z2 = (s.value for s in sliders)
        image.value = to_png(decode([[z1, z2]], decoder)[0], cmap, image_size)
        label.value = _caption(z1, z2)

    for slider in sliders:
        slider.observe(update, names="value")

    box = ExplorerBox(children=[widgets.VBox(sliders + [label]), image])
    box.add_class(BOX_CLASS)
    box.sliders, box.image, box.label = sliders, image, label
    box.decode = lambda z1, z2: decode([[z1, z2]], decoder)[0]
    return box


def _caption(z1, z2):
    return f"z = ({z1:.2f}, {z2:.2f})"


class ExplorerBox(widgets.VBox):
    """Панель исследователя; понятный текст там, где виджеты не отображаются."""

    def __repr__(self):
        return "Исследователь скрытого пространства (ползунки z₁, z₂ работают в Jupyter с ядром)"
