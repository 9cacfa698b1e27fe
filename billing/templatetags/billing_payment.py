"""``{% payment_method_status membership as status %}``: what billing's panels need to say
whether the tenant must add a card, without seedance's views knowing billing exists."""

from django import template

from billing.selectors import PaymentMethodStatus, payment_method_status, tenant_billing
from seedance.models import Membership

register = template.Library()


@register.simple_tag
def payment_method_status_of(membership: Membership) -> PaymentMethodStatus:
    tenant = membership.tenant
    return payment_method_status(billing=tenant_billing(tenant=tenant), tenant=tenant)
