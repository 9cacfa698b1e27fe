"""Signed inbound webhooks (Runflow callbacks, Stripe events): one base, one delivery record."""
