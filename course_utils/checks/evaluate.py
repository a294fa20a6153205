"""Чистый процесс: модель работы отвечает на вопросы проверяющего без единой ячейки студента.

Запускается как ``python -m course_utils.checks.evaluate <папка>`` во второй песочнице
проверяющего (``course_grader.sandbox``), после выполнения работы, а в самопроверке —
в ядре студента (:mod:`.selfcheck`). В папке — кодировщик и декодер, которые вынос
сохранил из ядра студента (``encoder.keras``, ``decoder.keras``), и вопросы проверяющего
(``questions.npz``: тестовые изображения, которых работа не видела, и пара A, B). Модели
загружаются Keras с ``safe_mode=True`` (без ``Lambda`` и без кода из файла); известные
слои курса (``Sampling``, ``VAE``) — из :mod:`course_utils.vae`. Слой, которого Keras не
знает и у которого нет весов (свой слой выборки, как в лекции), заменяется выборкой курса:
баллы за саму выборку ставятся по выносу из ядра, а здесь нужны только веса модели.

Итог — ``out/evaluation.json`` и ``out/evaluation.npz``: ответы модели, KL, обучены ли веса.
Перехватчик, подмена функций или файлов в ядре студента на эти ответы не влияют: ядро к
этому времени закрыто, а вопросов оно не видело.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np


def _unknown_layers(path: Path, known) -> list[str]:
    """Имена классов слоёв в ``config.json`` архива ``.keras``, которых Keras не знает."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    names: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            name = node.get("class_name")
            if isinstance(name, str) and "config" in node and not known(node):
                names.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return sorted(names)


def _load(path: Path, substituted: list[str]):
    import keras

    from course_utils.vae import Sampling

    class SubstituteSampling(Sampling):
        """Выборка курса вместо неизвестного слоя без весов с входами ``[z_mean, z_log_var]``."""

        def __init__(self, **kwargs):
            known = {k: kwargs[k] for k in ("name", "dtype", "trainable") if k in kwargs}
            super().__init__(seed=0, **known)

    def known(node) -> bool:
        name, module = node.get("class_name"), node.get("module")
        registered = node.get("registered_name")
        if name.startswith("__") or (isinstance(module, str) and module.startswith("keras")):
            return True
        return bool(registered) and keras.saving.get_registered_object(registered) is not None

    unknown = _unknown_layers(path, known)
    substituted.extend(unknown)
    custom = dict.fromkeys(unknown, SubstituteSampling)
    return keras.saving.load_model(path, custom_objects=custom, compile=False, safe_mode=True)


def _trained(model) -> bool:
    """Веса изменены обучением: инициализация Keras ставит смещения и ``beta`` в ноль."""
    offsets = [
        v for v in model.weights if v.path.rsplit("/", 1)[-1] in ("bias", "beta") and v.trainable
    ]
    if not offsets:
        return True  # без смещений по весам не видно; обученность покажут реконструкции
    import keras

    return any(np.any(keras.ops.convert_to_numpy(v) != 0) for v in offsets)


def evaluate(folder: Path) -> dict:
    import keras

    out = folder / "out"
    out.mkdir(exist_ok=True)
    substituted: list[str] = []
    encoder = _load(folder / "encoder.keras", substituted)
    decoder = _load(folder / "decoder.keras", substituted)
    questions = np.load(folder / "questions.npz", allow_pickle=False)
    as_np = keras.ops.convert_to_numpy
    arrays = {}
    z_mean, z_log_var, z = (as_np(p) for p in encoder(questions["heldout"], training=False))
    arrays.update(z_mean=z_mean, z_log_var=z_log_var, z=z)
    arrays["reconstructions"] = as_np(decoder(z_mean, training=False))
    # KL каждого изображения: KL(N(z_mean, exp(z_log_var)) || N(0, I)), сумма по измерениям.
    arrays["kl"] = -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)
    if "pair" in questions and int(questions["frames"]) >= 2:
        z_ab = as_np(encoder(questions["pair"], training=False)[0])
        alphas = np.linspace(0.0, 1.0, int(questions["frames"]), dtype="float32")[:, None]
        points = z_ab[0][None] * (1 - alphas) + z_ab[1][None] * alphas
        arrays["line_frames"] = as_np(decoder(points, training=False))
    np.savez(out / "evaluation.npz", **arrays)
    report = {
        "loaded": True,
        "substituted": substituted,
        "trained": bool(_trained(encoder) and _trained(decoder)),
    }
    (out / "evaluation.json").write_text(json.dumps(report))
    return report


def main(argv: list[str] | None = None) -> None:
    folder = Path((argv or sys.argv[1:])[0])
    try:
        evaluate(folder)
    except Exception as exc:  # noqa: BLE001 — любая причина: модель не загрузилась
        (folder / "out").mkdir(exist_ok=True)
        error = f"{type(exc).__name__}: {exc}"[:500]
        (folder / "out" / "evaluation.json").write_text(json.dumps({"error": error}))


if __name__ == "__main__":
    main()
