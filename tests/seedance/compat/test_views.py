"""The compatible surface's rules, one per test: Runflow's shapes, statuses, paging and
errors, on the same services as /api/v1."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import TenantBilling
from seedance.models import Run, Tenant
from seedance.moderation import run_reject
from seedance.outcomes import Outcome
from seedance.services.suspension import tenant_suspend
from seedance.states import RunStatus
from seedance.transitions import run_finish
from tests.factories import SYSTEM, finish_successfully

CREATE = "runflow_compat:model-runs"


def create(client: APIClient, prompt: str = "a fox", key: str | None = None, **body: Any) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        reverse(CREATE), {"input": {"prompt": prompt}, **body}, format="json", headers=headers
    )


def shown(client: APIClient, run: Run) -> dict[str, Any]:
    response = client.get(reverse("runflow_compat:run-detail", args=[run.pk]))
    assert response.status_code == 200
    return dict(response.json())


def test_every_answer_is_json_with_a_uuid_and_a_status_code(api_client: APIClient) -> None:
    made = create(api_client)
    assert made.status_code == 201
    assert made["Content-Type"] == "application/json"
    body = made.json()
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert body["status_code"] == "queued"
    assert body["model_id"] == "bytedance/seedance/2.0/fast/text-to-video"
    for path in ("/v1/runs", f"/v1/runs/{body['id']}", "/v1/runs/nope", "/v1/unknown"):
        assert api_client.get(path)["Content-Type"] == "application/json", path


def test_input_end_user_id_becomes_the_runs_end_user(api_client: APIClient) -> None:
    made = api_client.post(
        reverse(CREATE), {"input": {"prompt": "a fox", "end_user_id": "u-1"}}, format="json"
    )
    assert Run.objects.get(pk=made.json()["id"]).end_user_id == "u-1"
    assert made.json()["input"]["end_user_id"] == "u-1"


def test_bad_input_is_a_422_naming_each_field_by_its_place_in_runflows_body(
    api_client: APIClient,
) -> None:
    response = api_client.post(
        reverse(CREATE),
        {
            "input": {"prompt": " ", "duration": "99", "metadata": {}, "end_user_id": "portal:x"},
            "client_ref": "r" * 256,
            "webhook": "x",
        },
        format="json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert {error["field"] for error in body["errors"]} == {
        "input.prompt",
        "input.duration",
        "input.metadata",
        "input.end_user_id",
        "client_ref",
        "webhook",
    }
    assert not Run.objects.exists()


def test_a_body_without_input_is_refused(api_client: APIClient) -> None:
    response = api_client.post(reverse(CREATE), {"prompt": "a fox"}, format="json")
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {"input", "prompt"}


def test_another_model_of_runflows_catalogue_is_model_not_found(api_client: APIClient) -> None:
    response = api_client.post(
        "/v1/models/black-forest-labs/flux/dev/runs", {"input": {"prompt": "x"}}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "MODEL_NOT_FOUND"


def test_a_missing_or_foreign_run_is_run_not_found(
    api_client: APIClient, other_api_client: APIClient
) -> None:
    run = Run.objects.get(pk=create(other_api_client).json()["id"])
    for path in (f"/v1/runs/{run.pk}", f"/v1/runs/{uuid.uuid4()}", "/v1/runs/nope"):
        response = api_client.get(path)
        assert (response.status_code, response.json()["code"]) == (404, "RUN_NOT_FOUND")


def test_no_key_or_a_bad_key_is_unauthorized(db: None) -> None:
    for client in (APIClient(), APIClient(HTTP_AUTHORIZATION="Bearer sdk_nope_nope")):
        response = create(client)
        assert (response.status_code, response.json()["code"]) == (401, "UNAUTHORIZED")


def test_a_suspended_tenant_is_permission_denied_with_our_code(
    api_client: APIClient, tenant: Tenant
) -> None:
    tenant_suspend(tenant=tenant, actor=SYSTEM, reason="unpaid")
    response = create(api_client)
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"
    assert response.json()["details"] == {"code": "tenant_suspended"}


def test_the_concurrency_cap_is_rate_limited_with_retry_after(
    api_client: APIClient, tenant: Tenant
) -> None:
    TenantBilling.objects.filter(pk=tenant.pk).update(max_in_flight_runs=1)
    assert create(api_client).status_code == 201
    response = create(api_client)
    assert response.status_code == 429
    assert response.json()["code"] == "RATE_LIMITED"
    assert response.json()["details"] == {"code": "tenant_concurrency_cap"}
    assert int(response["Retry-After"]) > 0


def test_an_idempotency_key_replays_the_first_run_and_refuses_another_body(
    api_client: APIClient,
) -> None:
    first = create(api_client, key="k-1")
    again = create(api_client, key="k-1")
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    other = create(api_client, "a wolf", key="k-1")
    assert (other.status_code, other.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert Run.objects.count() == 1


def test_client_ref_is_stored_and_filterable_but_never_deduplicates(
    api_client: APIClient,
) -> None:
    ids = {create(api_client, client_ref="order-1").json()["id"] for _ in range(2)}
    create(api_client, client_ref="order-2")
    assert len(ids) == 2
    listed = api_client.get("/v1/runs", {"q": "client_ref:order-1"}).json()["items"]
    assert {item["id"] for item in listed} == ids
    assert {item["client_ref"] for item in listed} == {"order-1"}


def test_held_rejected_failed_and_canceled_runs_show_runflows_statuses(
    api_client: APIClient, admin_user: Any
) -> None:
    held, rejected, failed, canceled, done = (
        Run.objects.get(pk=create(api_client).json()["id"]) for _ in range(5)
    )
    finish_successfully(held, nsfw_detected=True)
    finish_successfully(rejected, nsfw_detected=True)
    run_reject(run_id=rejected.pk, decided_by=admin_user, reason="no")
    run_finish(
        failed.pk, Outcome(status=RunStatus.FAILED, failure_code="gen", failure_message="Boom.")
    )
    api_client.post(reverse("api:run-cancel", args=[canceled.pk]))
    finish_successfully(done)

    assert (shown(api_client, held)["status_code"], shown(api_client, held)["output"]) == (
        "running",
        None,
    )
    assert shown(api_client, rejected)["error"]["code"] == "CONTENT_REJECTED"
    assert shown(api_client, rejected)["status_code"] == "failed"
    assert shown(api_client, failed)["error"] == {"code": "GEN", "message": "Boom."}
    assert shown(api_client, canceled)["status_code"] == "canceled"
    assert shown(api_client, canceled)["error"]["code"] == "CANCELED"
    assert shown(api_client, done)["status_code"] == "succeeded"
    assert shown(api_client, done)["error"] is None

    def listed(q: str) -> set[str]:
        items = api_client.get("/v1/runs", {"q": q}).json()["items"]
        return {item["id"] for item in items}

    assert listed("status_code:running") == {str(held.pk)}
    assert listed("status_code:failed") == {str(rejected.pk), str(failed.pk)}
    assert listed("status_code:succeeded,canceled") == {str(done.pk), str(canceled.pk)}


def test_q_filters_by_created_at_and_refuses_what_it_cannot_read(api_client: APIClient) -> None:
    old = Run.objects.get(pk=create(api_client).json()["id"])
    Run.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    new = create(api_client).json()["id"]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    items = api_client.get("/v1/runs", {"q": f"created_at>{since}"}).json()["items"]
    assert [item["id"] for item in items] == [new]
    items = api_client.get("/v1/runs", {"q": f"status_code:queued AND created_at<{since}"})
    assert [item["id"] for item in items.json()["items"]] == [str(old.pk)]
    for q in (
        "prompt:fox",
        "created_at>yesterday",
        "status_code:done",
        "nonsense",
        "client_ref:\x00",
    ):
        response = api_client.get("/v1/runs", {"q": q})
        assert response.status_code == 422, q
        assert response.json()["errors"][0]["field"] == "q"


def test_pages_follow_next_pq_and_prev_pq_and_limit_is_at_most_500(
    api_client: APIClient,
) -> None:
    made = [create(api_client).json()["id"] for _ in range(5)]
    seen: list[str] = []
    page = api_client.get("/v1/runs", {"limit": 2}).json()
    while True:
        seen += [item["id"] for item in page["items"]]
        if page["next_pq"] is None:
            break
        last = page
        page = api_client.get("/v1/runs", {"limit": 2, "pq": page["next_pq"]}).json()
    assert seen == list(reversed(made))
    back = api_client.get("/v1/runs", {"limit": 2, "pq": page["prev_pq"]}).json()
    assert back["items"] == last["items"]
    assert api_client.get("/v1/runs", {"limit": 500}).status_code == 200
    for bad in ({"limit": 501}, {"limit": 0}, {"pq": "%%%"}, {"cursor": "x"}):
        assert api_client.get("/v1/runs", bad).status_code in (400, 422), bad


def test_health_answers_without_a_key() -> None:
    response = APIClient().get("/v1/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_an_unsupported_method_is_json_405(api_client: APIClient, method: str) -> None:
    response = getattr(api_client, method)("/v1/runs")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
