# Два главных входа: `make run` (выполнить курс) и `make test` (все проверки); CI запускает обе.
# Обе цели сами создают .venv и ставят проект на чистой машине.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# TensorFlow на CPU берёт память под каждый большой тензор заново, а glibc отдаёт её системе
# и получает снова: на лицах (ноутбук 03) это было 436 тыс. страничных прерываний и 1,05 с
# системного времени на шаг. Одна арена и высокие пороги оставляют память процессу: 18 тыс.
# прерываний и 0,07 с (docs/faces_runs.md). Ядра Jupyter наследуют эти переменные.
export MALLOC_ARENA_MAX ?= 1
export MALLOC_MMAP_THRESHOLD_ ?= 1000000000
export MALLOC_TRIM_THRESHOLD_ ?= 4000000000
# Ноутбуки и задания перечислены в course.toml; Makefile спрашивает о них у его читателя.
MANIFEST = $(BIN)/python -m course_utils.manifest --root $(CURDIR)

.PHONY: setup backends run lab test system-deps system-deps-check lint unit unit-core \
        unit-grading unit-grading-gallery unit-grading-rest unit-backends \
        unit-jax unit-torch nbval test-browser \
        test-backends test-oldest release grade regrade sample-data bench times quality clean set-repo

# --- Установка ---------------------------------------------------------------------------

# Два пакета: course_utils (его ставит и студент) и course_grader из instructor/ — проверка
# заданий преподавателем (песочница, планировщик, оценки, выгрузка в LMS).
$(STAMP): pyproject.toml instructor/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./instructor
	for k in $$($(MANIFEST) kernels); do $(BIN)/python -m ipykernel install --sys-prefix \
	  --name $$k --display-name "Python (VAE course)" || exit 1; done
	touch $(STAMP)

setup: $(STAMP)

# JAX и PyTorch (CPU-сборка torch 2.13.0) в ту же .venv: нужны тестам трёх бэкендов.
BACKENDS_STAMP := $(VENV)/.backends
$(BACKENDS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,jax,torch]' -e ./instructor
	touch $(BACKENDS_STAMP)

backends: $(BACKENDS_STAMP)

# --- Курс --------------------------------------------------------------------------------

# Выполняет все ноутбуки курса (course.toml) на встроенных данных в build/
# (полные эпохи; COURSE_FAST=1 — быстро).
run: setup
	COURSE_DATA=$${COURSE_DATA:-sample} $(BIN)/python tools/run_notebooks.py

lab: setup
	$(BIN)/jupyter lab notebooks

# --- Проверки ----------------------------------------------------------------------------

# Все проверки. Сначала — системные пакеты (bubblewrap для песочницы, Chromium для браузера):
# если их нет и поставить нельзя — остановка до любого теста с командой, что выполнить.
# Недостающие apt-get ставит, пока pip ставит .venv (оба больше ждут сеть и диск, чем
# считают); линтер идёт, пока ставятся бэкенды. Бэкенды
# ставятся до модульных тестов, чтобы тесты переноса моделей между бэкендами и обучения на
# двух устройствах не пропускались. Семь наборов тестов друг от друга не зависят и идут по
# два сразу: поодиночке они большую часть времени ждут подпроцессы (ядра Jupyter, песочницу,
# браузер) и не занимают обоих ядер (docs/benchmarks.md). Вывод набора печатается целиком,
# когда он закончится; самые долгие — первыми. Упавший набор не останавливает остальные
# (--keep-going): за один прогон видны все ошибки. Два набора сразу уже занимают оба ядра, и
# собственные потоки TensorFlow и PyTorch внутри набора только отнимают процессор друг у друга
# (PyTorch тратил на тех же тестах на 28 % больше процессорного времени, TensorFlow — на 12 %):
# каждый процесс тестов считает в один поток (межоперационные потоки TensorFlow остаются —
# их ждёт MirroredStrategy).
TEST_THREADS := OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1
test: system-deps-check
	$(MAKE) -j3 system-deps lint backends
	@echo "== семь наборов тестов, по два сразу: вывод каждого — по его окончании"
	$(TEST_THREADS) $(MAKE) -j2 --keep-going --output-sync=target unit-grading-gallery \
	  unit-core test-browser unit-grading-rest $(BACKEND_UNITS) nbval

