"""A poster frame for every video: made from our copy when it lands, served by the video's
own signed link (and withdrawn with it), shown in the runs list and on the run page; a
failed extraction never fails the delivery."""

import logging
import re
from typing import Any

import imageio_ffmpeg
import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from seedance.models import Membership, OutputFile, Run, Tenant
from seedance.moderation import run_reject
from seedance.outputs import outputs_copy, outputs_purge_expired, poster_url, signed_url
from seedance.posters import PosterFailed, poster_frame, poster_store
from seedance.sandbox import SandboxServer
from seedance.services.submission import run_submit
from seedance.states import Delivery, RunStatus
from tests.factories import finish_successfully, make_person, make_run
from tests.posters import attach_poster, real_mp4
from tests.seedance.conftest import wait_for_run

JPEG_START = b"\xff\xd8"


def succeeded_at_runflow(tenant: Tenant, **fields: Any) -> Run:
    run = make_run(tenant, prompt="a harbour at dawn, gulls", resolution="480p", duration="4")
    if fields:
        Run.objects.filter(pk=run.pk).update(**fields)
    run_submit(run.pk)
    run = wait_for_run(run)
    assert run.status == RunStatus.SUCCEEDED
    return run


def body_of(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


@pytest.fixture
def ada(tenant: Tenant) -> Any:
    user = make_person("ada", "ada@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    return user


@pytest.mark.django_db(transaction=True)
def test_poster_is_made_from_our_copy_when_it_lands_and_served_by_the_videos_link(
    tenant: Tenant, sandbox: SandboxServer
) -> None:
    run = succeeded_at_runflow(tenant)

    assert outputs_copy(run.pk) == 1

    record = OutputFile.objects.get(run=run)
    assert record.poster.name.startswith("posters/")
    assert default_storage.exists(record.poster.name)
    url = poster_url(record)
    assert url is not None
    assert url.startswith(signed_url(record))  # the video's own token grants it
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert body_of(response).startswith(JPEG_START)


@pytest.mark.django_db(transaction=True)
def test_a_failed_poster_extraction_never_fails_the_delivery(
    tenant: Tenant, sandbox: SandboxServer, monkeypatch: Any, caplog: Any
) -> None:
    run = succeeded_at_runflow(tenant)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: "/nonexistent/ffmpeg")

    with caplog.at_level(logging.WARNING, logger="seedance.posters"):
        assert outputs_copy(run.pk) == 1

    run.refresh_from_db()
    assert run.delivery == Delivery.DELIVERED
    record = OutputFile.objects.get(run=run)
    assert record.copied_at is not None
    assert record.poster.name == ""
    assert poster_url(record) is None
    assert any("No poster for" in message for message in caplog.messages)


def test_poster_frame_of_a_real_video_is_a_jpeg_and_of_anything_else_fails(
    tmp_path: Any,
) -> None:
    assert poster_frame(real_mp4(), duration=1.0).startswith(JPEG_START)
    not_a_video = tmp_path / "page.mp4"
    not_a_video.write_bytes(b"<html>not a video</html>")
    with pytest.raises(PosterFailed):
        poster_frame(not_a_video)


@pytest.mark.django_db
def test_poster_store_of_a_file_without_a_frame_stores_nothing(
    tenant: Tenant, tmp_path: Any
) -> None:
    run = finish_successfully(make_run(tenant))
    record = OutputFile.objects.get(run=run)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42")

    assert poster_store(record, broken) == ""


@pytest.mark.django_db
def test_poster_is_shown_in_the_runs_list_and_as_the_run_pages_video_poster(
    client: Client, tenant: Tenant, ada: Any
) -> None:
    run = finish_successfully(make_run(tenant, created_by=ada))
    record = attach_poster(run)
    client.force_login(ada)

    rows = client.get(reverse("portal:run-list")).content.decode()
    page = client.get(reverse("portal:run-detail", args=[run.pk])).content.decode()

    in_rows = re.search(r'<img class="run-poster" src="(/files/[^"]+/poster/)"', rows)
    on_page = re.search(r'<video id="run-video"[^>]* poster="(/files/[^"]+/poster/)"', page)
    assert in_rows
    assert on_page
    for url in (in_rows.group(1), on_page.group(1)):
        served = Client().get(url)
        assert served.status_code == 200
        assert body_of(served) == record.poster.open("rb").read()


@pytest.mark.django_db
def test_held_run_shows_no_poster_and_its_poster_link_answers_404(
    client: Client, tenant: Tenant, ada: Any
) -> None:
    run = finish_successfully(make_run(tenant, created_by=ada))
    record = attach_poster(run)
    url = poster_url(record)
    assert url is not None
    Run.objects.filter(pk=run.pk).update(moderation=Run.Moderation.PENDING)
    client.force_login(ada)

    rows = client.get(reverse("portal:run-list")).content.decode()

    assert 'class="run-poster"' not in rows
    assert Client().get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_rejection_and_retention_delete_the_poster_with_the_copy(tenant: Tenant) -> None:
    staff = make_person("reviewer", "reviewer@example.com")
    held = finish_successfully(make_run(tenant), nsfw_detected=True)
    kept = finish_successfully(make_run(tenant))
    held_poster = attach_poster(held).poster.name
    kept_poster = attach_poster(kept).poster.name

    assert run_reject(run_id=held.pk, decided_by=staff, reason="broke the rules")
    OutputFile.objects.filter(run=kept).update(expires_at=timezone.now())
    assert outputs_purge_expired() == 1

    assert not default_storage.exists(held_poster)
    assert not default_storage.exists(kept_poster)
