"""Числа, по которым видно, что VAE для лиц обучился, а не схлопнулся.

* :func:`reconstruction_psnr` — PSNR реконструкций отложенных лиц, дБ;
* :func:`active_dimensions` — сколько измерений скрытого пространства несут информацию
  (средняя KL на измерение больше порога, 0,01 нат): у схлопнувшейся модели их почти нет;
* :func:`diversity_ratio` — разнообразие новых лиц относительно настоящих (1 — столько же);
* :func:`morph_smoothness` — самый большой шаг морфинга, делённый на средний (1 — все шаги
  одинаковы, большое число — скачок).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "reconstruction_psnr",
    "kl_per_dimension",
    "active_dimensions",
    "diversity_ratio",
    "morph_smoothness",
]

KL_ACTIVE = 0.01  # нат на измерение: меньше — измерение не используется


def _unit(images):
    x = np.asarray(images)
    return x.astype("float32") / 255.0 if x.dtype == np.uint8 else x.astype("float32")


def psnr(images, reconstructions) -> float:
    """PSNR (дБ) по средней квадратичной ошибке всех пикселей, значения 0..1."""
    mse = float(np.mean((_unit(images) - _unit(reconstructions)) ** 2))
    return float(10 * np.log10(1.0 / max(mse, 1e-12)))


def reconstruction_psnr(vae, images, batch_size=256) -> float:
    """PSNR реконструкций ``decoder(z_mean)`` изображений ``images`` (без шума выборки)."""
    from course_utils.vae_utils import decode, encode_mean

    x = _unit(images)
    rec = np.concatenate(
        [decode(encode_mean(x[i : i + batch_size], vae), vae) for i in range(0, len(x), batch_size)]
    )
    return psnr(x, rec)


def kl_per_dimension(vae, images, batch_size=256):
    """Средняя по изображениям KL(N(mu, sigma^2) || N(0, 1)) каждого измерения, ``(z_dim,)``."""
    x = _unit(images)
    total = 0.0
    for i in range(0, len(x), batch_size):
        z_mean, z_log_var, _ = vae.encoder(x[i : i + batch_size], training=False)
        z_mean, z_log_var = np.asarray(z_mean, "float64"), np.asarray(z_log_var, "float64")
        total = total + (-0.5 * (1 + z_log_var - z_mean**2 - np.exp(z_log_var))).sum(axis=0)
    return total / len(x)


def active_dimensions(vae, images, threshold=KL_ACTIVE) -> int:
    """Число измерений, у которых средняя KL больше ``threshold`` нат."""
    return int((kl_per_dimension(vae, images) > threshold).sum())


def diversity_ratio(generated, real) -> float:
    """Средний по пикселям разброс (стандартное отклонение по изображениям) новых лиц,
    делённый на тот же разброс настоящих. Около 1 — новые лица так же разнообразны;
    около 0 — декодер рисует один шаблон."""
    spread = lambda x: float(_unit(x).std(axis=0).mean())  # noqa: E731
    return spread(generated) / spread(real)


def morph_smoothness(frames) -> float:
    """Самый большой шаг между соседними кадрами (средняя абсолютная разница пикселей),
    делённый на средний шаг. Для равномерного перехода — около 1."""
    x = _unit(frames)
    steps = np.abs(np.diff(x, axis=0)).mean(axis=tuple(range(1, x.ndim)))
    return float(steps.max() / steps.mean())
