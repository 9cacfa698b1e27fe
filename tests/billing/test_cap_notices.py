"""usage.cap.warning (80%) and usage.cap.reached: each fires once per period and cap, as a
webhook event, an e-mail to the tenant's admins and a banner on the usage page."""

import threading
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from billing.models import CapNotice, RunCharge, TenantBilling
from billing.periods import period_of
from billing.portal.services import end_user_limit_set, tenant_caps_update
from seedance.exceptions import BudgetExceeded
from seedance.models import Membership, Person, Run, Tenant, WebhookEvent
from seedance.outcomes import Outcome
from seedance.run_input import RunInput
from seedance.services.runs import run_create
from seedance.states import RunStatus
from seedance.transitions import run_finish
from tests.factories import SYSTEM, make_person
from tests.seedance.webhooks.conftest import ReceiverServer, deliver_due, receiver, subscribe

__all__ = ["receiver"]

RUN_COST = Decimal("1.2095")  # 5 s at 720p, 0.2419 $/s
CHEAPEST_RUN = Decimal("0.432")  # 4 s at 480p, 0.108 $/s
WARNING, REACHED = "usage.cap.warning", "usage.cap.reached"

pytestmark = pytest.mark.django_db


def set_caps(tenant: Tenant, **caps: Any) -> None:
    TenantBilling.objects.filter(pk=tenant.pk).update(**caps)


def create(tenant: Tenant, **fields: Any) -> Run:
    values = {"prompt": "a heron in reeds", "duration": "5", "resolution": "720p", **fields}
    run, _ = run_create(tenant=tenant, run_input=RunInput(**values))
    return run


def notices(tenant: Tenant) -> list[tuple[str, str, int]]:
    return list(
        CapNotice.objects.filter(tenant=tenant)
        .order_by("period", "kind", "end_user_id", "threshold")
        .values_list("kind", "end_user_id", "threshold")
    )


def events(tenant: Tenant) -> list[tuple[str, dict[str, Any]]]:
    return [
        (event.type, event.data)
        for event in WebhookEvent.objects.filter(
            tenant=tenant, type__startswith="usage.cap"
        ).order_by("created_at", "id")
    ]


def a_month_passes(tenant: Tenant) -> None:
    """The period's charges and notices become last month's, as on the 1st at 00:00 UTC."""
    last_month = period_of(Run.objects.latest("created_at").created_at) - timedelta(days=1)
    old = last_month.replace(day=1)
    RunCharge.objects.filter(tenant=tenant).update(period=old)
    CapNotice.objects.filter(tenant=tenant).update(period=old)


@pytest.fixture
def listening(tenant: Tenant, receiver: ReceiverServer) -> ReceiverServer:
    subscribe(tenant, receiver, [WARNING, REACHED])
    return receiver


def test_warning_fires_once_when_spend_crosses_80_percent(
    tenant: Tenant, listening: ReceiverServer
) -> None:
    set_caps(tenant, monthly_spend_cap=RUN_COST * 10)
    for _ in range(7):
        create(tenant)
    assert notices(tenant) == []
    create(tenant)  # 8 of 10 runs reserved: 80%
    assert notices(tenant) == [("tenant", "", 80)]
    create(tenant)  # 90%: still the one warning
    [(kind, data)] = events(tenant)
    assert kind == WARNING
    assert data == {
        "kind": "tenant",
        "end_user_id": "",
        "threshold": 80,
        "cap": "12.095000",
        "spend": "9.676000",
        "percent": 80,
        "period": period_of(Run.objects.latest("created_at").created_at).strftime("%Y-%m"),
        "currency": "usd",
    }


