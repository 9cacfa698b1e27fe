"""The floor a create is measured against: a DRF view doing one bearer-key SELECT and one
INSERT, on the same gunicorn, middleware, database and broker settings as production."""

from typing import Any

from django.db import connection
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from seedance.models import ApiKey
from seedance.services.keys import digest_of

TABLE = "bench_bare_hit"


def bare_table_create() -> None:
    """A table outside the migrations: bench.run creates it in the bench database only."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            "(id BIGSERIAL PRIMARY KEY, tenant_id BIGINT NOT NULL, body TEXT NOT NULL)"
        )


class BareView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raw_key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        tenant_id = (
            ApiKey.objects.filter(digest=digest_of(raw_key), revoked_at__isnull=True)
            .values_list("tenant_id", flat=True)
            .first()
        )
        if tenant_id is None:
            return Response({"error": "unknown key"}, status=401)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (tenant_id, body) VALUES (%s, %s) RETURNING id",  # noqa: S608
                [tenant_id, request.body.decode()],
            )
            (hit_id,) = cursor.fetchone()
        return Response({"id": hit_id}, status=201)
