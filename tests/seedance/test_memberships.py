"""Every membership records how it came to be: founder, invitation, staff, or legacy."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from seedance.models import Membership, Tenant
from seedance.services.tenants import membership_set

pytestmark = pytest.mark.django_db


def test_demo_setup_records_its_membership_as_made_by_staff(db: None) -> None:
    call_command("demo_setup", stdout=StringIO())
    membership = Membership.objects.get(user__username="demo")
    assert (membership.role, membership.joined_via) == ("admin", "staff")


def test_a_membership_made_outside_the_portal_flows_is_staffs(
    tenant: Tenant, django_user_model: Any
) -> None:
    """The admin's inline and the shell create rows without saying: that is staff's doing."""
    user = django_user_model.objects.create_user("ada")
    assert Membership.objects.create(user=user, tenant=tenant).joined_via == "staff"


def test_setting_a_role_keeps_how_the_membership_came_to_be(
    tenant: Tenant, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ada")
    Membership.objects.create(user=user, tenant=tenant, joined_via="legacy")
    membership = membership_set(tenant=tenant, user=user, role="admin")
    assert (membership.role, membership.joined_via) == ("admin", "legacy")


def test_an_unknown_way_in_is_refused_by_the_database(
    tenant: Tenant, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ada")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, tenant=tenant, joined_via="magic")
