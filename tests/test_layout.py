"""The layout's rules (docs/architecture.md), read from the source: dependencies point down
(tools -> cli -> engine, benchmarks -> checkpoint -> models, datasets, visualization -> utils ->
config; engine -> tracking -> utils), models import no weights code, the engine or the command
lines, the package's ``__init__`` imports nothing of it (importing the package loads no torch),
nothing edits sys.path, modules stay small, the scripts in tools/ are thin and tests import the
package, never a tool file."""

import ast
import os
import subprocess
import sys

import pytest

from helpers import REPO_ROOT

PACKAGE = os.path.join(REPO_ROOT, "timesformer")
MAX_MODULE_LINES = 400
MAX_ENTRY_SCRIPT_CODE_LINES = 40

# What each layer of the package may import from the package (besides itself).
ALLOWED_IMPORTS = {
    "config": set(),
    "utils": {"config"},
    "models": {"config", "utils"},
    "datasets": {"config", "utils"},
    "visualization": {"config", "utils", "models", "tracking"},
    "checkpoint": {"config", "utils", "models"},
    "tracking": {"config", "utils"},
    "engine": {"config", "utils", "models", "datasets", "visualization", "checkpoint", "tracking"},
    "benchmarks": {"config", "utils", "models", "datasets", "checkpoint"},
    "cli": {
        "config",
        "utils",
        "models",
        "datasets",
        "visualization",
        "checkpoint",
        "tracking",
        "engine",
        "benchmarks",
    },
    "__main__.py": {"cli"},  # python -m timesformer: the timesformer command
}

BOTTOM_MODULES = {"errors"}
"""Modules below every layer (``timesformer/errors.py``, the error family): every layer may import
them, and they import nothing of the package."""

ORIGINAL_API_IMPORTS = {
    ("models/vit.py", "checkpoint"),  # TimeSformer(pretrained_model=...), the original's class
}
"""Upward imports the original's public API needs, function-local: (module, layer it imports)."""


def _python_files(*folders: str) -> list[str]:
    files = []
    for folder in folders:
        for root, _, names in os.walk(os.path.join(REPO_ROOT, folder)):
            files += [os.path.join(root, name) for name in names if name.endswith(".py")]
    return sorted(files)


def _parse(path: str) -> ast.Module:
    with open(path, encoding="utf-8") as stream:
        return ast.parse(stream.read(), filename=path)


def _imported_modules(tree: ast.Module) -> set[str]:
    """Every module an import statement names, at any depth (function-local imports included)."""
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules |= {f"{node.module}.{alias.name}" for alias in node.names}
    return modules


def _layer(path: str) -> str:
    return os.path.relpath(path, PACKAGE).split(os.sep)[0]


@pytest.mark.parametrize(
    "path", _python_files("timesformer"), ids=lambda p: os.path.relpath(p, REPO_ROOT)
)
def test_package_imports_point_down(path):
    layer = _layer(path)
    if layer.removesuffix(".py") in BOTTOM_MODULES:
        assert not any(
            module.startswith("timesformer") for module in _imported_modules(_parse(path))
        )
        return
    if layer not in ALLOWED_IMPORTS:  # timesformer/__init__.py
        return
    used = {
        module.split(".")[1]
        for module in _imported_modules(_parse(path))
        if module.startswith("timesformer.") and module.count(".") >= 1
    }
    module = os.path.relpath(path, PACKAGE)
    used -= {imported for source, imported in ORIGINAL_API_IMPORTS if source == module}
    used -= BOTTOM_MODULES
    assert used - {layer} <= ALLOWED_IMPORTS[layer], f"{layer} imports {sorted(used - {layer})}"


def test_the_package_init_imports_nothing_of_the_package():
    tree = _parse(os.path.join(PACKAGE, "__init__.py"))
    relative = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    assert not any(module.startswith("timesformer") for module in _imported_modules(tree))
    assert relative == []  # ``from . import x``


