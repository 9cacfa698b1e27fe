"""The portal: sign-in, create (one validation place with the API), lists, the run page."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from seedance.accounts.identity import verified_email_set
from seedance.exceptions import BudgetExceeded
from seedance.models import Membership, OutputFile, Run, Tenant
from seedance.public_status import OUTPUT_UNAVAILABLE_MESSAGE
from seedance.states import Delivery, RunStatus
from tests.factories import make_run

CREATE_URL = reverse("portal:run-create")
LIST_URL = reverse("portal:run-list")
ROWS_URL = reverse("portal:run-rows")


def refuse_over_budget(*, run: Run) -> None:
    """An admission hook standing in for billing's caps."""
    raise BudgetExceeded("This tenant's monthly spend cap of $10.00 is reached.")


@pytest.fixture
def person(django_user_model: Any, tenant: Tenant) -> Any:
    user = django_user_model.objects.create_user("ada", "ada@example.com", "s3cret-pass!")
    verified_email_set(user=user, email="ada@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def signed_in(client: Client, person: Any) -> Client:
    client.force_login(person)
    return client


def valid_form(**fields: Any) -> dict[str, Any]:
    data = {
        "prompt": "A red fox running through snow",
        "aspect_ratio": "16:9",
        "duration": "6",
        "resolution": "480p",
        "generate_audio": "on",
        "seed": "1234",
    }
    data.update(fields)
    return data


# Sign-in ------------------------------------------------------------------------------


def test_sign_in_page_renders(client: Client, db: None) -> None:
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert b'name="login"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


@pytest.mark.parametrize("login", ["ada", "ada@example.com"])
def test_login_with_the_password_lands_on_the_runs_list(
    client: Client, person: Any, login: str
) -> None:
    response = client.post(
        reverse("account_login"), {"login": login, "password": "s3cret-pass!"}, follow=True
    )
    assert response.redirect_chain[-1][0] == LIST_URL
    assert b"Your runs" in response.content


@pytest.mark.parametrize("url", [reverse("portal:home"), LIST_URL, ROWS_URL, CREATE_URL], ids=str)
def test_signed_out_portal_url_redirects_to_sign_in(client: Client, db: None, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_password_reset_pages_render(client: Client, db: None) -> None:
    for name in (
        "account_reset_password",
        "account_reset_password_done",
        "account_reset_password_from_key_done",
    ):
        assert client.get(reverse(name)).status_code == 200


# Create -------------------------------------------------------------------------------


def test_create_page_has_every_input_and_the_live_estimate(signed_in: Client) -> None:
    response = signed_in.get(CREATE_URL)
    html = response.content.decode()
    for element_id in (
        "run-create-form",
        "run-prompt",
        "prompt-counter",
        "run-aspect-ratio",
        "run-duration",
        "run-resolution",
        "run-generate-audio",
        "run-seed",
        "run-submit",
        "price-estimate",
    ):
        assert f'id="{element_id}"' in html, element_id
    assert f'hx-get="{reverse("billing_portal:estimate")}"' in html
    assert 'data-max-chars="2000"' in html
    for value in ("auto", "21:9", "9:16", "15", "480p", "720p"):
        assert f'value="{value}"' in html


def test_valid_create_makes_a_run_for_the_person_and_opens_it(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    response = signed_in.post(CREATE_URL, valid_form())
    run = Run.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:run-detail", args=[run.pk])
    assert run.tenant == tenant
    assert run.created_by == person
    assert run.end_user_id == f"portal:{person.person.public_id}"
    assert (run.prompt, run.aspect_ratio, run.duration, run.resolution) == (
        "A red fox running through snow",
        "16:9",
        "6",
        "480p",
    )
    assert run.generate_audio is True
    assert run.seed == 1234


def test_unchecked_audio_and_empty_seed_are_false_and_random(signed_in: Client) -> None:
    signed_in.post(CREATE_URL, valid_form(generate_audio="", seed=""))
    run = Run.objects.get()
    assert run.generate_audio is False
    assert run.seed is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"prompt": ""}, "prompt", "Must not be blank."),
        ({"prompt": "x" * 51}, "prompt", "At most 50 characters (got 51)."),
        ({"duration": "3"}, "duration", "Must be one of"),
        ({"seed": "abc"}, "seed", "Must be an integer."),
        ({"seed": str(2**32)}, "seed", "Must be between 0 and"),
    ],
    ids=["empty-prompt", "prompt-too-long", "bad-duration", "seed-not-int", "seed-too-big"],
)
def test_bad_input_shows_the_field_error_and_creates_nothing(
    signed_in: Client, settings: Any, fields: dict[str, str], field: str, message: str
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "PROMPT_MAX_CHARS": 50}
    response = signed_in.post(CREATE_URL, valid_form(**fields))
    assert response.status_code == 200
    html = response.content.decode()
    # The field names its error (aria-describedby) by an id the error list carries.
    assert f'id="id_{field}_error"' in html
    assert f'aria-describedby="id_{field}_error"' in html
    assert message in html
    assert response.context["form"].errors[field]
    assert not Run.objects.exists()


