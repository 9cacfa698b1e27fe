"""REST API v1 runs: create, read, list (cursor pages and filters), cancel, on-commit enqueue."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from seedance.models import IdempotencyKey, OutputFile, Run, Tenant
from seedance.outputs import outputs_copy
from seedance.public_status import OUTPUT_UNAVAILABLE, OUTPUT_UNAVAILABLE_MESSAGE
from seedance.sandbox import SandboxServer
from seedance.services.keys import IssuedKey
from seedance.services.submission import run_submit
from seedance.states import Delivery, RunStatus
from seedance.transitions import run_mark_undeliverable
from tests.factories import MP4_BYTES, deliver
from tests.fixtures.services import wait_for_run
from tests.queue import queued_submits

RUNS_URL = "/api/v1/runs"
PROMPT = "A red fox runs through fresh snow at dawn"
RUN_FIELDS = {
    "id",
    "status",
    "prompt",
    "aspect_ratio",
    "duration",
    "resolution",
    "generate_audio",
    "seed",
    "end_user_id",
    "metadata",
    "output",
    "failure",
    "moderation",
    "billable",
    "charge",
    "duration_ms",
    "created_at",
    "submitted_at",
    "started_at",
    "completed_at",
}


def detail_url(run_id: Any) -> str:
    return f"{RUNS_URL}/{run_id}"


def cancel_url(run_id: Any) -> str:
    return f"{RUNS_URL}/{run_id}/cancel"


def post_run(client: APIClient, **fields: Any) -> Any:
    return client.post(RUNS_URL, {"prompt": PROMPT, **fields}, format="json")


def post_raw(client: APIClient, body: str | bytes) -> Any:
    return client.post(RUNS_URL, data=body, content_type="application/json")


def make_run(tenant: Tenant, **fields: Any) -> Run:
    return Run.objects.create(
        tenant=tenant,
        prompt=fields.pop("prompt", PROMPT),
        deadline_at=timezone.now() + timedelta(minutes=30),
        **fields,
    )


def assert_invalid_input(response: Any, field: str) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["message"]
    assert field in error["fields"], error
    assert all(isinstance(message, str) for message in error["fields"][field])


def follow_pages(client: APIClient, url: str) -> list[list[str]]:
    """Every page's run ids, following ``next`` links to the end."""
    pages: list[list[str]] = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([run["id"] for run in body["results"]])
        next_url = body["next"]
        assert len(pages) < 200, "pagination never ends"
    return pages


# --- create ---------------------------------------------------------------------------


def test_create_answers_201_with_the_queued_run(api_client: APIClient, tenant: Tenant) -> None:
    response = post_run(
        api_client,
        aspect_ratio="16:9",
        duration="8",
        resolution="480p",
        generate_audio=False,
        seed=7,
        end_user_id="user-1",
        metadata={"order": 12},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == RUN_FIELDS
    assert body["status"] == "queued"
    assert body["prompt"] == PROMPT
    assert body["aspect_ratio"] == "16:9"
    assert body["duration"] == "8"
    assert body["resolution"] == "480p"
    assert body["generate_audio"] is False
    assert body["seed"] == 7
    assert body["end_user_id"] == "user-1"
    assert body["metadata"] == {"order": 12}
    assert body["output"] is None
    assert body["failure"] is None
    assert body["moderation"] == "none"
    assert body["created_at"]
    assert body["submitted_at"] is None
    assert body["completed_at"] is None
    assert "Idempotent-Replayed" not in response

    run = Run.objects.get(pk=body["id"])
    assert run.tenant == tenant
    assert run.status == RunStatus.QUEUED
    assert run.claimed_at is None
    assert run.deadline_at > run.created_at


def test_create_with_prompt_only_stores_the_documented_defaults(api_client: APIClient) -> None:
    body = post_run(api_client).json()
    assert {name: body[name] for name in ("aspect_ratio", "duration", "resolution")} == {
        "aspect_ratio": "auto",
        "duration": "auto",
        "resolution": "720p",
    }
    assert body["generate_audio"] is True
    assert body["seed"] is None
    assert body["end_user_id"] == ""
    assert body["metadata"] == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        *(("aspect_ratio", ratio) for ratio in ("auto", "21:9", "16:9", "4:3", "1:1", "3:4")),
        ("aspect_ratio", "9:16"),
        *(("duration", seconds) for seconds in ("auto", *(str(n) for n in range(4, 16)))),
        ("resolution", "480p"),
        ("resolution", "720p"),
        ("generate_audio", True),
        ("generate_audio", False),
        ("seed", 0),
        ("seed", 2**32 - 1),
        ("seed", None),
        ("end_user_id", "x" * 255),
        ("end_user_id", ""),
        ("metadata", {"nested": {"list": [1, "two", None]}}),
    ],
)
def test_every_documented_input_value_is_accepted_and_stored(
    api_client: APIClient, field: str, value: Any
) -> None:
    response = post_run(api_client, **{field: value})
    assert response.status_code == 201, response.content
    assert response.json()[field] == value
    assert getattr(Run.objects.get(pk=response.json()["id"]), field) == value


