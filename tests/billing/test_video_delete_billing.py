"""Deleting a video never touches its bill: the run's charge and ledger row stay as they were."""

import pytest

from billing.models import RunCharge, UsageRecord
from seedance.audit import Actor
from seedance.models import Membership, OutputFile, Tenant
from seedance.services.videos import video_delete
from tests.billing.factories import billable_run
from tests.factories import make_person
from tests.posters import attach_poster

pytestmark = pytest.mark.django_db(transaction=True)


def test_members_delete_leaves_the_run_and_its_ledger_row(tenant: Tenant) -> None:
    ada = make_person("ada", "ada@example.com")
    Membership.objects.create(user=ada, tenant=tenant, role=Membership.Role.MEMBER)
    run = billable_run(tenant, created_by=ada)
    attach_poster(run)
    charge_before = RunCharge.objects.filter(run=run).values().get()
    usage_before = UsageRecord.objects.filter(run=run).values().get()

    assert video_delete(run=run, actor=Actor.member(ada)) == 1

    assert OutputFile.objects.get(run=run).deleted_at is not None
    assert RunCharge.objects.filter(run=run).values().get() == charge_before
    assert UsageRecord.objects.filter(run=run).values().get() == usage_before


def test_deleting_twice_deletes_nothing_more(tenant: Tenant) -> None:
    run = billable_run(tenant)

    assert video_delete(run=run, actor=Actor.system("tests")) == 1
    assert video_delete(run=run, actor=Actor.system("tests")) == 0
