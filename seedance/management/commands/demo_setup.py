"""Prepare the demo: a tenant, its API key, a tenant admin for the portal, a platform staff
user for the admin, and the schedules. Idempotent."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from seedance.audit import Actor
from seedance.models import Membership
from seedance.schedules import ensure_schedules
from seedance.services.keys import api_key_issue
from seedance.services.tenants import membership_set, tenant_get_or_create


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default="demo")
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo-password-123")
        parser.add_argument("--staff-username", default="staff")
        parser.add_argument("--key-file", help="Write the new API key to this file.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant, _ = tenant_get_or_create(slug=options["tenant"], name="Demo tenant")
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username=options["username"])
        user.set_password(options["password"])
        user.save()
        membership_set(tenant=tenant, user=user, role=Membership.Role.ADMIN)
        staff, _ = user_model.objects.get_or_create(username=options["staff_username"])
        staff.set_password(options["password"])
        staff.is_staff = staff.is_superuser = True
        staff.save()
        ensure_schedules()
        issued = api_key_issue(tenant=tenant, name="demo", actor=Actor.system("demo_setup"))
        if options["key_file"]:
            with open(options["key_file"], "w") as key_file:
                key_file.write(issued.secret + "\n")
        self.stdout.write(issued.secret)
