"""The project's named URLs, read off the resolver: the suites that must cover every URL
(query counts, tenant isolation) enumerate from here, so a new URL shows up in them."""

from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

#: The namespaces of the API and of the portal's pages: what a tenant reaches.
TENANT_NAMESPACES = ("api", "billing_api", "runflow_compat", "portal", "billing_portal")


@dataclass(frozen=True)
class NamedUrl:
    """One named URL pattern: ``namespace:name``, its path kwargs and its view."""

    name: str
    namespace: str
    kwargs: tuple[str, ...]
    callback: Any

    def methods(self) -> tuple[str, ...]:
        """The HTTP methods the view answers other than with a 405 (HEAD is GET's, and
        OPTIONS reads no object); a plain function view is taken to be GET only."""
        view_class = getattr(self.callback, "view_class", None)
        if view_class is None:
            return ("GET",)
        view = view_class()
        return tuple(
            method.upper()
            for method in view.http_method_names
            if method not in ("head", "options") and hasattr(view, method)
        )


def named_urls(namespaces: tuple[str, ...], patterns: list[Any] | None = None) -> list[NamedUrl]:
    """Every named URL in ``namespaces``, with the kwargs of every prefix it is under."""
    found: list[NamedUrl] = []
    _walk(get_resolver().url_patterns if patterns is None else patterns, "", (), namespaces, found)
    return found


def url_names(namespaces: tuple[str, ...], patterns: list[Any] | None = None) -> set[str]:
    """Every named URL in ``namespaces``, as ``namespace:name``."""
    return {url.name for url in named_urls(namespaces, patterns)}


def _walk(
    patterns: list[Any],
    namespace: str,
    kwargs: tuple[str, ...],
    namespaces: tuple[str, ...],
    found: list[NamedUrl],
) -> None:
    for pattern in patterns:
        inner_kwargs = kwargs + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            _walk(pattern.url_patterns, inner, inner_kwargs, namespaces, found)
        elif isinstance(pattern, URLPattern) and pattern.name and namespace in namespaces:
            found.append(
                NamedUrl(
                    name=f"{namespace}:{pattern.name}",
                    namespace=namespace,
                    kwargs=inner_kwargs,
                    callback=pattern.callback,
                )
            )
