"""Every public name of ``eisfit`` is what its docs say, whatever was imported first.

The names are exported lazily from ``eisfit/__init__.py``. A submodule with the same name as
an export (``eisfit/zhit.py`` beside ``eisfit.zhit``) would replace the function with the module
as soon as anything imports it; no export may share its name with a module of the package.
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import eisfit


def test_no_export_is_shadowed_by_a_module():
    modules = {m.name.rsplit(".", 1)[-1] for m in pkgutil.iter_modules(eisfit.__path__)}
    assert not modules & set(eisfit.__all__)


def test_exports_resolve_after_every_module_is_imported():
    for m in pkgutil.walk_packages(eisfit.__path__, "eisfit."):
        importlib.import_module(m.name)
    for name in eisfit.__all__:
        value = getattr(eisfit, name)
        assert not isinstance(value, types.ModuleType), f"eisfit.{name} is a module"
    assert callable(eisfit.arrhenius) and callable(eisfit.zhit) and callable(eisfit.brick_layer)
