"""Обезвреживание всего, что уходит из проверки к людям: CSV, HTML, терминал, имена файлов.

Имя студента, имя файла, код и вывод работы — недоверенные строки. Здесь одно место, где
они становятся безопасными для того, кто откроет результат:

* :func:`csv_cell` — ячейка CSV не начинается с ``= + - @``, табуляции или CR (правило OWASP
  «CSV Injection»): такую ячейку Excel, LibreOffice и Google Таблицы считают формулой; и
  управляющих символов в ней нет (кроме перевода строки): ``cat grades.csv`` их не исполнит;
* :func:`clean_html` — фрагмент HTML через санитайзер Ammonia (пакет ``nh3``): без скриптов,
  обработчиков событий, ``<iframe>``, ``<form>``, ``javascript:``-ссылок;
* :func:`html_page` — страница с метатегом Content-Security-Policy, который запрещает любые
  скрипты и внешние загрузки (второй рубеж, если санитайзер что-то пропустит);
* :func:`terminal` — управляющие символы (ESC-последовательности, CR, BEL, переворот
  направления текста) показываются как ``\\x1b``, ``\\u202e`` и не действуют на терминал;
* :func:`file_component` — имя файла или папки из недоверенной строки: без ``/``, ``..``,
  управляющих символов и с ограниченной длиной.
"""

from __future__ import annotations

import csv
import html
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import nh3

#: Первые символы, с которых табличные программы начинают формулу (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Политика для всех страниц, что пишет проверка: ни скриптов, ни внешних загрузок, ни форм;
#: стили — только встроенные, картинки — только ``data:`` (рисунки выполненного ноутбука).
CSP = (
    "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-src 'none'; style-src 'unsafe-inline'; img-src data:"
)

#: Теги, которые остаются в очищенном HTML (таблицы отзыва, вывод ноутбука, код).
_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
_ATTRIBUTES = {
    "*": {"class", "title", "id"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
#: ``data:`` — только для картинок (рисунки ноутбука), ссылки — только http(s) и якоря.
_URL_SCHEMES = {"http", "https", "data"}


def csv_cell(value: object) -> str:
    """Значение для ячейки CSV: строка, которую табличная программа не примет за формулу.

    Числа (``int``, ``float``) пишутся как есть (``-1`` остаётся числом); строка, которая
    начинается с ``= + - @``, табуляции или CR, получает спереди апостроф ``'``: её видно
    как текст, а формула не вычисляется. Управляющие символы, кроме перевода строки,
    записываются видимо, как в :func:`terminal`. ``None`` — пустая ячейка.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = str(value)
    if text.startswith(FORMULA_START):
        text = "'" + text
    # Перевод строки в ячейке законен (многострочный отзыв); остальные управляющие символы
    # видны как \x1b, \u202e — так CSV безопасно и читать в терминале.
    return "".join(ch if ch == "\n" or not _is_control(ch) else _visible(ch) for ch in text)


def write_csv(path: Path, header: Iterable[object], rows: Iterable[Iterable[object]]) -> None:
    """CSV в UTF-8 с обезвреженными ячейками (и заголовка тоже: в нём бывают имена заданий)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([csv_cell(v) for v in header])
        writer.writerows([csv_cell(v) for v in row] for row in rows)


def text(value: object) -> str:
    """Недоверенная строка как текст внутри HTML (``<``, ``&``, кавычки экранированы)."""
    return html.escape("" if value is None else str(value), quote=True)


def clean_html(fragment: str) -> str:
    """Фрагмент HTML без активного содержимого (санитайзер Ammonia, белый список тегов).

    Содержимое ``<script>`` и ``<style>`` удаляется целиком; у ссылок остаются только
    http(s) и якоря, у картинок — ещё ``data:``; атрибуты ``on*`` и ``style`` убираются.
    """

    def keep_url(tag: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src") and value.lower().startswith("data:"):
            return value if tag == "img" and value.lower().startswith("data:image/") else None
        return value

    return nh3.clean(
        fragment,
        tags=_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        attribute_filter=keep_url,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def html_page(title: str, body: str, style: str = "") -> str:
    """Страница с CSP, запрещающей скрипты. ``body`` должен быть уже безопасным HTML.

    ``style`` — CSS проверяющего (не студента): ``<`` в нём не допускается.
    """
    if "<" in style:
        raise ValueError("Стиль страницы не должен содержать '<': это CSS проверяющего.")
    return (
        "<!DOCTYPE html>\n<html lang='ru'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<meta name='referrer' content='no-referrer'><title>{text(title)}</title>"
        f"<style>{style}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def terminal(value: object) -> str:
    """Строка для вывода в терминал: управляющие символы видны как ``\\x1b``, ``\\u202e``.

    Экранируются символы категорий Unicode Cc (ESC, CR, BEL, перевод строки…) и Cf
    (переворот направления текста, невидимые разделители), Zl и Zp (разрывы строк);
    сама ``\\`` удваивается, чтобы запись читалась однозначно.
    """
    out = []
    for ch in "" if value is None else str(value):
        if ch == "\\":
            out.append("\\\\")
        elif _is_control(ch):
            out.append(_visible(ch))
        else:
            out.append(ch)
    return "".join(out)


def _is_control(ch: str) -> bool:
    """Управляющий или невидимый символ: Unicode Cc, Cf, Zl, Zp."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def _visible(ch: str) -> str:
    """Видимая запись символа: ``\\x1b``, ``\\u202e``."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_UNSAFE_FILE_CHARS = re.compile(r"[^\w.\- ]+")


def file_component(value: object, fallback: str = "_", max_length: int = 80) -> str:
    """Одна часть пути (имя файла или папки) из недоверенной строки.

    Оставляет буквы (любого алфавита, NFC), цифры, ``_ - . пробел``; всё остальное —
    ``_``; ведущие точки и пробелы убираются (нет ``..`` и скрытых файлов), длина — не
    больше ``max_length``. Пустой результат — ``fallback``.
    """
    name = unicodedata.normalize("NFC", "" if value is None else str(value))
    name = "".join(ch if unicodedata.category(ch)[0] != "C" else "_" for ch in name)
    name = _UNSAFE_FILE_CHARS.sub("_", name).strip(" .")[:max_length].rstrip(" .")
    return name or fallback
