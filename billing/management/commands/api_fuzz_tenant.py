"""Make the API fuzzing tenant (scripts/api-fuzz.sh): no caps, no card needed, a new key.

Prints the key alone on the last line of stdout, as ``createtenant`` does. Its throttles
are the server's rates, which the fuzzing server runs ``off``.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from billing.limits import tenant_billing_for_update
from billing.models import EndUserLimit
from billing.portal.services import tenant_caps_update
from seedance.audit import Actor
from seedance.services.keys import api_key_issue
from seedance.services.tenants import tenant_get_or_create


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        actor = Actor.system("api_fuzz_tenant")
        tenant, _ = tenant_get_or_create(slug=slug, name=slug)
        tenant_caps_update(
            tenant=tenant,
            monthly_spend_cap=None,
            max_in_flight_runs=None,
            end_user_monthly_spend_cap=None,
            actor=actor,
            reason="API fuzzing tenant: caps off.",
        )
        with transaction.atomic():
            billing = tenant_billing_for_update(tenant)
            billing.payment_method_exempt = True
            billing.save(update_fields=["payment_method_exempt", "updated_at"])
            EndUserLimit.objects.for_tenant(tenant).delete()
        issued = api_key_issue(tenant=tenant, name="api-fuzz", actor=actor)
        self.stdout.write(issued.secret)
