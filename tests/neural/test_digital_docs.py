"""docs/digital-baselines.md: its example prints what the page says; docstring examples of neural.digital run."""

import contextlib
import doctest
import importlib
import io
import pkgutil
import re
from pathlib import Path

import pytest
from PIL import __version__ as pillow_version
from PIL import features

import neural.digital

DOC = Path(__file__).resolve().parents[2] / "docs" / "digital-baselines.md"
# the versions the documented output was produced with: coded sizes depend on the codec libraries
DOC_VERSIONS = ("13.0.0", "3.2.0", "2.5.4")  # Pillow, libjpeg-turbo, OpenJPEG


def _example_blocks() -> tuple[str, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("\n## Example\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    output = re.search(r"```text\n(.*?)```", section, re.DOTALL).group(1)
    return code, output


def test_doc_example_prints_documented_output():
    versions = (pillow_version, features.version("libjpeg_turbo"), features.version("jpg_2000"))
    if versions != DOC_VERSIONS:
        pytest.skip(
            f"documented output was produced with Pillow/libjpeg-turbo/OpenJPEG {DOC_VERSIONS}, not {versions}"
        )
    code, expected = _example_blocks()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {"__name__": "__doc_example__"})  # noqa: S102 - our own doc
    assert out.getvalue() == expected


@pytest.mark.parametrize(
    "name", sorted(m.name for m in pkgutil.iter_modules(neural.digital.__path__, "neural.digital."))
)
def test_docstring_examples(name):
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