def test_reached_fires_once_when_spend_meets_the_cap(
    tenant: Tenant, listening: ReceiverServer
) -> None:
    set_caps(tenant, monthly_spend_cap=RUN_COST * 10)
    for _ in range(10):
        create(tenant)
    with pytest.raises(BudgetExceeded):
        create(tenant)
    with pytest.raises(BudgetExceeded):
        create(tenant, resolution="480p", duration="4")
    assert notices(tenant) == [("tenant", "", 80), ("tenant", "", 100)]
    assert [(kind, data["percent"], data["spend"]) for kind, data in events(tenant)] == [
        (WARNING, 80, "9.676000"),
        (REACHED, 100, "12.095000"),
    ]


def test_reached_fires_when_what_is_left_is_less_than_the_cheapest_run(
    tenant: Tenant, listening: ReceiverServer
) -> None:
    """Worst-case reservations rarely land on the cap exactly: the cap is reached when it
    refuses every run, here with $0.30 left and no run under $0.432."""
    set_caps(tenant, monthly_spend_cap=RUN_COST * 2 + Decimal("0.30"))
    create(tenant)
    assert notices(tenant) == []
    create(tenant)
    assert notices(tenant) == [("tenant", "", 80), ("tenant", "", 100)]
    assert events(tenant)[-1][1]["percent"] == 88
    with pytest.raises(BudgetExceeded):
        create(tenant, resolution="480p", duration="4")


def test_a_refused_long_run_is_not_the_cap_reached(
    tenant: Tenant, listening: ReceiverServer
) -> None:
    """A 15 s run refused with room for shorter ones: the cap is not reached, and its one
    reached notice is kept for when it is."""
    set_caps(tenant, monthly_spend_cap=RUN_COST * 3)
    create(tenant)
    with pytest.raises(BudgetExceeded):
        create(tenant, duration="15")
    assert notices(tenant) == []
    create(tenant)
    create(tenant)
    assert notices(tenant) == [("tenant", "", 80), ("tenant", "", 100)]


def test_notices_fire_again_in_the_next_period(tenant: Tenant, listening: ReceiverServer) -> None:
    set_caps(tenant, monthly_spend_cap=RUN_COST)
    create(tenant)
    assert len(notices(tenant)) == 2
    a_month_passes(tenant)
    create(tenant)
    assert len(notices(tenant)) == 4
    assert [kind for kind, _ in events(tenant)] == [WARNING, REACHED, WARNING, REACHED]
    assert CapNotice.objects.filter(tenant=tenant).values("period").distinct().count() == 2


def test_spend_falling_after_a_notice_never_fires_it_again(
    tenant: Tenant, listening: ReceiverServer
) -> None:
    """A reservation released (or settled below its worst case) lowers spend under 80%;
    climbing back over it in the same period is not news."""
    set_caps(tenant, monthly_spend_cap=RUN_COST * 5)
    runs = [create(tenant) for _ in range(4)]
    assert notices(tenant) == [("tenant", "", 80)]
    run_finish(runs[0].pk, Outcome(status=RunStatus.FAILED))
    assert RunCharge.objects.get(run=runs[0]).amount == 0
    create(tenant)
    assert notices(tenant) == [("tenant", "", 80)]
    assert len(events(tenant)) == 1


def test_end_user_caps_fire_apart_from_the_tenant_cap(
    tenant: Tenant, listening: ReceiverServer
) -> None:
    set_caps(tenant, monthly_spend_cap=RUN_COST * 100, end_user_monthly_spend_cap=RUN_COST * 2)
    create(tenant, end_user_id="alice")
    create(tenant, end_user_id="alice")
    create(tenant, end_user_id="bob")
    assert notices(tenant) == [("end_user", "alice", 80), ("end_user", "alice", 100)]
    create(tenant, end_user_id="bob")
    assert notices(tenant) == [
        ("end_user", "alice", 80),
        ("end_user", "alice", 100),
        ("end_user", "bob", 80),
        ("end_user", "bob", 100),
    ]
    assert {data["end_user_id"] for _, data in events(tenant)} == {"alice", "bob"}
    assert all(data["kind"] == "end_user" for _, data in events(tenant))


