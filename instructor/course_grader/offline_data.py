"""В песочнице проверки загрузчики ``keras.datasets`` отдают наборы курса без сети.

Лекция учит загружать данные из ``keras.datasets`` (``keras.datasets.cifar10.load_data()``),
а в песочнице нет сети, и кэш Keras пуст. Копию архива в кэш не положить: Keras сверяет
sha256 архива с официальным, а копия CIFAR-10 курса побайтно другая (и Keras без сети
удаляет файл, который не прошёл сверку). Поэтому перед первой ячейкой работы ядро
выполняет :func:`install`: когда работа импортирует модуль загрузчика Keras, его
``load_data`` заменяется загрузчиком курса — те же данные, что у :func:`load_cifar10`
(``COURSE_DATA`` проверки), в той же раскладке Keras: ``uint8`` ``(n, 32, 32, 3)``,
метки ``(n, 1)``. Keras при этом импортируется только работой, которая его использует.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys


def _cifar10():
    from course_utils.data import load_cifar10

    return load_cifar10()


def _fashion_mnist():
    from course_utils.data import load_fashion_mnist

    return load_fashion_mnist()


#: Модуль загрузчика Keras -> загрузчик курса с тем же результатом.
LOADERS = {
    "keras.src.datasets.cifar10": _cifar10,
    "keras.src.datasets.fashion_mnist": _fashion_mnist,
}


class _ReplaceLoaders(importlib.abc.MetaPathFinder):
    """Находит модуль загрузчика обычным путём и после его выполнения меняет ``load_data``."""

    def find_spec(self, name, path=None, target=None):
        if name not in LOADERS:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            module.load_data = LOADERS[name]

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    """Ставит замену (уже импортированные модули загрузчиков исправляются сразу)."""
    for name, loader in LOADERS.items():
        if name in sys.modules:
            sys.modules[name].load_data = loader
            public = sys.modules.get(name.replace(".src", "", 1))
            if public is not None:
                public.load_data = loader
    if not any(isinstance(f, _ReplaceLoaders) for f in sys.meta_path):
        sys.meta_path.insert(0, _ReplaceLoaders())