@pytest.mark.parametrize("seconds", [4, 5, 15])
def test_integer_duration_is_accepted_and_stored_as_string(
    api_client: APIClient, seconds: int
) -> None:
    response = post_run(api_client, duration=seconds)
    assert response.status_code == 201, response.content
    assert response.json()["duration"] == str(seconds)
    assert Run.objects.get(pk=response.json()["id"]).duration == str(seconds)


def test_prompt_of_exactly_the_limit_is_accepted(api_client: APIClient) -> None:
    response = api_client.post(RUNS_URL, {"prompt": "é" * 2000}, format="json")
    assert response.status_code == 201, response.content


def test_metadata_of_exactly_16_kib_is_accepted(api_client: APIClient) -> None:
    metadata = {"k": "x" * (16 * 1024 - len('{"k":""}'))}
    response = post_run(api_client, metadata=metadata)
    assert response.status_code == 201, response.content
    assert Run.objects.get(pk=response.json()["id"]).metadata == metadata


REFUSED_BODIES: list[tuple[dict[str, Any], str]] = [
    ({}, "prompt"),
    ({"prompt": ""}, "prompt"),
    ({"prompt": "   "}, "prompt"),
    ({"prompt": "x" * 2001}, "prompt"),
    ({"prompt": 42}, "prompt"),
    ({"prompt": None}, "prompt"),
    ({"prompt": ["a"]}, "prompt"),
    ({"prompt": "a\x00b"}, "prompt"),
    ({"prompt": PROMPT, "duration": "3"}, "duration"),
    ({"prompt": PROMPT, "duration": "16"}, "duration"),
    ({"prompt": PROMPT, "duration": 3}, "duration"),
    ({"prompt": PROMPT, "duration": 16}, "duration"),
    ({"prompt": PROMPT, "duration": "abc"}, "duration"),
    ({"prompt": PROMPT, "duration": 5.5}, "duration"),
    ({"prompt": PROMPT, "duration": True}, "duration"),
    ({"prompt": PROMPT, "resolution": "1080p"}, "resolution"),
    ({"prompt": PROMPT, "aspect_ratio": "5:4"}, "aspect_ratio"),
    ({"prompt": PROMPT, "seed": "1"}, "seed"),
    ({"prompt": PROMPT, "seed": 1.5}, "seed"),
    ({"prompt": PROMPT, "seed": -1}, "seed"),
    ({"prompt": PROMPT, "seed": 2**32}, "seed"),
    ({"prompt": PROMPT, "seed": True}, "seed"),
    ({"prompt": PROMPT, "generate_audio": "true"}, "generate_audio"),
    ({"prompt": PROMPT, "metadata": ["a"]}, "metadata"),
    ({"prompt": PROMPT, "metadata": {"k": "x" * (16 * 1024)}}, "metadata"),
    ({"prompt": PROMPT, "metadata": {"k": "a\x00b"}}, "metadata"),
    ({"prompt": PROMPT, "metadata": {"a\x00": 1}}, "metadata"),
    ({"prompt": PROMPT, "end_user_id": 42}, "end_user_id"),
    ({"prompt": PROMPT, "end_user_id": "x" * 256}, "end_user_id"),
    ({"prompt": PROMPT, "end_user_id": "u\x00"}, "end_user_id"),
    ({"prompt": PROMPT, "unknown": 1}, "unknown"),
    ({"prompt": PROMPT, "image_url": "https://example.com/a.png"}, "image_url"),
]


