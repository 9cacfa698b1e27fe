"""The client stands alone: the standard library, httpx and standardwebhooks, nothing else.

Tenant apps install it without Django, and a server import would tie its releases to ours.
"""

import ast
import sys
from pathlib import Path

import seedance_client

PACKAGE = Path(seedance_client.__file__).parent
ALLOWED = {"httpx", "standardwebhooks", "seedance_client"}


def test_the_package_imports_only_the_standard_library_httpx_and_standardwebhooks() -> None:
    imported: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = {node.module}
            else:
                continue
            tops = {name.split(".")[0] for name in names}
            outside = tops - ALLOWED - sys.stdlib_module_names
            if outside:
                imported.setdefault(path.name, set()).update(outside)
    assert imported == {}
