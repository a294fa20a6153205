"""Настройки nbgrader для задания курса (папка курса — эта папка, ``grading/``).

nbgrader здесь выдаёт задание (``make release``: версия для студентов без решений) и
хранит базу оценок. Работы студентов выполняет и оценивает не nbgrader, а пакет
преподавателя ``course_grader`` из ``instructor/`` (песочница и отдельная проверка, см.
README.md): его пределы задают переменные GRADING_CELL_TIMEOUT, GRADING_MEMORY_MB,
GRADING_MAX_PIDS.
"""

import os

c = get_config()  # noqa: F821 — get_config подставляет сам nbgrader

# Папка курса — та, где лежит этот файл, откуда бы ни запускали nbgrader.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "vae-course-keras3"

# Заглушка вместо решения в версии для студентов — по-русски.
c.ClearSolutions.code_stub = {"python": "# ВАШ КОД ЗДЕСЬ\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ВАШ ОТВЕТ ЗДЕСЬ"