def _case_id(case: Any) -> str | None:
    return case if isinstance(case, str) else None


@pytest.mark.parametrize(("body", "field"), REFUSED_BODIES, ids=_case_id)
def test_invalid_input_is_refused_per_field_and_writes_nothing(
    api_client: APIClient, body: dict[str, Any], field: str
) -> None:
    before = Run.objects.count()
    response = api_client.post(RUNS_URL, data=json.dumps(body), content_type="application/json")
    assert_invalid_input(response, field)
    assert Run.objects.count() == before
    assert not IdempotencyKey.objects.exists()


def test_oversized_metadata_is_refused_and_writes_nothing(api_client: APIClient) -> None:
    metadata = {"k": "x" * (16 * 1024 - len('{"k":""}') + 1)}
    response = post_run(api_client, metadata=metadata)
    assert_invalid_input(response, "metadata")
    assert not Run.objects.exists()


def test_every_broken_field_is_reported_in_one_answer(api_client: APIClient) -> None:
    response = api_client.post(
        RUNS_URL,
        {"prompt": "", "duration": "3", "seed": -1, "resolution": "1080p", "extra": 1},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {
        "prompt",
        "duration",
        "seed",
        "resolution",
        "extra",
    }
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    "raw",
    ["[]", '[{"prompt": "x"}]', '"prompt"', "42", "null"],
    ids=["list", "list-obj", "str", "int", "null"],
)
def test_body_that_is_not_a_json_object_is_refused(api_client: APIClient, raw: str) -> None:
    response = post_raw(api_client, raw)
    assert_invalid_input(response, "non_field_errors")
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        '{"prompt": "x"',
        "{prompt: 'x'}",
        '{"prompt": "x",}',
        "not json",
        '{"prompt": "x", "seed": NaN}',
    ],
    ids=["truncated", "js-object", "trailing-comma", "text", "nan"],
)
def test_malformed_json_is_a_400_and_writes_nothing(api_client: APIClient, raw: str) -> None:
    response = post_raw(api_client, raw)
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == "parse_error"
    assert not Run.objects.exists()


def test_non_json_body_is_refused_and_writes_nothing(api_client: APIClient) -> None:
    response = api_client.post(RUNS_URL, {"prompt": PROMPT})  # form-encoded
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not Run.objects.exists()


@pytest.mark.parametrize("field", ["prompt", "end_user_id"])
def test_lone_surrogate_in_a_string_is_a_field_level_400(api_client: APIClient, field: str) -> None:
    body = {"prompt": PROMPT, field: "\\ud800"}
    raw = json.dumps(body).replace("\\\\ud800", "\\ud800")
    response = post_raw(api_client, raw)
    assert_invalid_input(response, field)
    assert not Run.objects.exists()


# --- on-commit enqueue ------------------------------------------------------------------


