"""Prepare the demo: a tenant, its API key, a tenant admin for the portal, a platform staff
user for the admin (with TOTP), and the schedules. Idempotent: the key is kept under VAR_DIR
and reused while it is still the tenant's active key, so a restart adds none."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandParser

from seedance.accounts.identity import totp_secret_ensure, totp_url, verified_email_set
from seedance.audit import Actor
from seedance.models import Membership, Tenant
from seedance.schedules import ensure_schedules
from seedance.services.keys import api_key_authenticate, api_key_issue
from seedance.services.tenants import membership_set, tenant_get_or_create

TOTP_FILE_NAME = "demo-staff-totp.txt"
API_KEY_FILE_NAME = "demo-api-key.txt"


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default="demo")
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo-password-123")
        parser.add_argument("--staff-username", default="staff")
        parser.add_argument("--email-domain", default="example.com")
        parser.add_argument("--key-file", help="Write the new API key to this file.")
        parser.add_argument(
            "--totp-file",
            help=f"Where the staff TOTP secret and URI go (default: VAR_DIR/{TOTP_FILE_NAME}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant, _ = tenant_get_or_create(slug=options["tenant"], name="Demo tenant")
        user = self._person(options["username"], options["password"], options["email_domain"])
        membership_set(tenant=tenant, user=user, role=Membership.Role.ADMIN)
        staff = self._person(
            options["staff_username"], options["password"], options["email_domain"]
        )
        staff.is_staff = staff.is_superuser = True
        staff.save(update_fields=["is_staff", "is_superuser"])
        secret = totp_secret_ensure(user=staff)
        totp_path = Path(options["totp_file"] or Path(settings.VAR_DIR) / TOTP_FILE_NAME)
        totp_path.write_text(f"{secret}\n{totp_url(user=staff, secret=secret)}\n")
        totp_path.chmod(0o600)
        ensure_schedules()
        secret = self._api_key(tenant)
        if options["key_file"]:
            with open(options["key_file"], "w") as key_file:
                key_file.write(secret + "\n")
        self.stdout.write(secret)

    def _api_key(self, tenant: Tenant) -> str:
        """The kept key if it still opens this tenant, else a new one (kept from now on)."""
        kept_path = Path(settings.VAR_DIR) / API_KEY_FILE_NAME
        kept = kept_path.read_text().strip() if kept_path.exists() else ""
        active = api_key_authenticate(kept)
        if active is not None and active.tenant_id == tenant.pk:
            return kept
        issued = api_key_issue(tenant=tenant, name="demo", actor=Actor.system("demo_setup"))
        kept_path.write_text(issued.secret + "\n")
        kept_path.chmod(0o600)
        return issued.secret

    def _person(self, username: str, password: str, domain: str) -> User:
        user, _ = User.objects.get_or_create(username=username)
        if not user.check_password(password):  # a new hash would sign every session out
            user.set_password(password)
            user.save()
        verified_email_set(user=user, email=f"{username}@{domain}")
        return user
