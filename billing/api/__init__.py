"""Billing's REST API: the tenant's own usage, read from the ledger."""
