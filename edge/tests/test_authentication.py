"""DRF authentication and the admin identity, by the access token and never by headers."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

WHOAMI = "/api/edge/whoami/"


def test_a_bearer_token_identifies_the_caller(client, make_token):
    response = client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {make_token(5, is_staff=True)}")

    assert response.status_code == 200
    assert response.json() == {"id": 5, "email": "user5@example.com", "is_staff": True}


def test_no_token_is_401_with_a_bearer_challenge(client):
    response = client.get(WHOAMI)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Token abc", "Bearer", "Basic dXNlcjpwYXNz"])
def test_a_malformed_authorization_header_is_401(client, header):
    response = client.get(WHOAMI, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["detail"]


def test_identity_headers_alone_identify_nobody(client):
    response = client.get(
        WHOAMI, HTTP_X_USER_ID="1", HTTP_X_USER_EMAIL="boss@example.com", HTTP_X_USER_STAFF="true"
    )

    assert response.status_code == 401


def test_the_access_cookie_works_for_reads(client, make_token):
    client.cookies["access_token"] = make_token(5)

    assert client.get(WHOAMI).status_code == 200


@pytest.mark.django_db
def test_a_cookie_post_without_csrf_is_refused_with_403(make_token):
    client = Client(enforce_csrf_checks=True)
    client.cookies["access_token"] = make_token(5)

    response = client.post(WHOAMI)

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.django_db
def test_the_admin_keeps_a_shadow_user_in_step_with_the_token(client, make_token):
    client.cookies["access_token"] = make_token(9, is_staff=True, is_superuser=True)
    assert client.get("/admin/edge/").status_code == 200
    shadow = User.objects.get(pk=9)
    assert (shadow.username, shadow.is_staff, shadow.is_superuser) == ("user9@example.com", True, True)

    client.cookies["access_token"] = make_token(9, is_staff=False)
    response = client.get("/admin/edge/", follow=True)

    assert response.status_code == 403
    shadow.refresh_from_db()
    assert (shadow.is_staff, shadow.is_superuser) == (False, False)


@pytest.mark.django_db
def test_the_admin_sends_a_browser_without_a_cookie_to_the_login_page(client):
    response = client.get("/admin/edge/messaging/outboxmessage/?sent_at__isnull=True", follow=True)

    assert response.redirect_chain[-1][0] == (
        "/login/?next=/admin/edge/messaging/outboxmessage/%3Fsent_at__isnull%3DTrue"
    )


@pytest.mark.django_db
def test_admin_logout_forwards_the_post_to_the_shared_logout_page(client, make_token):
    client.cookies["access_token"] = make_token(9, is_staff=True)

    response = client.post("/admin/edge/logout/")

    assert response.status_code == 307
    # The shared page checks the POST's CSRF token against this site's cookie.
    assert response["Location"] == "/logout/?site=edge"


@pytest.mark.django_db
def test_admin_logout_is_a_post_with_this_sites_csrf_token(make_token):
    browser = Client(enforce_csrf_checks=True)
    browser.cookies["access_token"] = make_token(9, is_staff=True)

    forged = browser.post("/admin/edge/logout/")
    by_link = browser.get("/admin/edge/logout/")

    assert forged.status_code == 403
    assert by_link.status_code == 405
