"""billing's portal pages: usage from the ledger, the price estimate, and the caps."""

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from billing.models import EndUserLimit, TenantBilling, UsageRecord
from billing.portal.services import month_bounds, usd
from billing.pricing import price_estimate
from billing.selectors import usage_summary
from seedance.models import Membership, Person, Tenant
from tests.billing.factories import billable_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(django_user_model: Any, tenant: Tenant) -> Any:
    user = django_user_model.objects.create_user(username="ada", password="pw")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def member_user(django_user_model: Any, tenant: Tenant) -> Any:
    user = django_user_model.objects.create_user(username="max", password="pw")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    return user


def portal_id(user: Any) -> str:
    return Person.objects.get_or_create(user=user)[0].end_user_id


def spread_over_days(records: list[UsageRecord]) -> None:
    """Move ledger rows onto distinct days of this month (day 1, day 2, ...)."""
    start, _ = month_bounds(records[0].completed_at)
    for offset, record in enumerate(records):
        moment = start + timedelta(days=offset, hours=12)
        UsageRecord.objects.filter(pk=record.pk).update(completed_at=moment, event_timestamp=moment)


def bars(html: str) -> list[str]:
    chart = re.search(r'<svg id="usage-chart".*?</svg>', html, re.S)
    assert chart is not None
    return re.findall(r'<rect class="bar" data-day="([0-9-]+)"', chart.group(0))


def test_usage_numbers_equal_the_ledger_sums(client: Any, tenant: Tenant, admin_user: Any) -> None:
    billable_run(tenant, duration="5", end_user_id="42")
    billable_run(tenant, duration="7", resolution="480p", end_user_id="43")
    billable_run(tenant, duration="4")
    client.force_login(admin_user)

    html = client.get(reverse("billing_portal:usage")).content.decode()

    records = UsageRecord.objects.filter(tenant=tenant)
    seconds = sum(r.seconds for r in records)
    assert f'id="usage-seconds">{seconds} s<' in html
    assert seconds == 16
    # As invoiced: 9 s x $0.2419 = $2.1771 -> $2.18, 7 s x $0.108 = $0.756 -> $0.76.
    assert 'id="usage-amount">$2.94<' in html


def test_the_months_amount_is_the_sum_of_invoice_lines_each_rounded_to_the_cent(
    client: Any, tenant: Tenant, admin_user: Any
) -> None:
    """34 s at 720p and 9 s at 480p: $8.2246 + $0.972 = $9.1966, but Stripe rounds each
    line ($8.22, $0.97), so the invoice says $9.19 and so do we."""
    for duration in ("15", "15", "4"):
        billable_run(tenant, duration=duration)
    billable_run(tenant, duration="9", resolution="480p")
    client.force_login(admin_user)
    html = client.get(reverse("billing_portal:usage")).content.decode()
    assert 'id="usage-amount">$9.19<' in html
    assert 'id="invoice-ledger-total">$9.19<' in html
    assert "Seedance 720p seconds @ $0.2419" in html


def test_chart_has_one_bar_per_day_with_usage(client: Any, tenant: Tenant, admin_user: Any) -> None:
    runs = [billable_run(tenant) for _ in range(3)]
    records = list(UsageRecord.objects.filter(run__in=runs).order_by("created_at"))
    spread_over_days(records[:2])  # days 1 and 2; the third stays today (maybe day 1 or 2)
    client.force_login(admin_user)

    response = client.get(reverse("billing_portal:usage"))
    html = response.content.decode()

    start, end = month_bounds(records[0].completed_at)
    days = usage_summary(tenant=tenant, start=start, end=end, group_by="day").groups
    assert sorted(bars(html)) == [group.key for group in days]
    assert 'aria-label="Amount per day' in html
    assert '<title id="usage-chart-title">' in html
    assert "<desc" in html


def test_member_sees_only_their_own_usage_and_no_end_user_table(
    client: Any, tenant: Tenant, member_user: Any
) -> None:
    mine = billable_run(tenant, duration="6", end_user_id=portal_id(member_user))
    billable_run(tenant, duration="9", end_user_id="someone-else")
    client.force_login(member_user)

    html = client.get(reverse("billing_portal:usage")).content.decode()

    own = UsageRecord.objects.get(run=mine)
    assert f'id="usage-seconds">{own.seconds} s<' in html
    assert f'id="usage-amount">{usd(own.amount)}<' in html
    assert 'id="usage-end-users"' not in html
    assert "someone-else" not in html


