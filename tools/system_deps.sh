#!/usr/bin/env bash
# Системные пакеты, без которых `make test` не проверяет всё: bubblewrap (песочница, в
# которой выполняются работы студентов) и Chromium (браузерные тесты JupyterLab).
# Недостающие ставит apt-get (root или sudo без пароля); если поставить нельзя, сразу
# останавливается и печатает одну команду, которую нужно выполнить, — до любого теста.
# С --check только проверяет, что пакеты есть или их можно поставить (ничего не ставит):
# `make test` проверяет так в самом начале, а ставит параллельно с установкой .venv.
set -euo pipefail
check_only=false
[ "${1:-}" = "--check" ] && check_only=true

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
  || missing+=(chromium)
[ "${#missing[@]}" -eq 0 ] && exit 0

install_cmd="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo="sudo"
else
  echo "Для тестов нужны системные пакеты: ${missing[*]}." >&2
  echo "Поставьте их (нужны права администратора) и запустите make test снова:" >&2
  echo "    sudo apt-get update && sudo $install_cmd" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Для тестов нужны пакеты ${missing[*]}, а apt-get здесь нет: поставьте их" \
       "менеджером пакетов своей системы (bubblewrap — программа bwrap, chromium)." >&2
  exit 1
fi
$check_only && exit 0
echo "== ставлю системные пакеты для тестов: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q "${missing[@]}"
