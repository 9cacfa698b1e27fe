"""A run's answer: its serializer's fields are built from the model once per class, and
every answer gets copies of its own, bound to it (its context, its request)."""

from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from seedance.api.serializers import RunSerializer
from seedance.models import Run, Tenant
from seedance.public_status import with_public_status
from tests.factories import make_run

pytestmark = pytest.mark.django_db


def test_fields_are_built_once_and_each_answer_binds_copies_of_its_own(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[int] = []
    model_fields = serializers.ModelSerializer.get_fields

    def counted(self: Any) -> Any:
        built.append(1)
        return model_fields(self)

    monkeypatch.setattr(serializers.ModelSerializer, "get_fields", counted)
    monkeypatch.setattr(RunSerializer, "_built_fields", None)
    run = with_public_status(Run.objects.filter(pk=make_run(tenant).pk)).get()
    requests = APIRequestFactory().get("/"), APIRequestFactory().get("/")
    first = RunSerializer(run, context={"request": requests[0]})
    second = RunSerializer(run, context={"request": requests[1]})

    assert first.data == second.data
    assert first.data["id"] == str(run.pk)
    assert len(built) == 1
    for name, field in first.fields.items():
        assert field is not second.fields[name]
        assert (field.parent, second.fields[name].parent) == (first, second)
    assert first.fields["output"].parent.context["request"] is requests[0]
    assert second.fields["output"].parent.context["request"] is requests[1]
