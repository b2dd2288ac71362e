"""Render ``docs/api.md`` from the docstrings of ``infotheory``'s public names.

    python docs/make_api.py            # rewrite docs/api.md
    python docs/make_api.py --check    # exit 1 if docs/api.md is out of date

Every example in those docstrings is run by ``tests/test_doctests.py``.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

import infotheory

API_MD = Path(__file__).with_name("api.md")


def render() -> str:
    out = [
        "# API reference: `infotheory`",
        "",
        "Generated from the docstrings by `python docs/make_api.py`; every `>>>` example",
        "below is run by the test suite. Information quantities are in bits unless `base=`",
        "says otherwise; see `docs/theory.md` for the equations and conventions.",
        "",
    ]
    for name in sorted(infotheory.__all__, key=str.lower):
        obj = getattr(infotheory, name)
        if inspect.ismodule(obj):
            kind, sig = "module", ""
        elif inspect.isclass(obj):
            kind = "class"
            try:
                sig = str(inspect.signature(obj))
            except (TypeError, ValueError):
                sig = ""
        elif callable(obj):
            kind, sig = "function", str(inspect.signature(obj))
        else:
            continue
        doc = inspect.getdoc(obj) or "(no docstring)"
        out += [f"## `{name}` ({kind})", ""]
        if sig and len(sig) < 400:
            out += ["```python", f"{name}{sig}", "```", ""]
        out += ["```text", doc, "```", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that api.md is current")
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        current = API_MD.read_text(encoding="utf-8") if API_MD.exists() else ""
        if current != text:
            print("docs/api.md is out of date: run python docs/make_api.py", file=sys.stderr)
            return 1
        return 0
    API_MD.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
