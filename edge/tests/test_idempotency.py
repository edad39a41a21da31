"""Idempotency keys: a retried POST gets its first response, once per user, endpoint and key."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from edge.idempotency import services
from edge.idempotency.errors import KEY_IN_PROGRESS, KEY_MALFORMED, KEY_MISSING, KEY_REUSED
from edge.idempotency.models import IdempotencyKey
from tests.shop import urls as shop
from tests.shop.models import Greeting

GREETINGS = "/api/edge/greetings/"
DAY = timedelta(days=1)


@pytest.fixture
def client_of(make_token):
    """``client_of(user_id)``: an API client with that user's token."""

    def make(user_id: int = 5) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user_id)}")
        return client

    return make


@pytest.fixture
def key() -> str:
    return str(uuid.uuid4())


def _post(client: APIClient, key: str | None, body: dict, path: str = GREETINGS):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(path, body, format="json", **headers)


def _age(key: str, by: timedelta) -> None:
    IdempotencyKey.objects.filter(key=key).update(created_at=timezone.now() - by)


def test_the_same_key_and_body_get_the_first_response_again(db, client_of, key):
    first = _post(client_of(), key, {"email": "a@example.com"})
    again = _post(client_of(), key, {"email": "a@example.com"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Greeting.objects.count() == 1


def test_the_same_body_with_its_fields_in_another_order_is_the_same_request(db, client_of, key):
    _post(client_of(), key, {"email": "a@example.com", "note": "hi"})

    again = _post(client_of(), key, {"note": "hi", "email": "a@example.com"})

    assert again["Idempotent-Replayed"] == "true"
    assert Greeting.objects.count() == 1


def test_the_same_key_with_another_body_is_422_and_changes_nothing(db, client_of, key):
    _post(client_of(), key, {"email": "a@example.com"})

    response = _post(client_of(), key, {"email": "b@example.com"})

    assert response.status_code == 422
    assert response.json() == {"code": "idempotency_key_reused", "detail": KEY_REUSED}
    assert list(Greeting.objects.values_list("email", flat=True)) == ["a@example.com"]


def test_keys_are_each_users_own(db, client_of, key):
    _post(client_of(5), key, {"email": "a@example.com"})

    response = _post(client_of(6), key, {"email": "a@example.com"})

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Greeting.objects.count() == 2


def test_keys_are_each_endpoints_own(db, client_of, key):
    _post(client_of(), key, {"email": "a@example.com"})

    response = _post(client_of(), key, {"email": "a@example.com"}, path="/api/edge/welcomes/")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Greeting.objects.count() == 2


@pytest.mark.parametrize(
    ("bad_key", "error"),
    [
        (None, KEY_MISSING),
        ("", KEY_MISSING),
        ("short", KEY_MALFORMED),
        ("has spaces in it", KEY_MALFORMED),
        ("x" * 256, KEY_MALFORMED),
        ("semi;colon", KEY_MALFORMED),
    ],
    ids=["missing", "empty", "too-short", "spaces", "too-long", "other-character"],
)
def test_a_missing_or_malformed_key_is_400_and_nothing_is_done(db, client_of, bad_key, error):
    response = _post(client_of(), bad_key, {"email": "a@example.com"})

    assert response.status_code == 400
    assert response.json() == {"Idempotency-Key": [error], "code": "invalid_idempotency_key"}
    assert not Greeting.objects.exists()


@pytest.mark.parametrize("good_key", ["12345678", "x" * 255, "order:2026-11-29_a.b-c"])
def test_keys_of_8_to_255_letters_digits_and_the_four_marks_are_accepted(db, client_of, good_key):
    assert _post(client_of(), good_key, {"email": "a@example.com"}).status_code == 201


def test_a_request_that_fails_is_not_stored_and_its_key_may_be_used_again(db, client_of, key):
    invalid = _post(client_of(), key, {"email": "not an address"})
    refused = _post(client_of(), key, {"email": "refused@example.com"})
    corrected = _post(client_of(), key, {"email": "a@example.com"})

    assert (invalid.status_code, refused.status_code, corrected.status_code) == (400, 409, 201)
    assert "Idempotent-Replayed" not in corrected
    # The refused request's greeting was written, then rolled back with the answer.
    assert list(Greeting.objects.values_list("email", flat=True)) == ["a@example.com"]
    assert IdempotencyKey.objects.count() == 1


def test_the_first_response_is_stored_with_its_effects(db, client_of, key):
    first = _post(client_of(), key, {"email": "a@example.com"}).json()

    stored = IdempotencyKey.objects.get()

    assert (stored.user_id, stored.endpoint, stored.key) == (5, f"POST {GREETINGS}", key)
    assert (stored.response_status, stored.response_body) == (201, first)
    assert stored.created_at <= stored.completed_at


@pytest.mark.django_db(transaction=True)
def test_a_retry_while_the_first_request_is_still_running_is_409(client_of, key, monkeypatch):
    first_inside, release_first = threading.Event(), threading.Event()
    answers: dict[str, object] = {}

    def hold(greeting: Greeting) -> None:
        first_inside.set()
        release_first.wait(5)

    def first_request() -> None:
        answers["first"] = _post(client_of(), key, {"email": "a@example.com"})
        connection.close()

    monkeypatch.setattr(shop, "hold", hold)
    first = threading.Thread(target=first_request)
    first.start()
    assert first_inside.wait(5)
    monkeypatch.setattr(shop, "hold", lambda greeting: None)
    retry = _post(client_of(), key, {"email": "a@example.com"})
    release_first.set()
    first.join(5)
    after = _post(client_of(), key, {"email": "a@example.com"})

    assert retry.status_code == 409
    assert retry.json() == {"code": "request_in_progress", "detail": KEY_IN_PROGRESS}
    assert answers["first"].status_code == 201
    assert (after.status_code, after["Idempotent-Replayed"]) == (201, "true")
    assert after.json() == answers["first"].json()
    assert Greeting.objects.count() == 1


def test_an_expired_key_is_free_again(db, client_of, key):
    _post(client_of(), key, {"email": "a@example.com"})
    _age(key, by=DAY + timedelta(seconds=1))

    response = _post(client_of(), key, {"email": "b@example.com"})

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Greeting.objects.count() == 2


def test_a_key_is_kept_for_the_time_set(db, client_of, key, settings):
    settings.EDGE = {**settings.EDGE, "IDEMPOTENCY_KEY_TTL_SECONDS": 3 * 24 * 3600}
    _post(client_of(), key, {"email": "a@example.com"})
    _age(key, by=2 * DAY)

    assert _post(client_of(), key, {"email": "b@example.com"}).status_code == 422


def test_the_prune_command_deletes_expired_keys_only(db, client_of, capsys):
    old, recent = str(uuid.uuid4()), str(uuid.uuid4())
    _post(client_of(), old, {"email": "a@example.com"})
    _post(client_of(), recent, {"email": "a@example.com"})
    _age(old, by=DAY + timedelta(minutes=1))
    _age(recent, by=DAY - timedelta(minutes=1))

    call_command("prune_idempotency_keys")

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == [recent]
    assert "1 expired idempotency key(s) deleted." in capsys.readouterr().out


def test_a_request_that_stores_a_key_prunes_expired_ones_now_and_then(
    db, client_of, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "_next_prune_at", 0.0)
    old, new, later = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    _post(client_of(), old, {"email": "a@example.com"})
    _age(old, by=DAY + timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        _post(client_of(), new, {"email": "a@example.com"})
    pruned_at_once = not IdempotencyKey.objects.filter(key=old).exists()
    _age(new, by=DAY + timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        _post(client_of(), later, {"email": "a@example.com"})

    assert pruned_at_once
    # The next prune of this process is due a minute later (IDEMPOTENCY_PRUNE_INTERVAL_SECONDS).
    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {new, later}


def test_the_api_schema_names_the_header(db, client):
    schema = client.get("/api/edge/schema/", HTTP_ACCEPT="application/json").json()

    parameters = schema["paths"][GREETINGS]["post"]["parameters"]

    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [("Idempotency-Key", "header", True)]