system-deps:
	@bash tools/system_deps.sh

system-deps-check:
	@bash tools/system_deps.sh --check

# ruff (правила и единое оформление: `ruff format` исправляет), затем поиск повторяющегося
# кода в обоих пакетах, студента и преподавателя (одно место для каждой идеи).
LINT_PATHS := course_utils instructor tests notebooks grading tools
lint: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/pylint --disable=all --enable=duplicate-code --score=n course_utils instructor/course_grader

PYTEST := $(BIN)/python -m pytest -p no:cacheprovider --durations=15

# Модульные тесты под TensorFlow: проверка заданий (песочница, оценки, семестр) и всё остальное.
GRADING_TESTS := tests/grading tests/test_grading.py
unit: unit-core unit-grading

unit-core: setup
	$(PYTEST) tests --ignore=tests/browser $(addprefix --ignore=,$(GRADING_TESTS))

# Проверка заданий — два набора: галерея работ и атаки (один запуск grade_all, самый долгий
# набор; почти минуту он ждёт зависшие работы, не занимая процессора) и все остальные тесты
# проверки. Порознь make test делит их между двумя потоками.
GALLERY_TESTS := tests/grading/test_grading_suite.py
unit-grading: unit-grading-gallery unit-grading-rest

unit-grading-gallery: setup
	$(PYTEST) $(GALLERY_TESTS)

unit-grading-rest: setup
	$(PYTEST) $(GRADING_TESTS) --ignore=$(GALLERY_TESTS)

# Модульные тесты под JAX и PyTorch, каждый бэкенд в своём процессе (nbgrader и браузер —
# только под TensorFlow: они выполняют ноутбуки в отдельных ядрах). Тесты с пометкой
# backend_free (тексты, инструменты, манифест) от бэкенда не зависят: их хватает под TensorFlow.
OTHER_BACKENDS ?= jax torch
BACKEND_UNITS := $(addprefix unit-,$(OTHER_BACKENDS))
unit-backends: $(BACKEND_UNITS)

$(BACKEND_UNITS): backends
	@echo "== KERAS_BACKEND=$(@:unit-%=%): модульные тесты"
	KERAS_BACKEND=$(@:unit-%=%) $(PYTEST) -q -m "not backend_free" tests --ignore=tests/browser \
	  $(addprefix --ignore=,$(GRADING_TESTS))

# Ноутбуки курса (course.toml) в профиле CI под nbval, как их видит Colab: каждый один в
# пустой папке, пакет курса из wheel в отдельном окружении, без сети (tools/nbval_wheel.py).
# Версии заданий для студентов не решены (raise NotImplementedError), вместо них — эталоны.
NBVAL_PYTHON ?= $(BIN)/python
nbval: setup
	$(NBVAL_PYTHON) tools/nbval_wheel.py

# Те же ноутбуки на месте, в ядре текущего окружения (для других бэкендов в test-backends).
NBVAL := COURSE_FAST=1 COURSE_DATA=sample $(PYTEST) --nbval-lax --nbval-current-env

# Курс глазами студента: каждый ноутбук в JupyterLab в headless Chromium (tests/browser).
# Нужны Chromium и playwright из .[dev] (`make test` ставит Chromium сам); без них тесты пропускаются.
test-browser: setup
	$(PYTEST) tests/browser