def test_create_enqueues_exactly_one_submit_task_on_commit(
    api_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_run(api_client)
    assert response.status_code == 201
    assert len(callbacks) == 1
    assert queued_submits(response.json()["id"]) == 1


def test_refused_create_enqueues_nothing(
    api_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_run(api_client, duration="3")
    assert response.status_code == 400
    assert callbacks == []


def test_nothing_is_enqueued_before_commit(
    api_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_run(api_client)
    assert len(callbacks) == 1
    assert queued_submits(response.json()["id"]) == 0


# --- retrieve -------------------------------------------------------------------------


def test_detail_shows_the_created_run(api_client: APIClient) -> None:
    created = post_run(api_client, seed=3, metadata={"a": 1}).json()
    response = api_client.get(detail_url(created["id"]))
    assert response.status_code == 200
    assert response.json() == created


def test_create_answers_the_run_it_inserted_without_reading_it_back(
    api_client: APIClient,
) -> None:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        created = post_run(api_client, seed=3)
    assert created.status_code == 201
    run_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "seedance_run"' in q["sql"]
    ]
    assert run_reads == []
    assert api_client.get(detail_url(created.json()["id"])).json() == created.json()


def generated(tenant: Tenant) -> Run:
    """A run Runflow finished, whose copy into our storage has not been made yet."""
    run = make_run(tenant)
    output = {"url": "https://cdn.example/v.mp4", "type": "video/mp4", "width": 1280}
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED,
        outputs=[{**output, "height": 720, "duration": 5.0, "has_audio": True}],
        result_seed=99,
        nsfw_detected=False,
        completed_at=timezone.now(),
    )
    return Run.objects.get(pk=run.pk)


def test_generated_run_not_yet_copied_is_running_with_no_output(
    api_client: APIClient, tenant: Tenant
) -> None:
    run = generated(tenant)
    OutputFile.objects.create(run=run, index=0, width=1280, height=720, duration=5.0)

    body = api_client.get(detail_url(run.pk)).json()

    assert body["status"] == "running"
    assert body["output"] is None
    assert body["failure"] is None
    assert body["billable"] is None
    assert "cdn.example" not in response_text(api_client.get(detail_url(run.pk)))


def test_delivered_run_is_succeeded_with_our_fetchable_link(
    api_client: APIClient, tenant: Tenant
) -> None:
    run = deliver(generated(tenant))

    body = api_client.get(detail_url(run.pk)).json()

    assert body["status"] == "succeeded"
    assert body["failure"] is None
    assert body["billable"] is True
    shown = body["output"]["outputs"]
    assert [{k: v for k, v in o.items() if k != "url"} for o in shown] == [
        {"type": "video/mp4", "width": 1280, "height": 720, "duration": 5.0, "expires_at": None}
    ]
    assert {k: body["output"][k] for k in ("withheld", "seed", "nsfw_detected")} == {
        "withheld": None,
        "seed": 99,
        "nsfw_detected": False,
    }
    served = Client().get(shown[0]["url"].removeprefix("http://testserver"))
    assert b"".join(served.streaming_content) == MP4_BYTES
    assert "cdn.example" not in response_text(api_client.get(detail_url(run.pk)))


def test_undeliverable_run_shows_failed_output_unavailable_its_status_untouched(
    api_client: APIClient, tenant: Tenant
) -> None:
    run = generated(tenant)
    assert run_mark_undeliverable(run.pk, reason="output 0: the source answered HTTP 404")

    body = api_client.get(detail_url(run.pk)).json()

    assert body["status"] == "failed"
    assert body["output"] is None
    assert body["failure"] == {"code": OUTPUT_UNAVAILABLE, "message": OUTPUT_UNAVAILABLE_MESSAGE}
    assert body["billable"] is False
    assert Run.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED
    assert "HTTP 404" not in response_text(api_client.get(detail_url(run.pk)))


def test_held_run_shows_succeeded_pending_review_with_no_output_copied_or_not(
    api_client: APIClient, tenant: Tenant
) -> None:
    copying = generated(tenant)
    copied = deliver(generated(tenant))
    Run.objects.filter(pk__in=[copying.pk, copied.pk]).update(
        nsfw_detected=True, moderation=Run.Moderation.PENDING
    )

    for run in (copying, copied):
        body = api_client.get(detail_url(run.pk)).json()
        assert body["status"] == "succeeded"
        assert body["moderation"] == "pending"
        assert body["output"]["outputs"] == []
        assert body["output"]["withheld"] == "pending_review"
        assert body["failure"] is None


def test_failed_run_shows_its_failure(api_client: APIClient, tenant: Tenant) -> None:
    run = make_run(tenant)
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED, failure_code="GENERATION_FAILED", failure_message="boom"
    )
    body = api_client.get(detail_url(run.pk)).json()
    assert body["output"] is None
    assert body["failure"] == {"code": "GENERATION_FAILED", "message": "boom"}


@pytest.mark.parametrize(
    "run_id",
    [
        "not-a-uuid",
        "123",
        "00000000-0000-0000-0000-00000000000g",
        "5b0e8c61-27d8-4c5e-9a3e-1f0f6a7f2b44",
    ],
)
def test_unknown_or_malformed_run_id_is_a_json_404(api_client: APIClient, run_id: str) -> None:
    for response in (api_client.get(detail_url(run_id)), api_client.post(cancel_url(run_id))):
        assert response.status_code == 404
        assert response.json() == {
            "error": {"code": "not_found", "message": "Not found.", "fields": {}}
        }