def test_importing_the_package_imports_no_torch():
    code = "import sys, timesformer; print(sorted({'torch', 'numpy'} & set(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "path", _python_files("timesformer/models"), ids=lambda p: os.path.relpath(p, REPO_ROOT)
)
def test_models_import_no_checkpoint_engine_or_cli(path):
    """The network's layer: no weights code (but the original's one function-local import, see
    ORIGINAL_API_IMPORTS), no loop, no command line, at any depth."""
    module = os.path.relpath(path, PACKAGE)
    allowed = {imported for source, imported in ORIGINAL_API_IMPORTS if source == module}
    used = {
        name.split(".")[1]
        for name in _imported_modules(_parse(path))
        if name.startswith("timesformer.") and name.split(".")[1] in {"checkpoint", "engine", "cli"}
    }
    assert used <= allowed, f"{module} imports {sorted(used - allowed)}"


def _edits_sys_path(node: ast.AST) -> bool:
    """``sys.path.insert(...)`` (any method), ``sys.path = ...``, ``sys.path += ...``,
    ``monkeypatch.setattr(sys, "path", ...)`` or ``monkeypatch.syspath_prepend(...)``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if ast.unparse(node.func.value) == "sys.path" or node.func.attr == "syspath_prepend":
            return True
        arguments = [ast.unparse(argument) for argument in node.args[:2]]
        return node.func.attr == "setattr" and arguments == ["sys", "'path'"]
    if isinstance(node, (ast.Assign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(ast.unparse(target) == "sys.path" for target in targets)
    return False


def test_nothing_edits_sys_path():
    offenders = [
        f"{os.path.relpath(path, REPO_ROOT)}:{node.lineno}"
        for path in _python_files("timesformer", "tools", "tests")
        for node in ast.walk(_parse(path))
        if _edits_sys_path(node)
    ]
    assert offenders == []


def test_the_package_imports_no_tool():
    for path in _python_files("timesformer"):
        assert not any(
            module.split(".")[0] == "tools" for module in _imported_modules(_parse(path))
        ), path


@pytest.mark.parametrize(
    "path", _python_files("timesformer"), ids=lambda p: os.path.relpath(p, REPO_ROOT)
)
def test_modules_stay_small(path):
    with open(path, encoding="utf-8") as stream:
        assert sum(1 for _ in stream) <= MAX_MODULE_LINES


@pytest.mark.parametrize(
    "script",
    sorted(name for name in os.listdir(os.path.join(REPO_ROOT, "tools")) if name.endswith(".py")),
)
def test_entry_scripts_are_thin(script):
    tree = _parse(os.path.join(REPO_ROOT, "tools", script))
    body = tree.body[1:] if ast.get_docstring(tree) else tree.body
    code_lines = set()
    for statement in body:
        code_lines |= set(range(statement.lineno, statement.end_lineno + 1))
    assert len(code_lines) <= MAX_ENTRY_SCRIPT_CODE_LINES


def test_every_package_module_has_a_layer_rule():
    layers = {_layer(path) for path in _python_files("timesformer")} - {"__init__.py"}
    layers -= {f"{module}.py" for module in BOTTOM_MODULES}
    assert layers <= set(ALLOWED_IMPORTS), sorted(layers - set(ALLOWED_IMPORTS))


def test_tests_import_the_package_not_tool_files():
    """Tests run the tools' code from timesformer.cli (or run a script as a command); none loads
    a file of tools/ as a module."""
    offenders = []
    for path in _python_files("tests"):
        tree = _parse(path)
        for node in ast.walk(tree):
            text = ast.unparse(node) if isinstance(node, ast.Call) else ""
            if "spec_from_file_location" in text or "run_path" in text:
                offenders.append(f"{os.path.relpath(path, REPO_ROOT)}:{node.lineno}")
        assert "tools" not in {module.split(".")[0] for module in _imported_modules(tree)}, path
    assert offenders == []
