"""One page of a cursor-paged list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from seedance_client.models._parse import Json


@dataclass(frozen=True)
class Page[T]:
    """One page of a cursor-paged list; ``next_cursor`` asks for the following one."""

    results: tuple[T, ...]
    next: str | None
    previous: str | None

    @property
    def next_cursor(self) -> str | None:
        return _cursor(self.next)

    @property
    def previous_cursor(self) -> str | None:
        return _cursor(self.previous)

    @classmethod
    def from_json(cls, data: Json, item: Callable[[Json], T]) -> Page[T]:
        return cls(
            results=tuple(item(entry) for entry in data["results"]),
            next=data["next"],
            previous=data["previous"],
        )


def _cursor(link: str | None) -> str | None:
    """The opaque cursor of a page link: the client asks its own base URL, not the link's."""
    if link is None:
        return None
    values = parse_qs(urlsplit(link).query).get("cursor")
    return values[0] if values else None
