"""Products and prices: what a unit of metered usage costs, kept exact as Stripe keeps it."""

import re
from typing import Any

from stripe.params import (
    PriceCreateParams,
    PriceListParams,
    PriceRetrieveParams,
    ProductCreateParams,
    ProductRetrieveParams,
)

from .forms import (
    as_list,
    choice,
    decimal,
    flag,
    hash_,
    integer,
    invalid,
    metadata,
    missing,
    text,
)
from .store import Store, found, new_id, page, route

CURRENCY = re.compile(r"^[a-z]{3}$")
INTERVALS = ("day", "week", "month", "year")


def create_product(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    product = _product(store, params, text(params, "id"))
    store.products[product["id"]] = product
    return product


def _product(store: Store, data: dict[str, Any], product_id: str | None) -> dict[str, Any]:
    if product_id is not None and product_id in store.products:
        raise invalid(
            f"Product already exists with id {product_id}.",
            param="id",
            code="resource_already_exists",
        )
    now = store.timestamp()
    return {
        "id": product_id or new_id("prod"),
        "object": "product",
        "active": flag(data, "active", True),
        "created": now,
        "default_price": None,
        "description": text(data, "description"),
        "livemode": False,
        "metadata": metadata(data),
        "name": text(data, "name", required=True),
        "type": "service",
        "unit_label": text(data, "unit_label"),
        "updated": now,
    }


def get_product(store: Store, params: dict[str, Any], product_id: str) -> dict[str, Any]:
    return found(store.products, product_id, "product")


def create_price(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    currency = text(params, "currency", required=True) or ""
    if not CURRENCY.match(currency):
        raise invalid(f"Invalid currency: {currency}", param="currency")
    if choice(params, "billing_scheme", ("per_unit", "tiered"), "per_unit") != "per_unit":
        raise invalid("The fake supports only billing_scheme=per_unit.", param="billing_scheme")
    unit_amount, unit_amount_decimal = _amounts(params)
    recurring = _recurring(store, params)
    product_id = _product_of(store, params)
    lookup_key = text(params, "lookup_key")
    if lookup_key is not None:
        _claim(store, lookup_key, transfer=flag(params, "transfer_lookup_key", False))
    price: dict[str, Any] = {
        "id": new_id("price"),
        "object": "price",
        "active": flag(params, "active", True),
        "billing_scheme": "per_unit",
        "created": store.timestamp(),
        "currency": currency,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": metadata(params),
        "nickname": text(params, "nickname"),
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": text(params, "tax_behavior") or "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring is not None else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
    }
    store.prices[price["id"]] = price
    return price


def _amounts(params: dict[str, Any]) -> tuple[int | None, str]:
    """Stripe keeps ``unit_amount_decimal`` as a string; a whole one also fills ``unit_amount``."""
    whole, exact = params.get("unit_amount"), params.get("unit_amount_decimal")
    if whole not in (None, "") and exact not in (None, ""):
        raise invalid(
            "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
            param="unit_amount",
            code="parameters_exclusive",
        )
    if whole not in (None, ""):
        amount = integer(whole, "unit_amount")
        return amount, str(amount)
    if exact in (None, ""):
        raise missing("unit_amount")
    value = decimal(exact, "unit_amount_decimal")
    return (int(value) if value.isdigit() else None), value


def _recurring(store: Store, params: dict[str, Any]) -> dict[str, Any] | None:
    raw = hash_(params, "recurring")
    if not raw:
        return None
    interval = text(raw, "interval")
    if interval is None:
        raise missing("recurring[interval]")
    if interval not in INTERVALS:
        raise invalid(f"Invalid recurring[interval]: {interval}", param="recurring[interval]")
    count_raw = raw.get("interval_count")
    count = integer(count_raw, "recurring[interval_count]") if count_raw else 1
    usage_type = choice(raw, "usage_type", ("licensed", "metered"), "licensed")
    meter_id = text(raw, "meter")
    if usage_type == "metered" and meter_id is None:
        raise invalid(
            "Metered prices must be backed by a meter: pass recurring[meter].",
            param="recurring[meter]",
        )
    if meter_id is not None:
        if usage_type != "metered":
            raise invalid(
                "recurring[meter] needs recurring[usage_type]=metered.", param="recurring[meter]"
            )
        found(store.meters, meter_id, "billing meter", param="recurring[meter]", status=400)
    return {
        "interval": interval,
        "interval_count": count,
        "meter": meter_id,
        "trial_period_days": None,
        "usage_type": usage_type,
    }


def _product_of(store: Store, params: dict[str, Any]) -> str:
    product_id, data = text(params, "product"), hash_(params, "product_data")
    if product_id is not None and data:
        raise invalid(
            "You may only specify one of these parameters: product, product_data.",
            param="product",
            code="parameters_exclusive",
        )
    if product_id is not None:
        return found(store.products, product_id, "product", param="product", status=400)["id"]
    if not data:
        raise missing("product")
    product = _product(store, data, text(data, "id"))
    store.products[product["id"]] = product
    return str(product["id"])


def _claim(store: Store, lookup_key: str, *, transfer: bool) -> None:
    """A lookup key names one price; ``transfer_lookup_key`` moves it, as on Stripe."""
    for price in store.prices.values():
        if price["lookup_key"] == lookup_key:
            if not transfer:
                raise invalid(
                    f"A price (`{price['id']}`) already uses that lookup key.",
                    param="lookup_key",
                    code="lookup_key_already_exists",
                )
            price["lookup_key"] = None


def get_price(store: Store, params: dict[str, Any], price_id: str) -> dict[str, Any]:
    return found(store.prices, price_id, "price")


def list_prices(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    keys = set(as_list(params, "lookup_keys"))
    product, currency = text(params, "product"), text(params, "currency")
    active = flag(params, "active", True) if params.get("active") else None
    kind = text(params, "type")
    prices = [
        price
        for price in store.prices.values()
        if (not keys or price["lookup_key"] in keys)
        and (product is None or price["product"] == product)
        and (currency is None or price["currency"] == currency)
        and (active is None or price["active"] == active)
        and (kind is None or price["type"] == kind)
    ]
    return page(prices, params, "/v1/prices", "price")


ROUTES = [
    route("POST", "/v1/products", create_product, ProductCreateParams),
    route("GET", "/v1/products/{id}", get_product, ProductRetrieveParams),
    route("POST", "/v1/prices", create_price, PriceCreateParams),
    route("GET", "/v1/prices", list_prices, PriceListParams),
    route("GET", "/v1/prices/{id}", get_price, PriceRetrieveParams),
]
