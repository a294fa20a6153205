"""Обучение на нескольких устройствах сразу (параллелизм по данным) средствами Keras.

Когда данных много (полный CelebA — 200 000 изображений), один процессор или одна
видеокарта обучают модель долго. Параллелизм по данным: на каждом устройстве лежит копия
модели, каждый шаг батч делится между устройствами поровну, градиенты складываются, и все
копии обновляются одинаково. Своего кода для этого не пишем — берём готовое:

* TensorFlow: ``tf.distribute.MirroredStrategy`` (модель создаётся и компилируется внутри
  ``strategy.scope()``);
* JAX: ``keras.distribution.DataParallel`` (включается ``keras.distribution.set_distribution``
  до создания модели);
* PyTorch: API распределения Keras этот бэкенд пока не поддерживает — обучаем на одном
  устройстве (для нескольких GPU в PyTorch есть свой ``DistributedDataParallel``).

Пример::

    from course_utils.distribute import data_parallel_scope

    with data_parallel_scope() as replicas:      # все GPU, а без них — все CPU-устройства
        vae = VAE(build_face_encoder(), build_face_decoder(), beta=2000, reconstruction="mse")
        vae.compile(optimizer=keras.optimizers.Adam(5e-4))
        vae.fit(train, epochs=EPOCHS)             # батч делится между ``replicas`` устройствами

Размер батча в ``fit`` — общий для всех устройств: при двух устройствах и батче 128 каждое
считает по 64 примера.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import keras

__all__ = ["list_devices", "data_parallel_scope", "use_virtual_cpu_devices"]


def list_devices():
    """Устройства, доступные Keras для распределения: GPU/TPU, а если их нет — CPU.

    Имена в форме Keras: ``"gpu:0"``, ``"cpu:1"``. На PyTorch — пустой список
    (API распределения Keras там недоступен).
    """
    if keras.backend.backend() not in ("tensorflow", "jax"):
        return []
    return list(keras.distribution.list_devices())


def _tf_device_name(name):
    """``"cpu:0"`` (имя Keras) -> ``"/cpu:0"`` (имя TensorFlow); полные имена не трогаем."""
    return name if name.startswith("/") else "/" + name


@contextlib.contextmanager
def data_parallel_scope(devices=None):
    """Контекст, внутри которого модель создаётся, компилируется и обучается на ``devices``.

    Аргументы:
        devices: список имён устройств (``["gpu:0", "gpu:1"]`` или ``["cpu:0", "cpu:1"]``);
            ``None`` — все устройства из :func:`list_devices`.

    Возвращает (в ``as``) число копий модели — на сколько частей делится каждый батч.

    Всё — создание модели, ``compile`` и ``fit`` — пишите внутри ``with``: на JAX
    раскладка данных по устройствам действует, только пока контекст открыт.
    """
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax"):
        warnings.warn(
            f"Бэкенд {backend!r}: API распределения Keras (DataParallel, MirroredStrategy) "
            "его не поддерживает. Обучение пойдёт на одном устройстве. Для нескольких "
            "устройств выберите KERAS_BACKEND=jax или tensorflow.",
            stacklevel=3,
        )
        yield 1
        return

    if devices is None:
        devices = list_devices()
    devices = list(devices)
    if not devices:
        raise ValueError("Список устройств пуст: укажите хотя бы одно устройство.")
    available = set(list_devices())
    unknown = [d for d in devices if d.lower().lstrip("/") not in available]
    if unknown:
        raise ValueError(
            f"Устройства {unknown} не найдены; доступны {sorted(available)}. "
            "Проверьте имена (например 'gpu:0') или вызовите data_parallel_scope() без "
            "аргументов, чтобы взять все."
        )

    if backend == "tensorflow":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy([_tf_device_name(d) for d in devices])
        with strategy.scope():
            yield strategy.num_replicas_in_sync
        return

    # JAX: раскладка задаётся глобально; по выходе возвращаем прежнюю.
    previous = keras.distribution.distribution()
    distribution = keras.distribution.DataParallel(devices=devices)
    keras.distribution.set_distribution(distribution)
    try:
        yield len(devices)
    finally:
        keras.distribution.set_distribution(previous)


def use_virtual_cpu_devices(count=2):
    """Делит процессор на ``count`` виртуальных устройств — чтобы попробовать параллелизм по
    данным без нескольких GPU (скорости это не прибавит: ядра процессора те же).

    Вызывать в самом начале, до первого вычисления: TensorFlow и JAX фиксируют список
    устройств при первом обращении к ним. Для JAX флаг XLA нужно задать ещё раньше —
    до ``import keras`` (см. текст ошибки, если опоздали). Возвращает список имён
    CPU-устройств.
    """
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count должно быть целым числом >= 1, получено {count!r}.")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        cpus = tf.config.list_physical_devices("CPU")
        try:
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
            )
        except RuntimeError as error:
            if len(tf.config.list_logical_devices("CPU")) != count:
                raise RuntimeError(
                    "TensorFlow уже запущен, список устройств изменить нельзя. Перезапустите "
                    "ядро и вызовите use_virtual_cpu_devices() сразу после импорта keras."
                ) from error
        return [f"cpu:{i}" for i in range(count)]
    if backend == "jax":
        import jax

        flag = f"--xla_force_host_platform_device_count={count}"
        found = len(jax.devices("cpu"))
        if found != count:
            raise RuntimeError(
                f"JAX видит {found} CPU-устройств, а нужно {count}. Перезапустите ядро и "
                f"до импорта keras выполните: os.environ['XLA_FLAGS'] = '{flag}' "
                f"(сейчас XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r})."
            )
        return [f"cpu:{i}" for i in range(count)]
    raise RuntimeError(
        f"Бэкенд {backend!r}: виртуальные устройства и API распределения Keras "
        "поддерживаются только на TensorFlow и JAX."
    )
