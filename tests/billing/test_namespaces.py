"""Two deployments on one Stripe account: the same tenant pk, different namespaces, never
a shared Stripe object (customers were once found by integer pk and adopted across)."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from billing.models import TenantBilling
from billing.naming import NAMESPACE_KEY, TENANT_KEY
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake

ROOT = Path(__file__).resolve().parents[2]


def other_deployment(fake: StripeFake, database: Path, *commands: list[str]) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "STRIPE_API_KEY": "sk_test_other_deployment",
        "STRIPE_API_BASE": fake.url,
        "STRIPE_NAMESPACE": "seedance-other",
    }
    env.pop("REDIS_URL", None)
    for command in commands:
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=120
        )


def test_two_databases_with_the_same_tenant_pk_never_share_a_stripe_object(
    tenant: Any, stripe_fake: StripeFake, tmp_path: Path
) -> None:
    stripe_provision(client=stripe_client())
    create_same_pk = (
        "from seedance.models import Tenant; "
        f"Tenant.objects.create(pk={tenant.pk}, slug='acme', name='Acme elsewhere')"
    )
    other_deployment(
        stripe_fake,
        tmp_path / "other.sqlite3",
        ["migrate", "--noinput", "-v0"],
        ["shell", "-c", create_same_pk],
        ["stripe_provision"],
    )

    customers = stripe_fake.customers()
    assert sorted(c["metadata"][NAMESPACE_KEY] for c in customers) == [
        "seedance-dev",
        "seedance-other",
    ]
    assert len({c["metadata"][TENANT_KEY] for c in customers}) == 2  # two tenants' UUIDs
    ours = TenantBilling.objects.get(tenant=tenant)
    namespace_of = {c["id"]: c["metadata"][NAMESPACE_KEY] for c in customers}
    assert namespace_of[str(ours.stripe_customer_id)] == "seedance-dev"
    subscriptions = stripe_fake.subscriptions()
    assert len(subscriptions) == 2
    for subscription in subscriptions:
        assert subscription["metadata"][NAMESPACE_KEY] == namespace_of[subscription["customer"]]
        for item in subscription["items"]["data"]:
            assert item["price"]["lookup_key"].startswith(namespace_of[subscription["customer"]])
    names = sorted(m["event_name"] for m in stripe_fake.meters())
    assert len(names) == 4
    assert sum(name.startswith("seedance-other_") for name in names) == 2
