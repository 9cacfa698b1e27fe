"""Create a tenant (or reuse it) and print a new API key alone on the last line of stdout."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from seedance.audit import Actor
from seedance.services.keys import api_key_issue
from seedance.services.tenants import tenant_get_or_create


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default="", help="Display name (defaults to the slug).")
        parser.add_argument("--key-name", default="default", help="A name for the new API key.")

    def handle(self, *args: Any, slug: str, name: str, key_name: str, **options: Any) -> None:
        try:
            tenant, created = tenant_get_or_create(slug=slug, name=name or slug)
        except ValidationError as exc:
            raise CommandError(f"Invalid slug {slug!r}: {' '.join(exc.messages)}") from exc
        issued = api_key_issue(tenant=tenant, name=key_name, actor=Actor.system("createtenant"))
        verb = "Created" if created else "Reusing"
        self.stderr.write(f"{verb} tenant {tenant.slug}; new API key {issued.api_key.prefix}…")
        self.stdout.write(issued.secret)
