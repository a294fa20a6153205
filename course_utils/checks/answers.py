"""Ответы работы: переменные из таблицы правил и ответы модели — в папку файлов.

Одна функция :func:`collect` для двух мест: после выполнения работы её вызывает ядро
студента в песочнице проверяющего (вынос, ``course_grader.execute``), а ячейки
«Самопроверка» — в ноутбуке студента (:mod:`.selfcheck`). Всё, что она пишет, — заявления работы: баллы ставит
проверка (:mod:`.verify`) по настоящим данным, а за модель — по ответам чистого процесса
(:mod:`.evaluate`), которому нужны сохранённые здесь ``encoder.keras`` и ``decoder.keras``.
Каждый пункт — отдельно: ошибка в одном не мешает остальным.
"""

from __future__ import annotations

import builtins
import json
import sys
from pathlib import Path

import numpy as np

#: Пункты выноса по порядку (``only`` в :func:`collect` выбирает из них).
ITEMS = (
    "scalars",
    "data",
    "pair",
    "morph_frames",
    "history",
    "morph_figure",
    "vae",
    "line",
    "keras_models",
    "sampling",
)


def _to_np(value, dtype="float32"):
    keras = sys.modules.get("keras")  # без Keras в работе не импортируем его (секунды)
    if keras is not None:
        try:
            value = keras.ops.convert_to_numpy(value)
        except Exception:  # noqa: BLE001 — не тензор Keras: numpy разберётся сам
            pass
    return np.asarray(value, dtype=dtype)


def collect(ns: dict, out: Path, queries: Path, only: tuple[str, ...] = ITEMS) -> dict:
    """Сохраняет в ``out`` ответы работы с пространством имён ``ns``; возвращает отчёт.

    ``queries`` — ``.npz`` с изображениями проверяющего (``heldout``).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {"errors": {}}
    # Встроенные имена — свои: студент мог переопределить len, dict, ... в своём пространстве,
    # но не в этом модуле.
    type_ = builtins.type

    def attempt(key, fn):
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 — любая ошибка студента — это сообщение
            report["errors"][key] = f"{type_(exc).__name__}: {exc}"[:500]

    def need(name):
        if name not in ns:
            raise NameError(f"переменная {name} не определена")
        return ns[name]

    def scalar(name, kind):
        def run():
            value = need(name)
            if kind == "str":
                report[name] = str(value)[:200]
            elif kind == "int":
                report[name] = int(value)
                report[name + "_type"] = type_(value).__name__
            elif kind == "ints":
                report[name] = [int(v) for v in list(value)[:20]]

        attempt(name, run)

    def array(name, dtype="float32"):
        attempt(name, lambda: np.save(out / f"{name}.npy", _to_np(need(name), dtype)))

    if "scalars" in only:
        scalar("STUDENT_ID", "str")
        report["STUDENT_ID_type"] = type_(ns.get("STUDENT_ID")).__name__
        scalar("classes", "ints")
        scalar("LATENT_DIM", "int")
        scalar("label_a", "int")
        scalar("label_b", "int")
    if "data" in only:
        for name in ("x_train", "x_test"):
            array(name)
        for name in ("y_train", "y_test"):
            array(name, "int64")
    if "pair" in only:
        array("image_a")
        array("image_b")
    if "morph_frames" in only:
        array("morph_frames")

    def history():
        value = need("history")
        data = value.history if hasattr(value, "history") else value
        report["history"] = {
            str(k): [float(v) for v in list(vals)[:10000]] for k, vals in dict(data).items()
        }

    if "history" in only:
        attempt("history", history)

    def figure():
        fig = need("morph_figure")
        report["figure_class"] = f"{type_(fig).__module__}.{type_(fig).__name__}"
        report["figure_images"] = int(sum(len(ax.images) for ax in fig.axes))
        fig.savefig(out / "figure.png", format="png", dpi=60)

    if "morph_figure" in only:
        attempt("morph_figure", figure)

    heldout = np.load(queries)["heldout"]

    def model():
        vae = need("vae")
        parts = vae.encoder(heldout, training=False)
        z_mean, z_log_var, z = (_to_np(p) for p in parts)
        np.save(out / "z_mean.npy", z_mean)
        np.save(out / "z_log_var.npy", z_log_var)
        np.save(out / "z.npy", z)
        np.save(out / "reconstructions.npy", _to_np(vae.decoder(z_mean, training=False)))

    if "vae" in only:
        attempt("vae", model)

    def line():
        vae = need("vae")
        frames = np.asarray(need("morph_frames"))
        pair = np.stack([_to_np(need("image_a")), _to_np(need("image_b"))])
        z_ab = _to_np(vae.encoder(pair, training=False)[0])
        alphas = np.linspace(0.0, 1.0, len(frames), dtype="float32")[:, None]
        points = z_ab[0][None] * (1 - alphas) + z_ab[1][None] * alphas
        np.save(out / "z_ab.npy", z_ab)
        np.save(out / "line_frames.npy", _to_np(vae.decoder(points, training=False)))

    if "line" in only:
        attempt("line", line)

    def keras_models():
        # Кодировщик и декодер — для чистого процесса (course_utils.checks.evaluate):
        # баллы за модель ставятся по его ответам, а не по ответам этого ядра.
        vae = need("vae")
        layer = getattr(getattr(sys.modules.get("keras"), "layers", None), "Layer", None)
        for name in ("encoder", "decoder"):
            part = getattr(vae, name)
            report[name + "_is_keras"] = layer is not None and isinstance(part, layer)
            part.save(str(out / (name + ".keras")))

    if "keras_models" in only:
        attempt("keras_models", keras_models)

    def sampling_in_training_mode():
        # Слой выборки может шуметь только при training=True, а батч-нормализация при этом
        # меняет свои средние: их значения возвращаются (вызов не меняет модель).
        encoder = need("vae").encoder
        saved = [(v, _to_np(v, v.dtype)) for v in getattr(encoder, "non_trainable_weights", [])]
        try:
            z_mean, z_log_var, z = (_to_np(p) for p in encoder(heldout, training=True))
        finally:
            for variable, value in saved:
                variable.assign(value)
        np.save(out / "z_mean_training.npy", z_mean)
        np.save(out / "z_log_var_training.npy", z_log_var)
        np.save(out / "z_training.npy", z)

    if "sampling" in only:
        attempt("sampling", sampling_in_training_mode)

    (out / "report.json").write_text(json.dumps(report))
    return report