def test_admin_sees_usage_per_end_user(
    client: Any, tenant: Tenant, admin_user: Any, member_user: Any
) -> None:
    billable_run(tenant, end_user_id="42")
    billable_run(tenant, end_user_id=portal_id(member_user))
    client.force_login(admin_user)

    html = client.get(reverse("billing_portal:usage")).content.decode()

    assert 'id="usage-end-users"' in html
    assert 'data-end-user="42"' in html
    assert "max (portal)" in html


def test_budget_shows_caps_and_no_cap(client: Any, tenant: Tenant, admin_user: Any) -> None:
    client.force_login(admin_user)
    assert "no cap" in client.get(reverse("billing_portal:usage")).content.decode()

    TenantBilling.objects.update_or_create(
        tenant=tenant, defaults={"monthly_spend_cap": Decimal(100), "max_in_flight_runs": 3}
    )
    billable_run(tenant, duration="5")
    html = client.get(reverse("billing_portal:usage")).content.decode()
    spent = UsageRecord.objects.get(tenant=tenant).amount
    assert f"${Decimal(100) - spent:.2f}" in html
    assert "3 at once" in html


@pytest.mark.parametrize(("resolution", "duration"), [("720p", "5"), ("480p", "12")])
def test_estimate_equals_price_estimate_and_the_bill(
    client: Any, tenant: Tenant, member_user: Any, resolution: str, duration: str
) -> None:
    client.force_login(member_user)
    response = client.get(
        reverse("billing_portal:estimate"), {"resolution": resolution, "duration": duration}
    )
    assert response.status_code == 200
    text = response.content.decode()
    estimate = price_estimate(tenant=tenant, resolution=resolution, duration=duration)
    assert estimate.min_amount == estimate.max_amount
    assert f'data-min="{estimate.min_amount}"' in text
    assert usd(estimate.min_amount) in text
    assert "<html" not in text

    run = billable_run(tenant, resolution=resolution, duration=duration)
    assert UsageRecord.objects.get(run=run).amount == estimate.min_amount


def test_estimate_text_for_fixed_and_auto(client: Any, tenant: Tenant, member_user: Any) -> None:
    client.force_login(member_user)
    url = reverse("billing_portal:estimate")
    fixed = client.get(url, {"resolution": "720p", "duration": "5"}).content.decode()
    auto = client.get(url, {"resolution": "720p", "duration": "auto"}).content.decode()
    assert "$1.21" in fixed
    assert "$0.2419/s" in fixed
    assert "$0.97 – $3.63 (auto: 4–15 s)" in auto  # noqa: RUF001 - en dashes, as shown


def test_estimate_refuses_bad_params(client: Any, member_user: Any) -> None:
    client.force_login(member_user)
    url = reverse("billing_portal:estimate")
    for params in ({"resolution": "4k", "duration": "5"}, {"duration": "99"}):
        response = client.get(url, params)
        assert response.status_code == 400
        assert "<html" not in response.content.decode()


def test_estimate_needs_sign_in_and_membership(client: Any, django_user_model: Any) -> None:
    url = reverse("billing_portal:estimate")
    assert client.get(url).status_code == 302
    client.force_login(django_user_model.objects.create_user(username="loner"))
    # No tenant: sent to the start (make one, or answer an invitation), never an estimate;
    # the fragment is fetched by htmx, which is told to move the whole page.
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    fragment = client.get(url, HTTP_HX_REQUEST="true")
    assert fragment["HX-Redirect"] == reverse("portal:home")
    assert "$" not in fragment.content.decode()


def test_caps_form_saves_decimals_and_blank_is_no_cap(
    client: Any, tenant: Tenant, admin_user: Any
) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("billing_portal:caps"),
        {
            "monthly_spend_cap": "250.50",
            "max_in_flight_runs": "4",
            "end_user_monthly_spend_cap": "",
        },
    )
    assert response.status_code == 302
    billing = TenantBilling.objects.get(tenant=tenant)
    assert billing.monthly_spend_cap == Decimal("250.50")
    assert isinstance(billing.monthly_spend_cap, Decimal)
    assert billing.max_in_flight_runs == 4
    assert billing.end_user_monthly_spend_cap is None