def test_lowering_a_cap_under_the_spend_fires_at_the_change(
    tenant: Tenant, listening: ReceiverServer
) -> None:
    """A create refused because the cap was lowered adds no spend: the change told."""
    set_caps(tenant, monthly_spend_cap=RUN_COST * 10)
    for _ in range(3):
        create(tenant)
    tenant_caps_update(
        tenant=tenant,
        monthly_spend_cap=RUN_COST * 3,
        max_in_flight_runs=None,
        end_user_monthly_spend_cap=None,
        actor=SYSTEM,
    )
    assert notices(tenant) == [("tenant", "", 80), ("tenant", "", 100)]
    with pytest.raises(BudgetExceeded):
        create(tenant, resolution="480p", duration="4")
    assert len(events(tenant)) == 2


def test_an_end_user_override_under_their_spend_fires_for_that_end_user(
    tenant: Tenant, listening: ReceiverServer
) -> None:
    create(tenant, end_user_id="alice")
    create(tenant, end_user_id="alice")
    create(tenant, end_user_id="bob")
    # 83% used, and $0.48 left: room for a 4 s run at 480p.
    end_user_limit_set(
        tenant=tenant, end_user_id="alice", monthly_spend_cap=Decimal("2.90"), actor=SYSTEM
    )
    assert notices(tenant) == [("end_user", "alice", 80)]
    tenant_caps_update(
        tenant=tenant,
        monthly_spend_cap=None,
        max_in_flight_runs=None,
        end_user_monthly_spend_cap=RUN_COST,
        actor=SYSTEM,
    )
    assert notices(tenant) == [
        ("end_user", "alice", 80),
        ("end_user", "bob", 80),
        ("end_user", "bob", 100),
    ]


def test_staff_lowering_a_cap_in_the_admin_fires_at_the_change(
    tenant: Tenant, listening: ReceiverServer, admin_client: Any
) -> None:
    create(tenant)
    url = f"/admin/billing/tenantbilling/{tenant.pk}/change/"
    caps = {"monthly_spend_cap": "1.40", "max_in_flight_runs": "", "end_user_monthly_spend_cap": ""}
    assert admin_client.post(url, {**caps, "reason": "trial account"}).status_code == 302
    assert notices(tenant) == [("tenant", "", 80), ("tenant", "", 100)]


def test_raising_a_cap_fires_nothing(tenant: Tenant, listening: ReceiverServer) -> None:
    set_caps(tenant, monthly_spend_cap=RUN_COST * 10)
    create(tenant)
    tenant_caps_update(
        tenant=tenant,
        monthly_spend_cap=RUN_COST * 20,
        max_in_flight_runs=None,
        end_user_monthly_spend_cap=RUN_COST * 5,
        actor=SYSTEM,
    )
    assert notices(tenant) == []


def test_a_receiver_verifies_the_cap_events(tenant: Tenant, listening: ReceiverServer) -> None:
    set_caps(tenant, monthly_spend_cap=RUN_COST)
    create(tenant)
    assert deliver_due() == ["delivered", "delivered"]
    payloads = sorted((r.payload for r in listening.verified()), key=lambda p: p["type"])
    assert [p["type"] for p in payloads] == [REACHED, WARNING]
    assert payloads[0]["data"]["cap"] == "1.209500"
    assert payloads[0]["data"]["percent"] == 100


def test_nobody_listening_still_records_the_notice(tenant: Tenant) -> None:
    set_caps(tenant, monthly_spend_cap=RUN_COST)
    create(tenant)
    assert notices(tenant) == [("tenant", "", 80), ("tenant", "", 100)]
    assert events(tenant) == []


