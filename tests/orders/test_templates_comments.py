"""Django's {# #} comments end at the line's end: one that spans lines is printed on the page as text."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_template_opens_a_one_line_comment_it_does_not_close_on_that_line():
    unclosed = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in ROOT.glob("**/templates/**/*.html")
        if ".venv" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\{#(?!.*#\})", line)
    ]
    assert unclosed == []