def test_caps_form_refuses_negatives(client: Any, tenant: Tenant, admin_user: Any) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("billing_portal:caps"),
        {"monthly_spend_cap": "-1", "max_in_flight_runs": "-2", "end_user_monthly_spend_cap": "5"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"monthly_spend_cap", "max_in_flight_runs"}
    assert not TenantBilling.objects.filter(tenant=tenant, monthly_spend_cap__lt=0).exists()


def test_end_user_overrides_add_and_remove(
    client: Any, tenant: Tenant, other_tenant: Tenant, admin_user: Any
) -> None:
    client.force_login(admin_user)
    client.post(
        reverse("billing_portal:end-user-limit-add"),
        {"end_user_id": "42", "monthly_spend_cap": "10.25"},
    )
    limit = EndUserLimit.objects.get(tenant=tenant, end_user_id="42")
    assert limit.monthly_spend_cap == Decimal("10.25")
    assert 'data-end-user="42"' in client.get(reverse("billing_portal:caps")).content.decode()

    refused = client.post(
        reverse("billing_portal:end-user-limit-add"),
        {"end_user_id": "43", "monthly_spend_cap": "-3"},
    )
    assert "monthly_spend_cap" in refused.context["limit_form"].errors

    foreign = EndUserLimit.objects.create(
        tenant=other_tenant, end_user_id="42", monthly_spend_cap=1
    )
    remove = "billing_portal:end-user-limit-remove"
    assert client.post(reverse(remove, args=[foreign.pk])).status_code == 404
    assert client.post(reverse(remove, args=[limit.pk])).status_code == 302
    assert not EndUserLimit.objects.filter(pk=limit.pk).exists()
    assert EndUserLimit.objects.filter(pk=foreign.pk).exists()


def test_caps_pages_are_404_for_a_member(client: Any, member_user: Any) -> None:
    client.force_login(member_user)
    assert client.get(reverse("billing_portal:caps")).status_code == 404
    assert client.post(reverse("billing_portal:caps"), {}).status_code == 404
    assert client.post(reverse("billing_portal:end-user-limit-add"), {}).status_code == 404
    assert client.post(reverse("billing_portal:end-user-limit-remove", args=[1])).status_code == 404


def test_invoice_fragment_shows_stripes_preview_beside_the_ledger(
    client: Any, tenant: Tenant, admin_user: Any, clocked_stripe: Any, clock: Any
) -> None:
    from billing.meters import push_pending_usage
    from billing.provisioning import stripe_provision
    from billing.stripe_client import stripe_client

    stripe_provision(client=stripe_client(), now=clock.now())
    for duration in ("15", "15", "4"):
        billable_run(tenant, duration=duration)
    billable_run(tenant, duration="9", resolution="480p")
    push_pending_usage(now=clock.advance(seconds=5))
    client.force_login(admin_user)
    html = client.get(reverse("billing_portal:invoice-preview")).content.decode()
    assert 'id="invoice-ledger-total">$9.19<' in html
    assert 'id="invoice-stripe-total">$9.19<' in html
    assert "agrees with the ledger to the cent" in html


def test_invoice_fragment_is_for_tenant_admins_only(client: Any, member_user: Any) -> None:
    client.force_login(member_user)
    assert client.get(reverse("billing_portal:invoice-preview")).status_code in (403, 404)


@pytest.mark.parametrize(
    "caps",
    [
        {"max_in_flight_runs": str(2**31)},
        {"max_in_flight_runs": "9" * 40},
        {"monthly_spend_cap": "9" * 40},
        {"end_user_monthly_spend_cap": "1e400"},
    ],
    ids=["int32-overflow", "huge-int", "huge-decimal", "exponent"],
)
def test_caps_form_refuses_numbers_the_database_cannot_hold(
    client: Any, tenant: Tenant, admin_user: Any, caps: dict[str, str]
) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("billing_portal:caps"), caps)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == set(caps)
    assert not TenantBilling.objects.filter(tenant=tenant, max_in_flight_runs__gt=0).exists()
