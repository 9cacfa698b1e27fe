"""Reading ``/metrics`` as Prometheus would: parsed by prometheus-client's own parser."""

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-test-token-0123456789"


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """One sample's value; 0 when it is absent (a labelled counter not yet incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(client: Any) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``/metrics`` through Django's test client, with the test token."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.content
    return parse(response.content.decode())


def scrape_url(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``/metrics`` of a running server."""
    response = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return parse(response.text)
