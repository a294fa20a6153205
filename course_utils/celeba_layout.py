"""Раскладка набора CelebA на диске: имена 40 атрибутов, имя CSV и порядок файлов.

Эти сведения нужны и загрузчику (:mod:`course_utils.celeba`), и нарисованной замене
набора (:mod:`course_utils.generated_faces`), поэтому живут отдельно: зависимости идут в
одну сторону — ``celeba`` → ``generated_faces`` → ``celeba_layout``.
"""

from __future__ import annotations

import os

__all__ = ["CELEBA_ATTRIBUTES", "CSV_NAME", "IMAGE_EXTENSIONS", "image_files"]

#: 40 атрибутов CelebA в порядке столбцов ``list_attr_celeba.csv``.
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
)

CSV_NAME = "list_attr_celeba.csv"
#: Расширения файлов изображений, которые читает курс.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def image_files(image_dir) -> list[str]:
    """Пути файлов относительно ``image_dir`` в том порядке, в каком их перечисляет
    ``image_dataset_from_directory`` (``os.walk``, папки и имена по алфавиту)."""
    names = []
    for root, _, files in sorted(os.walk(image_dir), key=lambda item: item[0]):
        for name in sorted(files):
            if name.lower().endswith(IMAGE_EXTENSIONS):
                names.append(os.path.relpath(os.path.join(root, name), image_dir))
    return names