# --- list -----------------------------------------------------------------------------


def test_list_shows_own_runs_newest_first(api_client: APIClient) -> None:
    ids = [post_run(api_client, prompt=f"run {n}").json()["id"] for n in range(3)]
    response = api_client.get(RUNS_URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert [run["id"] for run in body["results"]] == ids[::-1]
    assert body["next"] is None
    assert set(body["results"][0]) == RUN_FIELDS


def test_empty_list_is_an_empty_page(api_client: APIClient) -> None:
    assert api_client.get(RUNS_URL).json() == {"next": None, "previous": None, "results": []}


@pytest.mark.parametrize("limit", [1, 4, 7, 23, 50])
def test_cursor_pages_cover_every_run_once_in_order(
    api_client: APIClient, tenant: Tenant, limit: int
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    runs = [make_run(tenant) for _ in range(23)]
    for n, run in enumerate(runs):
        Run.objects.filter(pk=run.pk).update(created_at=start + timedelta(seconds=n))
    pages = follow_pages(api_client, f"{RUNS_URL}?limit={limit}")
    assert all(len(page) <= limit for page in pages)
    assert all(len(page) == limit for page in pages[:-1])
    assert pages[-1]
    flat = [run_id for page in pages for run_id in page]
    assert flat == [str(run.pk) for run in reversed(runs)]


def test_cursor_pages_have_no_duplicates_or_gaps_when_timestamps_tie(
    api_client: APIClient, tenant: Tenant
) -> None:
    runs = [make_run(tenant) for _ in range(17)]
    same = datetime(2026, 1, 1, tzinfo=UTC)
    Run.objects.filter(pk__in=[run.pk for run in runs[:12]]).update(created_at=same)
    Run.objects.filter(pk__in=[run.pk for run in runs[12:]]).update(
        created_at=same + timedelta(seconds=1)
    )
    flat = [run_id for page in follow_pages(api_client, f"{RUNS_URL}?limit=5") for run_id in page]
    assert len(flat) == len(set(flat)) == 17
    assert set(flat) == {str(run.pk) for run in runs}


def test_cursor_pages_keep_the_filters(api_client: APIClient, tenant: Tenant) -> None:
    wanted = [make_run(tenant, end_user_id="alice") for _ in range(7)]
    for _ in range(6):
        make_run(tenant, end_user_id="bob")
    pages = follow_pages(api_client, f"{RUNS_URL}?limit=3&end_user_id=alice")
    assert len(pages) == 3
    flat = [run_id for page in pages for run_id in page]
    assert sorted(flat) == sorted(str(run.pk) for run in wanted)


def test_limit_is_at_most_100(api_client: APIClient, tenant: Tenant) -> None:
    deadline = timezone.now() + timedelta(minutes=30)
    Run.objects.bulk_create(
        Run(tenant=tenant, prompt=f"p{n}", deadline_at=deadline) for n in range(105)
    )
    body = api_client.get(f"{RUNS_URL}?limit=100").json()
    assert len(body["results"]) == 100
    assert body["next"]
    # Past the maximum is a 400 naming the field, not a silently smaller page.
    refused = api_client.get(f"{RUNS_URL}?limit=1000")
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["limit"]


def test_default_page_size_is_20(api_client: APIClient, tenant: Tenant) -> None:
    deadline = timezone.now() + timedelta(minutes=30)
    Run.objects.bulk_create(
        Run(tenant=tenant, prompt=f"p{n}", deadline_at=deadline) for n in range(21)
    )
    assert len(api_client.get(RUNS_URL).json()["results"]) == 20


@pytest.fixture
def runs_by_status(tenant: Tenant) -> dict[str, Run]:
    """One run the tenant sees in each status; the succeeded one is delivered."""
    runs = {status: make_run(tenant) for status in RunStatus.values}
    for status, run in runs.items():
        Run.objects.filter(pk=run.pk).update(status=status, delivery=Delivery.DELIVERED)
    return runs


def test_status_filter_matches_the_shown_status_not_ours(
    api_client: APIClient, runs_by_status: dict[str, Run], tenant: Tenant
) -> None:
    copying = generated(tenant)
    lost = generated(tenant)
    run_mark_undeliverable(lost.pk, reason="gave up")

    def listed(*statuses: str) -> set[str]:
        response = api_client.get(RUNS_URL, {"status": list(statuses)})
        assert response.status_code == 200
        return {run["id"] for run in response.json()["results"]}

    assert listed("succeeded") == {str(runs_by_status["succeeded"].pk)}
    assert listed("running") == {str(runs_by_status["running"].pk), str(copying.pk)}
    assert listed("failed") == {str(runs_by_status["failed"].pk), str(lost.pk)}


@pytest.mark.parametrize(
    "statuses",
    [["queued"], ["succeeded"], ["queued", "canceled"], ["running", "failed", "succeeded"]],
)
def test_status_filter_is_repeatable(
    api_client: APIClient, runs_by_status: dict[str, Run], statuses: list[str]
) -> None:
    response = api_client.get(RUNS_URL, {"status": statuses})
    assert response.status_code == 200
    got = {run["id"]: run["status"] for run in response.json()["results"]}
    assert got == {str(runs_by_status[status].pk): status for status in statuses}


def test_end_user_id_filter_matches_exactly(api_client: APIClient, tenant: Tenant) -> None:
    alice = make_run(tenant, end_user_id="alice")
    make_run(tenant, end_user_id="alice2")
    make_run(tenant, end_user_id="")
    response = api_client.get(RUNS_URL, {"end_user_id": "alice"})
    assert [run["id"] for run in response.json()["results"]] == [str(alice.pk)]


def test_created_after_and_before_bound_the_list(api_client: APIClient, tenant: Tenant) -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    runs = [make_run(tenant) for _ in range(4)]
    for n, run in enumerate(runs):
        Run.objects.filter(pk=run.pk).update(created_at=start + timedelta(hours=n))

    def listed(**params: str) -> list[str]:
        response = api_client.get(RUNS_URL, params)
        assert response.status_code == 200, response.content
        return sorted(run["id"] for run in response.json()["results"])

    def ids(*indexes: int) -> list[str]:
        return sorted(str(runs[i].pk) for i in indexes)

    hour_1 = (start + timedelta(hours=1)).isoformat()
    hour_3 = (start + timedelta(hours=3)).isoformat()
    assert listed(created_after=hour_1) == ids(1, 2, 3)  # inclusive
    assert listed(created_before=hour_1) == ids(0)  # exclusive
    assert listed(created_after=hour_1, created_before=hour_3) == ids(1, 2)
    assert listed(created_after="2026-03-01T13:00:00Z") == ids(1, 2, 3)
    assert listed(created_after="2026-03-01T14:00:00+01:00") == ids(1, 2, 3)
    assert listed(created_after="2026-03-01T13:00:00") == ids(1, 2, 3)  # naive: UTC
    assert listed(created_before="2026-03-01T00:00:00+00:00") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"status": ["queued", "done"]}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_after": "2026-13-01T00:00:00Z"}, "created_after"),
        ({"created_before": "not-a-date"}, "created_before"),
        ({"end_user_id": "x" * 256}, "end_user_id"),
    ],
    ids=["status", "status-mixed", "after-text", "after-month-13", "before-text", "user-long"],
)
def test_bad_filter_value_is_a_field_level_400(
    api_client: APIClient, params: dict[str, Any], field: str
) -> None:
    assert_invalid_input(api_client.get(RUNS_URL, params), field)


