"""``manage.py ensure_staff_user``: the demo staff account, made through the services."""

from django.core.management import call_command

from accounts.models import User

VERIFY = "/internal/verify"


def test_ensure_staff_user_makes_a_superuser_that_can_log_in(db, api_client):
    call_command("ensure_staff_user", email="boss@example.com", password="a-demo-passphrase")

    user = User.objects.get(email="boss@example.com")
    assert (user.is_active, user.is_staff, user.is_superuser, user.full_name) == (
        True,
        True,
        True,
        "Demo Staff",
    )
    tokens = api_client.post(
        "/api/auth/token/", {"email": "boss@example.com", "password": "a-demo-passphrase"}, format="json"
    )
    assert tokens.status_code == 200


def test_running_it_again_keeps_the_staff_sessions(db, client, access_token_for, committing):
    with committing():
        call_command("ensure_staff_user", email="boss@example.com", password="a-demo-passphrase")
    token = access_token_for(User.objects.get(email="boss@example.com"))

    with committing():
        call_command("ensure_staff_user", email="boss@example.com", password="a-demo-passphrase")

    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 204


def test_it_gives_a_demoted_account_its_access_back_and_refuses_its_old_tokens(
    client, staff, access_token_for, committing
):
    token = access_token_for(staff)

    with committing():
        call_command("ensure_staff_user", email=staff.email, password="a-demo-passphrase")

    staff.refresh_from_db()
    assert staff.is_superuser
    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
