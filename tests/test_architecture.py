"""The dependency points one way: billing listens to seedance, seedance never imports it."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_seedance_never_imports_billing() -> None:
    offenders = {
        path: sorted(name for name in names if name == "billing" or name.startswith("billing."))
        for path, names in imported_modules("seedance").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_sandbox_and_the_stripe_fake_touch_no_models() -> None:
    """Stand-ins for outside services must not reach into our database."""
    for package in ("seedance/sandbox", "billing/stripe_fake"):
        for path, names in imported_modules(package).items():
            assert not any(".models." in f"{name}." for name in names), path


def test_seedance_templates_name_no_billing_url() -> None:
    """seedance's pages reach billing only through the portal's extension point."""
    url_tag = re.compile(r"""\{%\s*url\s+["'](?P<name>[\w:-]+)["']""")
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in (ROOT / "seedance" / "templates").rglob("*.html")
        if (
            names := [
                match["name"]
                for match in url_tag.finditer(path.read_text())
                if match["name"].split(":")[0].startswith("billing")
            ]
        )
    }
    assert offenders == {}