def test_invalid_cursor_is_a_json_error(api_client: APIClient) -> None:
    response = api_client.get(RUNS_URL, {"cursor": "garbage"})
    assert response.status_code in (400, 404)
    assert set(response.json()["error"]) == {"code", "message", "fields"}


# --- cancel ---------------------------------------------------------------------------


def test_cancel_of_unclaimed_run_cancels_it(api_client: APIClient) -> None:
    run_id = post_run(api_client).json()["id"]
    response = api_client.post(cancel_url(run_id))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == run_id
    assert body["status"] == "canceled"
    assert body["failure"]["code"] == "canceled"
    assert body["failure"]["message"]
    assert body["completed_at"]
    run = Run.objects.get(pk=run_id)
    assert run.status == RunStatus.CANCELED
    assert run.failure_code == "canceled"
    assert api_client.get(detail_url(run_id)).json()["status"] == "canceled"


def test_cancel_is_idempotent_on_a_canceled_run(api_client: APIClient) -> None:
    run_id = post_run(api_client).json()["id"]
    first = api_client.post(cancel_url(run_id))
    second = api_client.post(cancel_url(run_id))
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()


def test_cancel_enqueues_nothing(
    api_client: APIClient, tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    run = make_run(tenant)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert api_client.post(cancel_url(run.pk)).status_code == 200
    assert callbacks == []
    assert queued_submits(run.pk) == 0


@pytest.mark.parametrize(
    "claim",
    [
        {"claimed_at": "now"},
        {"provider_run_id": "rf_run_123"},
        {"claimed_at": "now", "provider_run_id": "rf_run_123"},
        {"claimed_at": "now", "status": RunStatus.RUNNING},
    ],
    ids=["claimed", "submitted", "claimed-and-submitted", "running"],
)
def test_cancel_of_claimed_run_is_a_409_and_leaves_it_unchanged(
    api_client: APIClient, claim: dict[str, Any]
) -> None:
    run_id = post_run(api_client).json()["id"]
    values = {key: timezone.now() if value == "now" else value for key, value in claim.items()}
    Run.objects.filter(pk=run_id).update(**values)
    before = api_client.get(detail_url(run_id)).json()

    response = api_client.post(cancel_url(run_id))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "run_not_cancelable"
    assert "submitted" in error["message"]
    assert error["fields"] == {}
    assert api_client.get(detail_url(run_id)).json() == before
    run = Run.objects.get(pk=run_id)
    assert run.failure_code == ""
    assert run.completed_at is None


@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.FAILED])
def test_cancel_of_finished_run_is_a_409(
    api_client: APIClient, tenant: Tenant, status: str
) -> None:
    run = make_run(tenant)
    Run.objects.filter(pk=run.pk).update(status=status, completed_at=timezone.now())
    response = api_client.post(cancel_url(run.pk))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "run_not_cancelable"
    assert status in error["message"]
    assert Run.objects.get(pk=run.pk).status == status


