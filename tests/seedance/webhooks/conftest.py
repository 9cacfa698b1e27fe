"""A tenant app's webhook receiver on loopback, verifying with ``standardwebhooks``' own
``Webhook.verify`` (not our code), and helpers that drive the dispatcher's path."""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from seedance.models import Tenant, WebhookDelivery, WebhookEndpoint
from seedance.webhooks.delivery import deliveries_claim_due, delivery_attempt
from seedance.webhooks.endpoints import webhook_endpoint_create
from seedance.webhooks.events import EVENT_TYPES


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


@dataclass
class Received:
    webhook_id: str
    headers: dict[str, str]
    body: str
    #: What verifying with the receiver's secrets gave: the payload, or the error.
    payload: Any
    verified_with: str | None
    status: int


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.secrets: list[str] = []
        self.answers: list[Answer] = []
        self.received: list[Received] = []
        #: Each webhook-id the app acted on, once (it deduplicates on the id).
        self.handled: list[str] = []
        self.connections = 0
        #: The webhook-id of each request as it arrives, before it is answered.
        self.arrived: list[str] = []
        self.lock = threading.Lock()

    def verify_request(self, request: Any, client_address: Any) -> bool:
        with self.lock:
            self.connections += 1
        return True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def answer_next(self, *answers: Answer) -> None:
        with self.lock:
            self.answers.extend(answers)

    def verified(self) -> list[Received]:
        return [r for r in self.received if r.verified_with is not None]

    def handled_types(self) -> list[tuple[str, str]]:
        by_id = {r.webhook_id: r.payload for r in self.verified()}
        return [(by_id[i]["type"], by_id[i]["data"].get("id", "")) for i in self.handled]


class ReceiverHandler(BaseHTTPRequestHandler):
    server: ReceiverServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        headers = {key.lower(): value for key, value in self.headers.items()}
        payload: Any = None
        verified_with = None
        for secret in self.server.secrets:
            try:
                payload = Webhook(secret).verify(body, headers)
                verified_with = secret
                break
            except WebhookVerificationError as exc:
                payload = str(exc)
        with self.server.lock:
            answer = self.server.answers.pop(0) if self.server.answers else Answer()
        if verified_with is None:
            answer = Answer(status=401, body=b"bad signature")
        webhook_id = headers.get("webhook-id", "")
        with self.server.lock:
            self.server.arrived.append(webhook_id)
        time.sleep(answer.delay)
        with self.server.lock:
            self.server.received.append(
                Received(webhook_id, headers, body, payload, verified_with, answer.status)
            )
            if 200 <= answer.status < 300 and webhook_id not in self.server.handled:
                self.server.handled.append(webhook_id)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender gave up (timed out, or its worker was killed)


@pytest.fixture
def receiver(settings: Any) -> Iterator[ReceiverServer]:
    """A receiver the outbound guard may reach over plain http on loopback (as the demo's)."""
    server = ReceiverServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "OUTBOUND_LOOPBACK_HTTP": [*settings.SEEDANCE["OUTBOUND_LOOPBACK_HTTP"], server.netloc],
        "WEBHOOK_RETRY_JITTER": 0.0,
        "WEBHOOK_TIMEOUT_SECONDS": 3.0,
    }
    yield server
    server.shutdown()
    server.server_close()


def subscribe(
    tenant: Tenant, receiver: ReceiverServer, events: list[str] | None = None
) -> WebhookEndpoint:
    """An endpoint for every event type (or ``events``), its secret given to the receiver."""
    made = webhook_endpoint_create(
        tenant=tenant, url=receiver.url, events=events or list(EVENT_TYPES)
    )
    receiver.secrets.append(made.secret)
    return made.endpoint


def deliver_due(now: datetime | None = None) -> list[str]:
    """One dispatcher tick's claims, each attempt run as its task would run it."""
    now = now or timezone.now()
    return [delivery_attempt(pk, lease, now=now) for pk, lease in deliveries_claim_due(now)]


def time_passes() -> None:
    """Every pending delivery's wait is over (the receiver verifies against the real clock,
    so the waits are brought forward instead of the clock)."""
    WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING).update(
        next_attempt_at=timezone.now()
    )
