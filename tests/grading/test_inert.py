"""Обезвреживание строк работы: CSV без формул, HTML без скриптов, терминал без ESC."""

import csv
import unicodedata

import pytest

from course_grader import inert


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "=1"],
)
def test_csv_cell_neutralises_formula_starts(value):
    cell = inert.csv_cell(value)
    assert cell == "'" + value
    assert not cell.startswith(inert.FORMULA_START)


@pytest.mark.parametrize(("value", "cell"), [("\tx", "'\\x09x"), ("\r=1", "'\\x0d=1")])
def test_csv_cell_tab_and_cr_starts_become_visible_text(value, cell):
    assert inert.csv_cell(value) == cell


def test_csv_cell_shows_control_characters_but_keeps_newlines():
    attack = "s1\x1b[2K\r10/10 \u202eгрыз\x07\nвторая строка"
    cell = inert.csv_cell(attack)
    assert cell == "s1\\x1b[2K\\x0d10/10 \\u202eгрыз\\x07\nвторая строка"
    assert all(unicodedata.category(ch)[0] != "C" for ch in cell.replace("\n", ""))


@pytest.mark.parametrize("value", ["Иванов Иван", "a=1", "12345", "", "x-y"])
def test_csv_cell_keeps_plain_text(value):
    assert inert.csv_cell(value) == value


def test_csv_cell_keeps_numbers_numeric():
    assert inert.csv_cell(-1) == "-1"
    assert inert.csv_cell(7.5) == "7.5"
    assert inert.csv_cell(None) == ""


def test_write_csv_round_trip(tmp_path):
    path = tmp_path / "x.csv"
    inert.write_csv(
        path,
        ["имя", "=bad"],
        [["=cmd|' /C calc'!A0", 3.0], ['Пётр, "П"\nвторая', 1], ["\x1b]0;x\x07", "a\\b"]],
    )
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    assert rows == [
        ["имя", "'=bad"],
        ["'=cmd|' /C calc'!A0", "3"],
        ['Пётр, "П"\nвторая', "1"],
        ["\\x1b]0;x\\x07", "a\\b"],
    ]
    assert "\x1b" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<a href='javascript:alert(1)'>x</a>",
        "<iframe src='http://evil'></iframe>",
        "<svg onload=alert(1)></svg>",
        "<form action='http://evil'><input></form>",
        "<img src='data:text/html,<script>alert(1)</script>'>",
        "<a href='data:text/html,x'>x</a>",
        "<style>body{background:url(http://evil)}</style>",
        "<p style='background:url(http://evil)'>x</p>",
    ],
)
def test_clean_html_removes_active_content(attack):
    cleaned = inert.clean_html(f"<p>до</p>{attack}<p>после</p>").lower()
    for bad in ("<script", "onerror", "onload", "javascript:", "<iframe", "<form", "<svg"):
        assert bad not in cleaned
    assert "data:text" not in cleaned
    assert "http://evil" not in cleaned
    assert "<p>до</p>" in cleaned and "<p>после</p>" in cleaned


def test_clean_html_keeps_tables_code_and_inline_images():
    fragment = (
        "<table><tr><td>1</td></tr></table><pre><code>x = 1</code></pre>"
        "<img src='data:image/png;base64,iVBORw0KGgo=' alt='рис'>"
    )
    cleaned = inert.clean_html(fragment)
    assert "<table>" in cleaned and "<pre><code>x = 1</code></pre>" in cleaned
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in cleaned


def test_html_page_has_csp_forbidding_scripts_and_escapes_title():
    page = inert.html_page("<b>имя</b>", "<p>x</p>")
    assert "Content-Security-Policy" in page and "script-src 'none'" in page
    assert "<title>&lt;b&gt;имя&lt;/b&gt;</title>" in page
    with pytest.raises(ValueError, match="CSS"):
        inert.html_page("t", "", style="</style><script>")


def test_text_escapes_markup():
    assert inert.text("<img src=x onerror=alert(1)>&\"'") == (
        "&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#x27;"
    )


def test_terminal_escapes_control_characters():
    shown = inert.terminal("a\x1b[2J\rb\x07\u202ec\\d\n")
    assert shown == "a\\x1b[2J\\x0db\\x07\\u202ec\\\\d\\x0a"
    assert all(ch.isprintable() for ch in shown)
    assert inert.terminal("Иванов Иван") == "Иванов Иван"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..", "_"),
        ("", "_"),
        (".hidden", "hidden"),
        ("a/b\\c\x00d", "a_b_c_d"),
        ("Иван Петров_12345", "Иван Петров_12345"),
    ],
)
def test_file_component_never_leaves_the_folder(name, expected):
    assert inert.file_component(name) == expected


def test_file_component_limits_length():
    assert len(inert.file_component("я" * 500)) == 80
