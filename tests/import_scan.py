"""The package's imports as the code writes them (inside functions too), for the tests of its structure."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports(source: str, package: str) -> list[str]:
    """The modules ``source`` (a module of ``package``) imports, relative ones resolved, at any depth (inside
    functions too); a ``from X import name`` gives both ``X`` and ``X.name`` (``name`` may be a module)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return found


def module_name(path: Path) -> str:
    """``blender_addon/render/jobs.py`` -> ``blender_addon.render.jobs`` (a package's ``__init__`` is the package)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(path: Path) -> str:
    """The package a file's relative imports start from."""
    return ".".join(path.relative_to(ROOT).parts[:-1])


def package_modules(package: str = "blender_addon") -> dict[str, list[str]]:
    """Each module of ``package`` and the modules of ``package`` it imports (existing ones only)."""
    files = {module_name(path): path for path in (ROOT / package).rglob("*.py")}
    return {name: sorted({found for found in imports(path.read_text(encoding="utf-8"), package_of(path))
                          if found in files and found != name})
            for name, path in files.items()}