def test_cancel_takes_no_get(api_client: APIClient, tenant: Tenant) -> None:
    run = make_run(tenant)
    assert api_client.get(cancel_url(run.pk)).status_code == 405
    assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED


def response_text(response: Any) -> str:
    return response.content.decode()


# --- billed means delivered, over real sockets ------------------------------------------


def _copy_in_another_thread(run_id: str) -> None:
    """What the copy task does in a worker, on its own database connection."""
    try:
        outputs_copy(run_id)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_polling_never_shows_succeeded_without_a_fetchable_url_while_the_copy_is_slow(
    sandbox: SandboxServer, live_server: Any, issued_key: IssuedKey
) -> None:
    sandbox.faults.set_global(media_delay=1.5)
    auth = {"Authorization": f"Bearer {issued_key.secret}"}
    with httpx.Client(base_url=live_server.url, headers=auth, timeout=10) as http:
        created = http.post(
            RUNS_URL, json={"prompt": PROMPT, "duration": "4", "resolution": "480p"}
        )
        run_id = created.json()["id"]
        run_submit(run_id)
        generated = wait_for_run(Run.objects.get(pk=run_id))
        assert generated.status == RunStatus.SUCCEEDED  # Runflow is done; our copy is not
        copier = threading.Thread(target=_copy_in_another_thread, args=(run_id,))
        copier.start()
        seen: list[str] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            body = http.get(f"{RUNS_URL}/{run_id}").json()
            seen.append(body["status"])
            if body["status"] == "succeeded":
                url = body["output"]["outputs"][0]["url"]
                video = http.get(url)
                break
            time.sleep(0.05)
        copier.join()

    assert seen[-1] == "succeeded", seen
    assert set(seen[:-1]) == {"running"}  # the slow copy was watched, never "succeeded"
    assert video.status_code == 200
    assert video.content == httpx.get(generated.outputs[0]["url"], timeout=10).content
