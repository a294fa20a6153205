"""Настройки nbgrader для задания курса (папка курса — эта папка, ``grading/``).

Команды запускаются из этой папки (или через ``make grade`` / ``make release``).
"""

import os

c = get_config()  # noqa: F821 — get_config подставляет сам nbgrader

# Папка курса — та, где лежит этот файл, откуда бы ни запускали nbgrader.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "vae-course-keras3"

# Работы выполняются в ядре окружения курса: `make setup` ставит его в .venv
# (`python -m ipykernel install --sys-prefix --name vae-course`). С чужим ядром
# (без numpy/keras) все получили бы 0, а nbgrader всё равно завершился бы с кодом 0.
c.Execute.kernel_name = "vae-course"

# Предел времени на одну ячейку, секунды. Ячейка с обучением на CPU идёт минуты;
# бесконечный цикл прерывается по этому пределу, и работа всё равно оценивается.
# В CI предел короче: GRADING_CELL_TIMEOUT=60.
_timeout = int(os.environ.get("GRADING_CELL_TIMEOUT", "1200"))
c.Execute.timeout = _timeout
c.ExecutePreprocessor.timeout = _timeout  # для `nbgrader validate`

# Если студент удалил ячейку с тестами, при проверке она возвращается из базы
# (по умолчанию nbgrader этого не делает).
c.OverwriteCells.add_missing_cells = True

# Заглушка вместо решения в версии для студентов — по-русски.
c.ClearSolutions.code_stub = {"python": "# ВАШ КОД ЗДЕСЬ\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ВАШ ОТВЕТ ЗДЕСЬ"