# Модульные тесты и ноутбуки на всех трёх бэкендах; на каждом бэкенде выполняются те
# ноутбуки, у которых он указан в course.toml (backends).
test-backends: unit nbval unit-backends
	@for b in $(OTHER_BACKENDS); do echo "== KERAS_BACKEND=$$b: ноутбуки (профиль CI)"; \
	  paths=$$($(MANIFEST) run-list --backend $$b) && KERAS_BACKEND=$$b $(NBVAL) -q $$paths \
	  || exit 1; done

# Самые старые версии, которые разрешает pyproject.toml (Keras и TensorFlow лекции): своё
# окружение .venv-oldest, модульные тесты и ноутбуки в профиле CI. Нужен доступ к PyPI,
# поэтому в `make test` не входит; запускайте перед сменой нижних границ (README).
OLDEST := .venv-oldest
test-oldest: setup
	$(BIN)/python tools/oldest_versions.py > $(OLDEST).constraints
	test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --upgrade pip 'setuptools>=77'
	PIP_CONSTRAINT=$(CURDIR)/$(OLDEST).constraints $(OLDEST)/bin/python -m pip install --quiet \
	  -e '.[dev]' -e ./instructor
	for k in $$($(MANIFEST) kernels); do $(OLDEST)/bin/python -m ipykernel install --sys-prefix \
	  --name $$k --display-name "Python (VAE course)" || exit 1; done
	$(MAKE) unit nbval PYTEST="$(OLDEST)/bin/python -m pytest -p no:cacheprovider" \
	  NBVAL_PYTHON=$(OLDEST)/bin/python

# --- Задания (nbgrader, папка курса grading/, см. grading/README.md) ----------------------
# Задания и пути их версий для студентов — в course.toml ([[assignments]]).
# release — версии для студентов в notebooks/ (nbgrader generate_assignment).
# grade — проверка новых и пересданных работ из grading/submitted/<студент>/<задание>/:
# каждая выполняется в песочнице bubblewrap, баллы ставит отдельный процесс (пакет
# преподавателя course_grader, instructor/); итог — grading/grades.csv, отзывы в
# grading/feedback/ и сводка.
# regrade STUDENT=<id> — перепроверить одну работу; regrade без STUDENT — все.
# ASSIGNMENTS=имя — только одно задание. nbgrader вызывает `alembic` из окружения,
# поэтому .venv/bin — первым в PATH.
ASSIGNMENTS ?= $$($(MANIFEST) assignments)
NBGRADER := cd grading && PATH="$(CURDIR)/$(BIN):$$PATH" ../$(BIN)/python -m nbgrader
GRADING  := PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m course_grader

release: setup
	@set -e; for a in $(ASSIGNMENTS); do \
	  ( $(NBGRADER) generate_assignment $$a --force ); \
	  cp grading/release/$$a/$$($(MANIFEST) assignment $$a notebook) \
	     $$($(MANIFEST) assignment $$a student_version); \
	done

