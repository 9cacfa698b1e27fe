"""Demo only: register our thin-event endpoint with the Stripe fake once (its state
survives restarts), with the secret the demo's settings verify."""

import os
import sys

import httpx

base, key = os.environ["STRIPE_API_BASE"], os.environ["STRIPE_API_KEY"]
url = f"{os.environ['PUBLIC_BASE_URL']}/hooks/stripe/events/"
EVENTS = ["v1.billing.meter.error_report_triggered", "v1.billing.meter.no_meter_found"]
secret = os.environ["STRIPE_EVENT_SECRETS"].split(",")[0].strip()
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
