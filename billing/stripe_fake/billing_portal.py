"""The customer Billing Portal: configurations (which features a session offers) and
sessions (a short-lived ``url`` on the fake's own server, ``pages.py``).

A session without ``configuration`` uses the account's default one; an account that never
saved one has none, and Stripe then refuses the session, as the fake does.
"""

from typing import Any

from stripe.params.billing_portal import (
    ConfigurationCreateParams,
    ConfigurationListParams,
    ConfigurationRetrieveParams,
    SessionCreateParams,
)

from .expand import expanded
from .forms import as_list, choice, flag, hash_, invalid, metadata, missing, text
from .store import Store, found, new_id, page, route

FEATURES = (
    "customer_update",
    "invoice_history",
    "payment_method_update",
    "subscription_cancel",
    "subscription_update",
)
CUSTOMER_UPDATES = ("address", "email", "name", "phone", "shipping", "tax_id")
NO_DEFAULT = (
    "You can't create a portal session in test mode until you save your customer portal "
    "settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal."
)


def create_configuration(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    if "features" not in params:
        raise missing("features")
    features = _features(hash_(params, "features"))
    default_return_url = text(params, "default_return_url")
    if default_return_url and not default_return_url.startswith(("http://", "https://")):
        raise invalid(f"Not a valid URL: {default_return_url}", param="default_return_url")
    profile = hash_(params, "business_profile")
    now = store.timestamp()
    configuration: dict[str, Any] = {
        "id": new_id("bpc"),
        "object": "billing_portal.configuration",
        "active": True,
        "application": None,
        "business_profile": {
            "headline": text(profile, "headline"),
            "privacy_policy_url": text(profile, "privacy_policy_url"),
            "terms_of_service_url": text(profile, "terms_of_service_url"),
        },
        "created": now,
        "default_return_url": default_return_url,
        "features": features,
        "is_default": False,
        "livemode": False,
        "login_page": {"enabled": False, "url": None},
        "metadata": metadata(params),
        "name": text(params, "name"),
        "updated": now,
    }
    store.portal_configurations[configuration["id"]] = configuration
    return configuration


def _features(raw: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(FEATURES) - {"subscription_pause"})
    if unknown:
        raise invalid(f"The fake does not support features[{unknown[0]}].", param="features")
    features: dict[str, Any] = {}
    for name in FEATURES:
        given = hash_(raw, name)
        param = f"features[{name}]"
        if given and "enabled" not in given:
            raise missing(f"{param}[enabled]")
        enabled = flag(given, "enabled", False)
        feature: dict[str, Any] = {"enabled": enabled}
        if name == "customer_update":
            updates = [str(u) for u in as_list(given, "allowed_updates")]
            bad = [u for u in updates if u not in CUSTOMER_UPDATES]
            if bad:
                message = f"Invalid allowed_updates: {bad[0]}"
                raise invalid(message, param=f"{param}[allowed_updates]")
            feature["allowed_updates"] = updates
        elif name == "payment_method_update":
            feature["payment_method_configuration"] = None
        elif name == "subscription_cancel":
            modes = ("at_period_end", "immediately")
            feature["mode"] = choice(given, "mode", modes, "at_period_end")
            feature["proration_behavior"] = "none"
            feature["cancellation_reason"] = {"enabled": False, "options": []}
        elif name == "subscription_update":
            if enabled:
                raise invalid("The fake does not support subscription_update.", param=param)
            feature.update(default_allowed_updates=[], products=None, proration_behavior="none")
        features[name] = feature
    return features


def get_configuration(store: Store, params: dict[str, Any], config_id: str) -> dict[str, Any]:
    configuration = found(store.portal_configurations, config_id, "configuration")
    return expanded(store, configuration, params)


def list_configurations(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    active = params.get("active")
    is_default = params.get("is_default")
    configurations = [
        c
        for c in store.portal_configurations.values()
        if (active in (None, "") or c["active"] == flag(params, "active", True))
        and (is_default in (None, "") or c["is_default"] == flag(params, "is_default", False))
    ]
    return page(configurations, params, "/v1/billing_portal/configurations", "configuration")


def create_session(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    customer_id = text(params, "customer", required=True) or ""
    customer = found(store.customers, customer_id, "customer", param="customer", status=400)
    if customer.get("deleted"):
        raise invalid(f"No such customer: '{customer_id}'", param="customer")
    config_id = text(params, "configuration")
    if config_id is not None:
        configuration = found(
            store.portal_configurations,
            config_id,
            "configuration",
            param="configuration",
            status=400,
        )
    else:
        defaults = [c for c in store.portal_configurations.values() if c["is_default"]]
        if not defaults:
            raise invalid(NO_DEFAULT)
        configuration = defaults[0]
    if not configuration["active"]:
        raise invalid("This configuration is not active.", param="configuration")
    for name in ("flow_data", "on_behalf_of", "customer_account"):
        if name in params:
            raise invalid(f"The fake does not support {name}.", param=name)
    return_url = text(params, "return_url") or configuration["default_return_url"]
    if return_url is not None and not return_url.startswith(("http://", "https://")):
        raise invalid(f"Not a valid URL: {return_url}", param="return_url")
    session_id = new_id("bps")
    session: dict[str, Any] = {
        "id": session_id,
        "object": "billing_portal.session",
        "configuration": configuration["id"],
        "created": store.timestamp(),
        "customer": customer_id,
        "flow": None,
        "livemode": False,
        "locale": text(params, "locale"),
        "on_behalf_of": None,
        "return_url": return_url,
        "url": f"{store.base_url}/p/session/{session_id}",
    }
    store.portal_sessions[session_id] = session
    return expanded(store, session, params)


ROUTES = [
    route(
        "POST",
        "/v1/billing_portal/configurations",
        create_configuration,
        ConfigurationCreateParams,
    ),
    route("GET", "/v1/billing_portal/configurations", list_configurations, ConfigurationListParams),
    route(
        "GET",
        "/v1/billing_portal/configurations/{id}",
        get_configuration,
        ConfigurationRetrieveParams,
    ),
    route("POST", "/v1/billing_portal/sessions", create_session, SessionCreateParams),
]