# Сколько работ проверять сразу (JOBS; пусто — по ядрам и памяти машины, 1 — по очереди) и
# где: GRADING_SCHEDULER=tcp://host:8786 — на запущенном кластере Dask, пусто — на этой машине.
grade regrade: export JOBS ?=
grade regrade: export GRADING_SCHEDULER ?=
grade: setup
	@set -e; for a in $(ASSIGNMENTS); do \
	  nb=$$($(MANIFEST) assignment $$a notebook); \
	  ls grading/submitted/*/$$a/$$nb > /dev/null 2>&1 || { echo "Нет работ по заданию $$a: \
	положите их в grading/submitted/<студент>/$$a/$$nb (grading/README.md)."; exit 1; }; \
	  ( $(NBGRADER) generate_assignment $$a --force ); \
	  $(GRADING) --assignment $$a; \
	done

regrade: setup
	@set -e; for a in $(ASSIGNMENTS); do \
	  ( $(NBGRADER) generate_assignment $$a --force ); \
	  $(GRADING) --assignment $$a $(if $(STUDENT),--student $(STUDENT),--all); \
	done

# Семестр (grading/README.md, «Семестр: команда за командой»):
# collect FROM=<архив .zip из Moodle/Canvas или папка> [ASSIGNMENT=имя] — работы в
#   grading/submitted/ (список группы — grading/roster.csv), итог сбора в терминале;
# similarity — отчёт о похожих решениях grading/similarity/<задание>.html (оценок не меняет);
# export LMS=moodle|canvas — оценки со штрафом за опоздание и архив отзывов в grading/export/<lms>/.
.PHONY: collect similarity export
collect: setup
	@test -n "$(FROM)" || { echo "Укажите, откуда брать работы: make collect FROM=<архив.zip или папка>."; exit 2; }
	$(BIN)/python -m course_grader.collect $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) "$(FROM)"

similarity: setup
	@set -e; for a in $(ASSIGNMENTS); do $(BIN)/python -m course_grader.similarity --assignment $$a; done

export: setup
	@test -n "$(LMS)" || { echo "Укажите LMS: make export LMS=moodle или make export LMS=canvas."; exit 2; }
	@set -e; for a in $(ASSIGNMENTS); do \
	  $(BIN)/python -m course_grader.export --assignment $$a --lms "$(LMS)" \
	    $(if $(CANVAS_ASSIGNMENT_ID),--canvas-assignment-id "$(CANVAS_ASSIGNMENT_ID)"); \
	done

# --- Встроенные данные ---------------------------------------------------------------------
# data/ заново из официальных файлов (SAMPLE_SOURCE — папка в раскладке COURSE_DATA=<папка>);
# результат совпадает байт в байт с контрольными суммами реестра course_utils/data.py.
SAMPLE_SOURCE ?= ../shared/datasets
sample-data: setup
	$(BIN)/python tools/make_sample_data.py --source $(SAMPLE_SOURCE)

# --- Замеры скорости (docs/benchmarks.md) ------------------------------------------------

TTQ_OUT := --json docs/time_to_quality.json --markdown docs/benchmarks.md
bench: backends
	$(BIN)/python tools/bench/run_bench.py
	$(BIN)/python tools/bench/grading_bench.py  # проверка работ: 1, 2, N исполнителей, стоимость курса
	# Время до качества, рецепты учатся по очереди эпоха за эпохой (docs/benchmarks.md, раздел 7):
	# эталон задания на CIFAR-10 (около получаса), затем VAE лиц — прежний и нынешний рецепты
	# ноутбука 03 (на 2 ядрах CPU — несколько часов).
	$(BIN)/python tools/bench/time_to_quality.py --task cifar $(TTQ_OUT)
	$(BIN)/python tools/bench/time_to_quality.py --task faces --full-baseline $(TTQ_OUT)

# Время каждого ноутбука на встроенных данных в обоих профилях -> docs/run_times.json и
# таблица в README (tools/readme_times.py). Полный профиль — как make run (около часа на 2 ядрах).
times: setup
	COURSE_DATA=sample COURSE_FAST=1 $(BIN)/python tools/run_notebooks.py --build-dir build/fast \
	  --record docs/run_times.json
	COURSE_DATA=sample $(BIN)/python tools/run_notebooks.py --record docs/run_times.json
	$(BIN)/python tools/readme_times.py

# Качество моделей в полных профилях -> docs/quality.md (+ .json). Долго: на 2 ядрах CPU —
# больше часа; QUALITY_ARGS="--parts faces" выбирает части (см. tools/quality.py).
quality: setup
	$(BIN)/python tools/quality.py $(QUALITY_ARGS)

clean:
	rm -rf build

# Адрес репозитория курса (для своей копии или форка) во всех значках Colab и ячейках
# установки: make set-repo URL=https://github.com/<владелец>/<имя>
set-repo:
	@test -n "$(URL)" || { echo "Укажите адрес: make set-repo URL=https://github.com/<владелец>/<имя>"; exit 1; }
	$(PYTHON) tools/set_repo.py "$(URL)"