def test_tenant_admins_are_mailed_once_per_notice(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    boss = make_person("boss", "boss@example.com")
    staff = make_person("staff", "staff@example.com")
    Membership.objects.create(user=boss, tenant=tenant, role=Membership.Role.ADMIN)
    Membership.objects.create(user=staff, tenant=tenant, role=Membership.Role.MEMBER)
    set_caps(tenant, monthly_spend_cap=RUN_COST * 5)
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            create(tenant)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(BudgetExceeded):
        create(tenant)
    assert [message.to for message in mail.outbox] == [["boss@example.com"]] * 2
    warning, reached = mail.outbox
    assert "80% of a spend cap used for Acme" in warning.subject
    assert "4.84 USD (80%) of its 6.05 USD monthly cap" in warning.body
    assert reached.subject == "Spend cap reached for Acme"


def test_a_refused_create_mails_nobody(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    boss = make_person("boss", "boss@example.com")
    Membership.objects.create(user=boss, tenant=tenant, role=Membership.Role.ADMIN)
    set_caps(tenant, monthly_spend_cap=RUN_COST * 2)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(BudgetExceeded),
    ):
        create(tenant, duration="15")
    assert callbacks == []
    assert mail.outbox == []


def test_usage_page_shows_this_months_cap_notices(client: Any, tenant: Tenant) -> None:
    admin = make_person("ada", "ada@example.com", "pw")
    member = make_person("max", "max@example.com", "pw")
    Membership.objects.create(user=admin, tenant=tenant, role=Membership.Role.ADMIN)
    Membership.objects.create(user=member, tenant=tenant, role=Membership.Role.MEMBER)
    own = Person.objects.get_or_create(user=member)[0].end_user_id
    set_caps(tenant, monthly_spend_cap=RUN_COST * 10, end_user_monthly_spend_cap=RUN_COST)
    create(tenant, end_user_id="someone-else")
    create(tenant, end_user_id=own)
    for _ in range(6):
        create(tenant)

    client.force_login(admin)
    html = client.get(reverse("billing_portal:usage")).content.decode()
    assert 'id="usage-cap-notices"' in html
    assert "The tenant&#x27;s monthly cap was 80% used" in html
    assert "End user someone-else&#x27;s monthly cap is reached" in html
    assert "End user max (portal)&#x27;s monthly cap is reached" in html

    client.force_login(member)
    html = client.get(reverse("billing_portal:usage")).content.decode()
    assert "Your monthly cap is reached" in html
    assert "someone-else" not in html
    assert "The tenant" not in html


def test_last_months_notices_leave_the_banner(client: Any, tenant: Tenant) -> None:
    admin = make_person("ada", "ada@example.com", "pw")
    Membership.objects.create(user=admin, tenant=tenant, role=Membership.Role.ADMIN)
    set_caps(tenant, monthly_spend_cap=RUN_COST)
    create(tenant)
    a_month_passes(tenant)
    client.force_login(admin)
    assert (
        'id="usage-cap-notices"' not in client.get(reverse("billing_portal:usage")).content.decode()
    )


@pytest.mark.django_db(transaction=True)
def test_parallel_creates_fire_each_threshold_exactly_once(
    tenant: Tenant, issued_key: Any, receiver: ReceiverServer
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real parallel writers need PostgreSQL")
    subscribe(tenant, receiver, [WARNING, REACHED])
    set_caps(tenant, monthly_spend_cap=RUN_COST * 10)
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def post() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued_key.secret}")
        barrier.wait()
        try:
            response = client.post(
                "/api/v1/runs",
                {"prompt": "a heron in reeds", "duration": "5", "resolution": "720p"},
                format="json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 10 + [402] * 10
    assert notices(tenant) == [("tenant", "", 80), ("tenant", "", 100)]
    assert sorted(kind for kind, _ in events(tenant)) == [REACHED, WARNING]


def test_the_period_in_the_payload_is_the_utc_month() -> None:
    notice = CapNotice(
        kind="tenant",
        end_user_id="",
        threshold=80,
        cap=Decimal(3),
        spend=Decimal("2.999999"),
        period=date(2026, 12, 1),
    )
    from billing.cap_notices import notice_data

    assert notice_data(notice)["period"] == "2026-12"
    assert notice_data(notice)["percent"] == 99
