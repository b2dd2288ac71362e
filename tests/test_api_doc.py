"""docs/api.md is the rendering of the current docstrings (golden file)."""

import importlib.util
from pathlib import Path

MAKE_API = Path(__file__).resolve().parents[1] / "docs" / "make_api.py"


def test_api_md_is_up_to_date():
    spec = importlib.util.spec_from_file_location("make_api", MAKE_API)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.API_MD.read_text(encoding="utf-8") == mod.render(), (
        "docs/api.md is out of date: run python docs/make_api.py"
    )
