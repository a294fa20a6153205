"""Работы для семестра: честное решение, написанное независимо от эталона, и почти-копия.

``independent()`` — все ячейки решений написаны иначе, чем в эталоне (данные — списком
индексов, модель — из галереи ``submissions``, обучение, пара, морфинг и рисунок —
своими словами). ``near_copy(nb)`` — то, что делает списывающий: переименовывает переменные,
меняет комментарии и переставляет независимые ячейки.
"""

from __future__ import annotations

import re

import nbformat

from . import submissions

CLASSES = """
STUDENT_ID = "2045118807"
classes = classes_from_student_id(STUDENT_ID)
"""

DATA = """
(train_images, train_labels), (test_images, test_labels) = load_cifar10()
train_labels, test_labels = np.ravel(train_labels), np.ravel(test_labels)
chosen = {int(c) for c in classes}
train_rows = [i for i, value in enumerate(train_labels) if int(value) in chosen]
test_rows = [i for i, value in enumerate(test_labels) if int(value) in chosen]
x_train = train_images[train_rows].astype(np.float32) / 255
y_train = train_labels[train_rows]
x_test = test_images[test_rows].astype(np.float32) / 255
y_test = test_labels[test_rows]
"""

PAIR = """
flat_labels = np.asarray(y_test).ravel()
smallest, largest = min(classes), max(classes)
where_a = int(np.where(flat_labels == smallest)[0][-1])
where_b = int(np.where(flat_labels == largest)[0][-1])
image_a, image_b = x_test[where_a], x_test[where_b]
label_a, label_b = int(flat_labels[where_a]), int(flat_labels[where_b])
"""

# Своя ячейка обучения (ModelCheckpoint из галереи не годится: LectureVAE не сохраняется).
TRAIN = """
fit_log = vae.fit(x_train[:TRAIN_LIMIT], batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0)
history = fit_log
"""

MORPH = """
means = encoder.predict(np.stack([image_a, image_b]), verbose=0)[0]
alphas = np.linspace(0.0, 1.0, 9)
line = (1.0 - alphas)[:, None] * means[0] + alphas[:, None] * means[1]
morph_frames = decoder.predict(line, verbose=0)
"""

FIGURE = """
strip = [image_a, *list(morph_frames), image_b]
morph_figure = plt.figure(figsize=(1.5 * len(strip), 2))
for position, picture in enumerate(strip, start=1):
    axis = morph_figure.add_subplot(1, len(strip), position)
    axis.imshow(np.clip(picture, 0.0, 1.0))
    axis.set_xticks([])
    axis.set_yticks([])
plt.show()
"""


def independent() -> nbformat.NotebookNode:
    nb = submissions.reference()
    for cell_id, source in {
        "classes_solution": CLASSES,
        "data_solution": DATA,
        "model_solution": submissions.LECTURE_MODEL,
        "train_solution": TRAIN,
        "pair_solution": PAIR,
        "morph_solution": MORPH,
        "figure_solution": FIGURE,
    }.items():
        submissions._replace(nb, cell_id, source)
    return nb


#: Переименования списывающего: локальные имена ячеек, которые проверка не читает.
RENAMES = {
    "keep_classes": "select_subset",
    "images": "imgs",
    "labels": "lbls",
    "wanted": "needed",
    "mask": "chosen_mask",
    "filters": "n_filters",
    "decoder_output": "dec_out",
    "total_steps": "steps_total",
    "schedule": "lr_schedule",
    "y_test_flat": "flat_y",
    "index_a": "first_idx",
    "index_b": "second_idx",
    "panels": "pictures",
    "titles": "captions",
    "gif_frames": "anim_frames",
    "gif_path": "anim_path",
    # Имена независимого решения (independent()).
    "chosen": "wanted_set",
    "train_rows": "rows_train",
    "test_rows": "rows_test",
    "flat_labels": "labels_1d",
    "where_a": "pos_a",
    "where_b": "pos_b",
    "means": "z_means",
    "line": "segment",
    "strip": "row_images",
    "position": "slot",
    "picture": "img",
    "axis": "ax_",
    "fit_log": "train_log",
}


def near_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Почти-копия: имена переименованы, комментарии свои, ячейка пары переставлена."""
    copied = nbformat.reads(nbformat.writes(nb), as_version=4)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, RENAMES)) + r")\b")
    for cell in copied.cells:
        if cell.cell_type != "code" or not cell.get("id", "").endswith("_solution"):
            continue
        lines = []
        for line in cell.source.splitlines():
            code, _, comment = line.partition("# ")
            if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
                lines.append(line)
            elif comment and not code.strip():
                lines.append("# мой комментарий: " + comment[::-1])
            else:
                lines.append(pattern.sub(lambda m: RENAMES[m.group(1)], code.rstrip()))
        cell.source = "# решение\n" + "\n".join(lines)
    # Выбор пары зависит только от данных: ячейка переезжает раньше модели, ноутбук работает.
    pair = next(c for c in copied.cells if c.get("id") == "pair_solution")
    copied.cells.remove(pair)
    data = next(c for c in copied.cells if c.get("id") == "data_solution")
    copied.cells.insert(copied.cells.index(data) + 1, pair)
    return copied
