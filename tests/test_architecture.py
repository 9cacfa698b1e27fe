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


#: A run's state: its status, its claim, its provider id and its delivery.
RUN_STATE_FIELDS = {"status", "claimed_at", "provider_run_id", "delivery"}


def run_state_writers(package: str) -> dict[str, list[int]]:
    """Lines that UPDATE a run's state fields through ``Run.objects`` (any chain)."""
    found: dict[str, list[int]] = {}
    for path in (ROOT / package).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "update" or not {k.arg for k in node.keywords} & RUN_STATE_FIELDS:
                continue
            root = node.func.value
            while isinstance(root, ast.Call | ast.Attribute):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name) and root.id == "Run":
                found.setdefault(str(path.relative_to(ROOT)), []).append(node.lineno)
    return found


def test_only_the_transitions_module_moves_a_run() -> None:
    """One state machine: claim, release, attach, finish and delivery are written in one file."""
    writers = {**run_state_writers("seedance"), **run_state_writers("billing")}
    assert set(writers) == {"seedance/transitions.py"}


def test_tenancy_imports_no_model_at_run_time() -> None:
    """The tenant seam is a queryset only, so models import it and it never imports them."""
    tree = ast.parse((ROOT / "seedance" / "tenancy.py").read_text())
    runtime_imports = [
        node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("seedance")
    ]
    assert runtime_imports == []
