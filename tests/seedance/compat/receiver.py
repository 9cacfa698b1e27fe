"""A tenant app's callback receiver, written from Runflow's documentation of its callbacks
(docs.runflow.io, guides/verify-callback-signatures), never from our signing code:

``Runflow-Signature`` is 64 lowercase hex characters, the HMAC-SHA256 of the raw request
body keyed with the whole secret string (``whsec_`` included, not base64-decoded);
during a rotation two secrets verify, so the receiver holds a list; compare in constant
time. ``Runflow-Request-Id`` names the callback: a repeat carries the same one.
"""

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def runflow_signature_valid(raw_body: bytes, signature: str | None, secrets: list[str]) -> bool:
    if signature is None or len(signature) != 64:
        return False
    return any(
        hmac.compare_digest(
            hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest(), signature
        )
        for secret in secrets
    )


@dataclass
class Received:
    headers: dict[str, str]  # names lower-cased: HTTP's are case-blind
    raw_body: bytes
    verified: bool

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.raw_body))


@dataclass
class CallbackReceiver:
    secrets: list[str] = field(default_factory=list)
    #: Statuses to answer, in turn; 200 once they run out.
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def start(self) -> "CallbackReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                verified = runflow_signature_valid(
                    raw, self.headers.get("Runflow-Signature"), receiver.secrets
                )
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.append(Received(headers, raw, verified))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status if verified or not receiver.secrets else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.netloc}/runflow/callbacks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
