"""``{% run_posters runs as posters %}`` then ``{{ posters|poster_of:run.pk }}``, and
``{% run_poster run as poster %}``: poster links a page may show, one query per call."""

from collections.abc import Iterable
from uuid import UUID

from django import template

from seedance.models import Run
from seedance.outputs import poster_urls

register = template.Library()


@register.simple_tag
def run_posters(runs: Iterable[Run]) -> dict[UUID, str]:
    return poster_urls(runs)


@register.simple_tag
def run_poster(run: Run) -> str | None:
    return poster_urls([run]).get(run.pk)


@register.filter
def poster_of(posters: dict[UUID, str], run_id: UUID) -> str | None:
    return posters.get(run_id)
