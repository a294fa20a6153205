# Два главных входа: `make run` (выполнить курс) и `make test` (все проверки).
# Обе цели сами создают .venv и ставят проект на чистой машине.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := vae-course

.PHONY: setup run test lab lint unit nbval clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (VAE course)"
	touch $(STAMP)

setup: $(STAMP)

lint: setup
	$(BIN)/ruff check course_utils tests notebooks grading bench

unit: setup
	$(BIN)/python -m pytest -p no:cacheprovider tests --ignore=tests/browser

# Версия задания для студентов не решена (raise NotImplementedError): вместо неё
# выполняется эталонное решение из grading/source.
STUDENT_VERSION := notebooks/04_assignment_cifar10_vae.ipynb
REFERENCE := grading/source/cifar10_vae/cifar10_vae.ipynb
nbval: setup
	COURSE_FAST=1 COURSE_DATA=sample $(BIN)/python -m pytest --nbval-lax --nbval-current-env \
	  -p no:cacheprovider notebooks $(REFERENCE) --ignore=$(STUDENT_VERSION)


# Выполняет все ноутбуки на встроенных данных (полные эпохи; COURSE_FAST=1 — быстро).
run: setup
	COURSE_DATA=$${COURSE_DATA:-sample} $(BIN)/python -m course_utils.run_notebooks

lab: setup
	$(BIN)/jupyter lab notebooks

clean:
	rm -rf build

# Задание по теме №2 (nbgrader, папка курса grading/, см. grading/README.md).
# release — версия для студентов в notebooks/; grade — проверка работ из
# grading/submitted/<студент>/cifar10_vae/, отзывы (grading/feedback/) и grading/grades.csv.
# nbgrader вызывает `alembic` из окружения, поэтому .venv/bin — первым в PATH.
NBGRADER := cd grading && PATH="$(CURDIR)/$(BIN):$$PATH" ../$(BIN)/python -m nbgrader
.PHONY: release grade

release: setup
	$(NBGRADER) generate_assignment cifar10_vae --force
	cp grading/release/cifar10_vae/cifar10_vae.ipynb notebooks/04_assignment_cifar10_vae.ipynb

grade: setup
	@ls grading/submitted/*/cifar10_vae/cifar10_vae.ipynb > /dev/null 2>&1 || { echo "Нет работ: \
	положите их в grading/submitted/<студент>/cifar10_vae/cifar10_vae.ipynb (grading/README.md)."; exit 1; }
	$(NBGRADER) generate_assignment cifar10_vae --force
	$(NBGRADER) autograde cifar10_vae
	$(NBGRADER) generate_feedback cifar10_vae --force
	$(NBGRADER) export

# Курс глазами студента: каждый ноутбук в JupyterLab в headless Chromium (tests/browser).
# Нужны Chromium (apt-get install chromium) и playwright из .[dev]; без них тесты пропускаются.
.PHONY: test-browser
test-browser: setup
	$(BIN)/python -m pytest -p no:cacheprovider tests/browser

# Три бэкенда Keras. Ставим jax и torch (CPU-сборка) в ту же .venv.
# unit-backends: юнит-тесты под JAX и PyTorch, каждый бэкенд в своём процессе (без браузера
# и nbgrader); test-backends: юнит-тесты и ноутбуки в профиле CI под всеми тремя бэкендами
# (02 учит tf.GradientTape и под JAX/PyTorch пропускается); bench: замеры в docs/benchmarks.*.
BACKENDS_STAMP := $(VENV)/.backends
OTHER_BACKENDS ?= jax torch
BACKEND_UNIT := $(BIN)/python -m pytest -p no:cacheprovider -q --ignore=tests/browser --ignore=tests/test_grading.py tests
BACKEND_NBVAL := COURSE_FAST=1 COURSE_DATA=sample $(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider -q notebooks --ignore=notebooks/02_vae_fashion_mnist.ipynb
.PHONY: backends unit-backends test-backends bench

$(BACKENDS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,jax,torch]'
	touch $(BACKENDS_STAMP)

backends: $(BACKENDS_STAMP)

unit-backends: backends
	@for b in $(OTHER_BACKENDS); do echo "== KERAS_BACKEND=$$b: unit tests"; \
	  KERAS_BACKEND=$$b $(BACKEND_UNIT) || exit 1; done

test-backends: unit nbval unit-backends
	@for b in $(OTHER_BACKENDS); do echo "== KERAS_BACKEND=$$b: notebooks (CI profile)"; \
	  KERAS_BACKEND=$$b $(BACKEND_NBVAL) || exit 1; done

bench: backends
	$(BIN)/python bench/run_bench.py

# Все проверки (CI запускает ровно эту цель): быстрые — первыми.
test: lint unit unit-backends nbval test-browser