def test_a_cap_exceeded_is_a_form_error_and_creates_nothing(
    signed_in: Client, settings: Any
) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "ADMISSION_HOOKS": ["tests.seedance.test_portal.refuse_over_budget"],
    }
    response = signed_in.post(CREATE_URL, valid_form())
    assert response.status_code == 200
    assert b'id="form-errors"' in response.content
    assert b"monthly spend cap of $10.00 is reached" in response.content
    assert not Run.objects.exists()


def test_make_again_restores_every_setting_including_the_seed(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    run = make_run(
        tenant,
        created_by=person,
        prompt="A paper boat in the rain",
        aspect_ratio="9:16",
        duration="11",
        resolution="480p",
        generate_audio=False,
        seed=987654,
    )
    form = signed_in.get(CREATE_URL, {"from": str(run.pk)}).context["form"]
    assert {name: form[name].value() for name in form.fields} == {
        "prompt": "A paper boat in the rain",
        "aspect_ratio": "9:16",
        "duration": "11",
        "resolution": "480p",
        "generate_audio": False,
        "seed": 987654,
    }


def test_make_again_of_a_random_seed_run_uses_the_seed_it_got(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    run = make_run(tenant, created_by=person, seed=None, result_seed=4242)
    response = signed_in.get(CREATE_URL, {"from": str(run.pk)})
    assert response.context["form"]["seed"].value() == 4242
    assert b"the model picked 4242" in response.content


# Runs list ----------------------------------------------------------------------------


def test_list_filters_by_status(signed_in: Client, person: Any, tenant: Tenant) -> None:
    done = make_run(
        tenant, created_by=person, status=RunStatus.SUCCEEDED, delivery=Delivery.DELIVERED
    )
    queued = make_run(tenant, created_by=person)
    response = signed_in.get(LIST_URL, {"status": "succeeded"})
    assert [r.pk for r in response.context["runs"]] == [done.pk]
    response = signed_in.get(LIST_URL)
    assert {r.pk for r in response.context["runs"]} == {done.pk, queued.pk}


def test_list_pages_by_twenty(signed_in: Client, person: Any, tenant: Tenant) -> None:
    for _ in range(21):
        make_run(tenant, created_by=person, status=RunStatus.SUCCEEDED)
    assert len(signed_in.get(LIST_URL).context["runs"]) == 20
    assert len(signed_in.get(LIST_URL, {"page": 2}).context["runs"]) == 1


def test_rows_poll_fast_while_a_run_moves_and_slowly_on_page_one_for_new_runs(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    run = make_run(tenant, created_by=person, status=RunStatus.RUNNING)
    html = signed_in.get(LIST_URL).content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="{ROWS_URL}?page=1"' in html
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, completed_at=timezone.now(), delivery=Delivery.DELIVERED
    )
    rows = signed_in.get(ROWS_URL).content.decode()
    assert rows.lstrip().startswith('<tbody id="run-rows"')
    assert 'hx-trigger="every 5s"' in rows
    assert 'data-status="succeeded"' in rows


def test_rows_of_an_older_page_stop_polling_once_nothing_on_it_moves(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    for _ in range(21):
        make_run(tenant, created_by=person, status=RunStatus.SUCCEEDED, delivery=Delivery.DELIVERED)
    rows = signed_in.get(ROWS_URL, {"page": 2}).content.decode()
    assert "hx-trigger" not in rows


def test_an_empty_runs_list_still_polls_so_a_run_made_elsewhere_appears(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    html = signed_in.get(LIST_URL).content.decode()
    assert 'id="runs-empty"' in html
    assert 'hx-trigger="every 5s"' in html
    make_run(tenant, created_by=person)
    rows = signed_in.get(ROWS_URL, {"page": 1}).content.decode()
    assert 'id="runs-empty"' not in rows
    assert 'data-status="queued"' in rows


def test_a_moving_row_shows_its_bar_against_the_eta_of_runs_like_it(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    now = timezone.now()
    done = make_run(tenant, status=RunStatus.SUCCEEDED)
    Run.objects.filter(pk=done.pk).update(
        created_at=now - timedelta(minutes=5), completed_at=now - timedelta(minutes=4)
    )
    running = make_run(tenant, created_by=person, status=RunStatus.RUNNING)
    Run.objects.filter(pk=running.pk).update(created_at=now - timedelta(seconds=30))
    rows = signed_in.get(ROWS_URL).content.decode()
    row = rows[rows.index(f'data-run-id="{running.pk}"') :]
    assert 'data-typical-ms="60000"' in row[: row.index("</tr>")]
    assert 'value="50"' in row[: row.index("</tr>")] or 'value="49"' in row[: row.index("</tr>")]


@pytest.mark.parametrize("url", [LIST_URL, ROWS_URL], ids=["list", "rows"])
def test_list_queries_do_not_grow_with_rows(
    signed_in: Client, person: Any, tenant: Tenant, url: str
) -> None:
    admin = Membership.objects.get(user=person)
    admin.role = Membership.Role.ADMIN  # admins also see who made each run
    admin.save()

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert signed_in.get(url).status_code == 200
        return len(queries)

    make_run(tenant, created_by=person, status=RunStatus.RUNNING)
    count_queries()  # the first request records the chosen tenant in the session
    one = count_queries()
    for _ in range(19):
        make_run(tenant, created_by=person, status=RunStatus.SUCCEEDED)
    make_run(tenant, status=RunStatus.SUCCEEDED, end_user_id="api-user")
    assert count_queries() == one


# Run page -----------------------------------------------------------------------------


def test_queued_run_shows_progress_without_an_estimate_and_polls(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    run = make_run(tenant, created_by=person)
    html = signed_in.get(reverse("portal:run-detail", args=[run.pk])).content.decode()
    assert 'id="run-status-badge"' in html
    assert 'data-status="queued"' in html
    assert "no estimate yet" in html
    assert f'hx-get="{reverse("portal:run-status", args=[run.pk])}"' in html
    assert 'id="run-cancel"' in html


def test_eta_is_the_median_of_recent_similar_runs(
    signed_in: Client, person: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    now = timezone.now()
    for seconds in (60, 90, 300):
        done = make_run(tenant, duration="5", resolution="720p", status=RunStatus.SUCCEEDED)
        Run.objects.filter(pk=done.pk).update(
            created_at=now - timedelta(hours=1),
            completed_at=now - timedelta(hours=1) + timedelta(seconds=seconds),
        )
    make_run(other_tenant, duration="5", resolution="720p", status=RunStatus.SUCCEEDED)
    make_run(tenant, duration="10", resolution="720p", status=RunStatus.SUCCEEDED)
    run = make_run(tenant, created_by=person, duration="5", resolution="720p")
    html = signed_in.get(reverse("portal:run-status", args=[run.pk])).content.decode()
    assert "typically 1 min 30 s" in html
    assert "median of the last 3 similar runs" in html


def test_cancel_cancels_a_queued_run(signed_in: Client, person: Any, tenant: Tenant) -> None:
    run = make_run(tenant, created_by=person)
    response = signed_in.post(reverse("portal:run-cancel", args=[run.pk]), follow=True)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELED
    assert b'id="run-canceled"' in response.content


def succeeded_with_copy(tenant: Tenant, person: Any, **fields: Any) -> Run:
    run = make_run(
        tenant,
        created_by=person,
        status=RunStatus.SUCCEEDED,
        completed_at=timezone.now(),
        result_seed=77,
        outputs=[{"url": "https://runflow.example/v.mp4", "type": "video/mp4"}],
        delivery=Delivery.DELIVERED,
        **fields,
    )
    OutputFile.objects.create(
        run=run, index=0, file="outputs/v.mp4", copied_at=timezone.now(), duration=5.0
    )
    return run


def test_succeeded_run_plays_our_copy_and_offers_download(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    run = succeeded_with_copy(tenant, person)
    html = signed_in.get(reverse("portal:run-detail", args=[run.pk])).content.decode()
    assert '<video id="run-video" controls preload="metadata" src="/files/' in html
    assert 'id="run-download"' in html
    assert " download>" in html
    assert "runflow.example" not in html
    assert 'data-billable="true"' in html
    assert 'id="run-seed-used">77' in html
    assert 'hx-trigger="every 2s"' not in html
    # The cost comes from the ledger (billing's fragment), never from today's price.
    assert reverse("billing_portal:run-cost", kwargs={"run_id": run.pk}) in html


def test_succeeded_run_not_yet_copied_says_preparing_and_keeps_polling(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    run = make_run(
        tenant,
        created_by=person,
        status=RunStatus.SUCCEEDED,
        completed_at=timezone.now(),
        outputs=[{"url": "https://runflow.example/v.mp4", "type": "video/mp4"}],
    )
    html = signed_in.get(reverse("portal:run-status", args=[run.pk])).content.decode()
    assert 'id="run-preparing"' in html
    assert "<video" not in html
    assert 'hx-trigger="every 2s"' in html
    assert 'data-status="running"' in html  # as the API shows it: not succeeded yet
    assert 'data-billable="pending"' in html


def test_run_whose_copy_failed_for_good_shows_failed_output_unavailable(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    run = make_run(
        tenant,
        created_by=person,
        status=RunStatus.SUCCEEDED,
        completed_at=timezone.now(),
        outputs=[{"url": "https://runflow.example/v.mp4", "type": "video/mp4"}],
        delivery=Delivery.UNAVAILABLE,
    )
    html = signed_in.get(reverse("portal:run-status", args=[run.pk])).content.decode()
    assert 'id="run-failed"' in html
    assert "<code>output_unavailable</code>" in html
    assert OUTPUT_UNAVAILABLE_MESSAGE in html
    assert 'data-status="failed"' in html
    assert 'data-billable="false"' in html
    assert 'hx-trigger="every 2s"' not in html


def test_list_filters_and_counts_follow_the_shown_status(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    def run_with(**fields: Any) -> Run:
        return make_run(tenant, created_by=person, completed_at=timezone.now(), **fields)

    delivered = run_with(status=RunStatus.SUCCEEDED, delivery=Delivery.DELIVERED)
    copying = run_with(status=RunStatus.SUCCEEDED)
    lost = run_with(status=RunStatus.SUCCEEDED, delivery=Delivery.UNAVAILABLE)
    held = run_with(status=RunStatus.SUCCEEDED, moderation=Run.Moderation.PENDING)
    running = make_run(tenant, created_by=person, status=RunStatus.RUNNING)

    def listed(status: str) -> set[Any]:
        return {r.pk for r in signed_in.get(LIST_URL, {"status": status}).context["runs"]}

    assert listed("succeeded") == {delivered.pk, held.pk}
    assert listed("running") == {copying.pk, running.pk}
    assert listed("failed") == {lost.pk}
    assert listed("held") == {held.pk}
    html = signed_in.get(LIST_URL).content.decode()
    for name, count in (("all", 5), ("succeeded", 2), ("running", 2), ("failed", 1), ("held", 1)):
        assert f'data-filter="{name}" data-count="{count}"' in html
    rows = signed_in.get(ROWS_URL).content.decode()
    assert f'data-run-id="{copying.pk}" data-status="running"' in rows
    assert f'data-run-id="{lost.pk}" data-status="failed"' in rows


def test_held_run_shows_no_video_and_the_held_message(
    signed_in: Client, person: Any, tenant: Tenant, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "BILL_REJECTED": False}
    run = succeeded_with_copy(tenant, person, moderation=Run.Moderation.PENDING)
    html = signed_in.get(reverse("portal:run-detail", args=[run.pk])).content.decode()
    assert "Held for review: the video is hidden until our team approves it." in html
    assert "<video" not in html
    assert "/files/" not in html
    assert 'data-billable="pending"' in html


@pytest.mark.parametrize(("billed", "says"), [(True, "still billed"), (False, "not billed")])
def test_rejected_run_says_removed_and_whether_billed(
    signed_in: Client, person: Any, tenant: Tenant, settings: Any, billed: bool, says: str
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "BILL_REJECTED": billed}
    run = succeeded_with_copy(tenant, person, moderation=Run.Moderation.REJECTED)
    html = signed_in.get(reverse("portal:run-detail", args=[run.pk])).content.decode()
    assert "Removed after review" in html
    assert says in html
    assert "<video" not in html
    assert "/files/" not in html


def test_failed_run_shows_its_failure(signed_in: Client, person: Any, tenant: Tenant) -> None:
    run = make_run(
        tenant,
        created_by=person,
        status=RunStatus.FAILED,
        completed_at=timezone.now(),
        failure_code="CONTENT_POLICY",
        failure_message="The prompt was refused.",
    )
    html = signed_in.get(reverse("portal:run-detail", args=[run.pk])).content.decode()
    assert 'id="run-failed"' in html
    assert "CONTENT_POLICY" in html
    assert "The prompt was refused." in html
    assert 'data-billable="false"' in html
