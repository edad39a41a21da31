"""``@idempotent``: a DRF view method that answers a retried POST with its first response."""

import functools
import re
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.status import is_success

from edge.idempotency.errors import KEY_HEADER, KEY_MALFORMED, KEY_MISSING, InvalidIdempotencyKey
from edge.idempotency.services import (
    KeyScope,
    idempotency_key_claim,
    idempotency_key_store,
    idempotency_keys_prune_if_due,
    request_fingerprint,
)

REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{8,255}$")

KEY_PARAMETER = OpenApiParameter(
    KEY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "Unique per request (a UUID is fine): a retry with the same key and body gets the first "
        "response again, with `Idempotent-Replayed: true`; the same key with another body is 422; "
        "a retry while the first is still running is 409."
    ),
)

REPLAYED_PARAMETER = OpenApiParameter(
    REPLAYED_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    enum=["true"],
    # On the success it replays: the first answer to this key, sent again.
    response=[200, 201],
    description="Present when this is the stored answer to an earlier request with the same key.",
)

ViewMethod = Callable[..., Response]


def _key_from_header(value: str | None) -> str:
    if not value:
        raise InvalidIdempotencyKey(KEY_MISSING)
    if not KEY_PATTERN.match(value):
        raise InvalidIdempotencyKey(KEY_MALFORMED)
    return value


def idempotent(view_method: ViewMethod) -> ViewMethod:
    """Run the view method once per (user, endpoint, Idempotency-Key); replay its response after.

    The view method runs inside the transaction that holds the key, and a success (2xx) is
    stored in it, with the effects: both commit or neither does. Anything else rolls back
    and is not stored, so the client may correct the request and send it with the same key.
    """

    @functools.wraps(view_method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Keys are per user: an anonymous caller has no scope to keep them in.
        if not request.user.is_authenticated:
            raise NotAuthenticated
        scope = KeyScope(
            user_id=request.user.id,
            endpoint=f"{request.method} {request.path}",
            key=_key_from_header(request.headers.get(KEY_HEADER)),
        )
        fingerprint = request_fingerprint(request.data)
        started_at = timezone.now()
        with transaction.atomic():
            stored = idempotency_key_claim(scope=scope, fingerprint=fingerprint)
            if stored is not None:
                return Response(
                    stored.response_body, status=stored.response_status, headers={REPLAYED_HEADER: "true"}
                )
            response = view_method(view, request, *args, **kwargs)
            if not is_success(response.status_code):
                transaction.set_rollback(True)
                return response
            idempotency_key_store(
                scope=scope,
                fingerprint=fingerprint,
                started_at=started_at,
                status=response.status_code,
                body=response.data,
            )
            # After commit, and never failing the request: expired keys go now and then.
            transaction.on_commit(idempotency_keys_prune_if_due, robust=True)
        return response

    return extend_schema(parameters=[KEY_PARAMETER, REPLAYED_PARAMETER])(wrapper)
