"""The token check as gunicorn serves it: answered in front of Django's middleware."""

import io

import pytest
from django.core.wsgi import get_wsgi_application

from accounts.gateway_check import with_verify_fast_path


@pytest.fixture
def call():
    application = with_verify_fast_path(get_wsgi_application())

    def request(
        path: str = "/internal/verify", *, query: str = "", **headers: str
    ) -> tuple[str, dict, bytes]:
        answer: dict = {}

        def start_response(status: str, response_headers: list) -> None:
            answer.update(status=status, headers=dict(response_headers))

        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8001",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            **headers,
        }
        body = b"".join(application(environ, start_response))
        return answer["status"], answer["headers"], body

    return request


def test_a_valid_bearer_token_gets_204_and_the_identity(call, staff, access_token_for):
    status, headers, _ = call(HTTP_AUTHORIZATION=f"Bearer {access_token_for(staff)}")

    assert status == "204 No Content"
    assert (headers["X-User-Id"], headers["X-User-Staff"]) == (str(staff.pk), "true")


def test_the_access_cookie_works_too(call, customer, access_token_for):
    status, headers, _ = call(HTTP_COOKIE=f"other=1; access_token={access_token_for(customer)}")

    assert status == "204 No Content"
    assert headers["X-User-Staff"] == "false"


def test_no_token_is_401_json(call, db):
    status, headers, body = call()

    assert status == "401 Unauthorized"
    assert headers["Content-Type"] == "application/json"
    assert b"not provided" in body


def test_a_customer_fails_the_staff_check(call, customer, access_token_for, django_assert_num_queries):
    token = access_token_for(customer)
    call(HTTP_AUTHORIZATION=f"Bearer {token}")

    with django_assert_num_queries(0):
        status, _, _ = call(query="staff=1", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert status == "403 Forbidden"


def test_other_paths_go_to_django(call, db):
    status, _, body = call("/api/auth/health/")

    assert status.startswith(("200", "503"))
    assert b'"service"' in body
