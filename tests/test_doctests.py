"""Every example in the docstrings of ``infotheory`` runs and prints what it says."""

import doctest
import importlib
import pkgutil

import pytest

import infotheory

MODULES = sorted(
    m.name
    for m in pkgutil.iter_modules(infotheory.__path__, "infotheory.")
    if m.name != "infotheory.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
