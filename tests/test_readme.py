"""The README's golden-model example runs as written and prints what its comments say."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_golden_example_prints_what_the_comments_say():
    (block,) = python_blocks()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, str(README), "exec"), {})
    expected = [line.split("# ", 1)[1].split("  (")[0].strip()
                for line in block.splitlines() if line.startswith("print(")]
    assert [line.strip() for line in printed.getvalue().splitlines()] == expected
