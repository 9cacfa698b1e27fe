"""The fake account on disk: loaded at start, rewritten atomically after every change.

A demo or a developer's fake keeps its customers, meters, events and invoices across
restarts, as Stripe's account does; tests keep theirs in memory (no path).
"""

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .store import LISTS, TABLES, Saved, Store

VERSION = 1


def save(store: Store, path: Path) -> None:
    """Write to a temporary file beside ``path``, then rename: a crash leaves the old file."""
    with store.lock:
        state: dict[str, Any] = {name: getattr(store, name) for name in (*TABLES, *LISTS)}
        state["idempotency"] = [
            [api_key, key, asdict(saved)] for (api_key, key), saved in store.idempotency.items()
        ]
        text = json.dumps({"version": VERSION, **state}, sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(store: Store, path: Path) -> bool:
    """Replace the store's tables with the file's; ``False`` when there is no file yet."""
    if not path.exists():
        return False
    state = json.loads(path.read_text(encoding="utf-8"))
    if state.get("version") != VERSION:
        raise ValueError(f"{path}: not a Stripe fake state file of version {VERSION}")
    with store.lock:
        store.reset()
        for name in (*TABLES, *LISTS):
            setattr(store, name, state.get(name, getattr(store, name)))
        store.identifiers = {}
        for event in store.events:
            store.identifiers[event["identifier"]] = event
        store.idempotency = {
            (api_key, key): Saved(**saved) for api_key, key, saved in state.get("idempotency", [])
        }
    return True
