"""Demo only: register our thin-event endpoint and our webhook endpoint (snapshot events:
Checkout, customers, payment methods, subscriptions) with the Stripe fake once (its state
survives restarts), with the secrets the demo's settings verify."""

import os
import sys

import httpx

base, key = os.environ["STRIPE_API_BASE"], os.environ["STRIPE_API_KEY"]
url = f"{os.environ['PUBLIC_BASE_URL']}/hooks/stripe/events/"
EVENTS = ["v1.billing.meter.error_report_triggered", "v1.billing.meter.no_meter_found"]
secret = os.environ["STRIPE_EVENT_SECRETS"].split(",")[0].strip()
WEBHOOK_URL = f"{os.environ['PUBLIC_BASE_URL']}/hooks/stripe/"
WEBHOOK_EVENTS = [
    "checkout.session.completed",
    "customer.updated",
    "payment_method.detached",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
]
webhook_secret = os.environ["STRIPE_WEBHOOK_SECRETS"].split(",")[0].strip()
endpoints = httpx.get(f"{base}/v1/webhook_endpoints?limit=100", auth=(key, ""), timeout=5)
endpoints.raise_for_status()
if not any(e["url"] == WEBHOOK_URL for e in endpoints.json()["data"]):
    httpx.post(
        f"{base}/_fake/webhook_endpoints",
        json={"url": WEBHOOK_URL, "secret": webhook_secret, "enabled_events": WEBHOOK_EVENTS},
        timeout=5,
    ).raise_for_status()
listed = httpx.get(f"{base}/v2/core/event_destinations", auth=(key, ""), timeout=5)
listed.raise_for_status()
if any(d["webhook_endpoint"]["url"] == url for d in listed.json()["data"]):
    sys.exit(0)
created = httpx.post(
    f"{base}/_fake/destinations",
    json={"url": url, "secret": secret, "enabled_events": EVENTS},
    timeout=5,
)
created.raise_for_status()
