"""Схема VAE, нарисованная matplotlib по самим моделям Keras.

:func:`draw_vae` читает слои кодировщика и декодера (их имена, типы, формы выходов и связи
из ``get_config()``) и рисует поток: изображение → свёртки → (``z_mean``, ``z_log_var``) →
``z`` → декодер → изображение. Схема строится по модели, а не по картинке: поменяйте
архитектуру — поменяется и схема.
"""

from __future__ import annotations

__all__ = ["layer_graph", "draw_vae"]

#: Цвета блоков: кодировщик, скрытое пространство, декодер (различимы при дальтонизме).
COLORS = {"encoder": "#cfe2f3", "latent": "#fbd9a6", "decoder": "#d5ecd0"}
STEP = 1.45  # расстояние между колонками блоков
LATENT_LAYERS = ("z_mean", "z_log_var", "sampling")


def _sources(node) -> list[str]:
    """Имена слоёв, чьи выходы упомянуты в описании входов слоя (``keras_history``)."""
    if isinstance(node, dict):
        history = node.get("config", {}).get("keras_history") if "config" in node else None
        if node.get("class_name") == "__keras_tensor__" and history:
            return [history[0]]
        return [name for value in node.values() for name in _sources(value)]
    if isinstance(node, (list, tuple)):
        return [name for value in node for name in _sources(value)]
    return []


def layer_graph(model) -> list[tuple[str, str, tuple, list[str]]]:
    """Слои функциональной модели по порядку: ``(имя, класс, форма выхода, входы-слои)``."""
    configs = {layer["name"]: layer for layer in model.get_config()["layers"]}
    graph = []
    for layer in model.layers:
        shape = tuple(layer.output.shape[1:])
        inputs = list(dict.fromkeys(_sources(configs[layer.name].get("inbound_nodes", []))))
        graph.append((layer.name, type(layer).__name__, shape, inputs))
    return graph


def _shape_text(shape) -> str:
    return "×".join(str(s) for s in shape)


def draw_vae(encoder, decoder, ax=None):
    """Рисует схему VAE из ``encoder`` и ``decoder``; возвращает ``Figure``.

    Слева направо идут слои (в колонке — слои одной глубины, параллельные ветви одна над
    другой); в блоке — тип слоя (у частей скрытого пространства —
    имя) и форма выхода без оси батча. Вход декодера
    совпадает с ``z``, поэтому рисуется одним блоком ``sampling``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    nodes = [
        (name, kind, shape, inputs, "encoder") for name, kind, shape, inputs in layer_graph(encoder)
    ]
    decoder_graph = layer_graph(decoder)
    decoder_input = decoder_graph[0][0]
    last_encoder = nodes[-1][0]
    for (
        name,
        kind,
        shape,
        inputs,
    ) in decoder_graph[1:]:
        inputs = [last_encoder if i == decoder_input else i for i in inputs]
        nodes.append((name, kind, shape, inputs, "decoder"))

    depth: dict[str, int] = {}
    for name, _, _, inputs, _ in nodes:
        depth[name] = 1 + max((depth[i] for i in inputs), default=-1)
    columns: dict[int, list[str]] = {}
    for name, *_ in nodes:
        columns.setdefault(depth[name], []).append(name)
    position = {}
    for column, names in columns.items():
        for row, name in enumerate(names):
            position[name] = (column * STEP, (len(names) - 1) / 2 - row)

    width = STEP * len(columns)
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(12.0, 0.95 * width), 3.0))
    fig = ax.figure
    box_w, box_h = 1.25, 0.7
    for name, kind, shape, inputs, part in nodes:
        x, y = position[name]
        color = COLORS["latent"] if name in LATENT_LAYERS else COLORS[part]
        ax.add_patch(
            FancyBboxPatch(
                (x - box_w / 2, y - box_h / 2),
                box_w,
                box_h,
                boxstyle="round,pad=0.02",
                facecolor=color,
                edgecolor="black",
                linewidth=0.8,
            )
        )
        title = name if name in LATENT_LAYERS else kind
        if kind == "InputLayer":
            title = "вход"
        if name == "sampling":
            title = "z (Sampling)"
        size = 8.5 if len(title) <= 12 else 7
        ax.text(x, y + 0.13, title, ha="center", va="center", fontsize=size, weight="bold")
        ax.text(x, y - 0.17, _shape_text(shape), ha="center", va="center", fontsize=8.5)
        for source in inputs:
            sx, sy = position[source]
            ax.annotate(
                "",
                xy=(x - box_w / 2, y),
                xytext=(sx + box_w / 2, sy),
                arrowprops={"arrowstyle": "->", "color": "black", "linewidth": 0.9},
            )
    if "sampling" in position:
        x, y = position["sampling"]
        ax.text(x, y + 0.75, "ε ~ N(0, I)", ha="center", va="center", fontsize=9, color="#8a4b00")
        ax.annotate(
            "",
            xy=(x, y + box_h / 2),
            xytext=(x, y + 0.63),
            arrowprops={"arrowstyle": "->", "color": "#8a4b00"},
        )
    encoder_end = max(position[name][0] for name, *_, part in nodes if part == "encoder")
    for label, left, right in (
        ("кодировщик", 0.0, encoder_end),
        ("декодер", encoder_end + STEP, (len(columns) - 1) * STEP),
    ):
        ax.annotate(
            "",
            xy=(left - box_w / 2, -1.05),
            xytext=(right + box_w / 2, -1.05),
            arrowprops={"arrowstyle": "|-|", "color": "grey", "linewidth": 0.8},
        )
        ax.text((left + right) / 2, -1.3, label, ha="center", va="center", fontsize=10)
    ax.set_xlim(-0.7, width - 0.55)
    ax.set_ylim(-1.5, 1.3)
    ax.axis("off")
    return fig
