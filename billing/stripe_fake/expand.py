"""``expand[]``: replace an id in an answer by the object it names, as Stripe does.

Paths are dotted (``setup_intent.payment_method``); a list answer's paths start with
``data.``. The table is chosen by the id's prefix, so one helper serves every endpoint.
"""

import copy
from typing import Any

from .forms import as_list, invalid
from .store import Store

PREFIXES = {
    "cus_": "customers",
    "seti_": "setup_intents",
    "pm_": "payment_methods",
    "bpc_": "portal_configurations",
    "sub_": "subscriptions",
    "in_": "invoices",
}
MAX_DEPTH = 4


def expanded(store: Store, obj: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` with every path in ``params['expand']`` expanded."""
    paths = [str(path) for path in as_list(params, "expand")]
    if not paths:
        return obj
    result = copy.deepcopy(obj)
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise invalid(
                f"You cannot expand more than {MAX_DEPTH} levels of a property.", param="expand"
            )
        _expand(store, result, parts, path)
    return result


def _expand(store: Store, node: Any, parts: list[str], path: str) -> None:
    if isinstance(node, dict) and node.get("object") == "list" and parts[0] == "data":
        for item in node["data"]:
            _expand(store, item, parts[1:], path)
        return
    if not isinstance(node, dict) or parts[0] not in node:
        raise invalid(f"This property cannot be expanded ({path}).", param="expand")
    name, rest = parts[0], parts[1:]
    value = node[name]
    if isinstance(value, str):
        value = node[name] = _lookup(store, value) or value
    if rest and isinstance(value, dict):
        _expand(store, value, rest, path)
    elif rest and value is not None:
        raise invalid(f"This property cannot be expanded ({path}).", param="expand")


def _lookup(store: Store, object_id: str) -> dict[str, Any] | None:
    for prefix, table in PREFIXES.items():
        if object_id.startswith(prefix):
            found = getattr(store, table).get(object_id)
            return copy.deepcopy(found) if found is not None else None
    return None
