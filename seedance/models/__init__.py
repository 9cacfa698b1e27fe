"""Tenants, their people and keys, and the runs they make: one module per part."""

from seedance.models.audit import AuditEntry
from seedance.models.compat import CallbackDelivery, CallbackSecret
from seedance.models.discrepancies import RunDiscrepancy
from seedance.models.inbound import InboundDelivery, RejectedDelivery, RejectedDeliveryCount
from seedance.models.ratelimit import RateCounter
from seedance.models.runs import IdempotencyKey, ModerationDecision, OutputFile, Run
from seedance.models.shares import ShareLink
from seedance.models.tenants import INVITATION_OPEN, ApiKey, Invitation, Membership, Person, Tenant
from seedance.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "INVITATION_OPEN",
    "ApiKey",
    "AuditEntry",
    "CallbackDelivery",
    "CallbackSecret",
    "IdempotencyKey",
    "InboundDelivery",
    "Invitation",
    "Membership",
    "ModerationDecision",
    "OutputFile",
    "Person",
    "RateCounter",
    "RejectedDelivery",
    "RejectedDeliveryCount",
    "Run",
    "RunDiscrepancy",
    "ShareLink",
    "Tenant",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
