"""Staff roles in a service: its admin obeys the roles of the token on every request
(``tests.shop.roles`` declares what support and fulfilment get in this project)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.checks import run_checks
from django.test import override_settings

from edge.settings.base import EDGE
from tests.helpers import token_user

DEAD_LETTERS = "/admin/edge/messaging/deadletter/"
STAFF_ID = 31

# A declaration edge.checks refuses: a role outside the vocabulary, a permission no model has.
MISDECLARED = {"support": ["messaging.view_deadletter", "messaging.replay_deadletter"], "janitor": []}

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_token(client, make_token):
    """``as_token(**claims)``: the client's next requests carry a new access token of one staff member."""

    def use(**claims: object):
        client.cookies["access_token"] = make_token(STAFF_ID, is_staff=True, **claims)
        return client

    return use


def test_a_role_in_the_token_gives_what_the_service_declares_for_it(as_token):
    support = as_token(roles=["support"])

    listed = support.get(DEAD_LETTERS)

    assert listed.status_code == 200
    # Support sees dead letters but may not replay them (no change permission).
    assert "Replay selected dead letters" not in listed.content.decode()
    assert as_token(roles=["fulfilment"]).get(DEAD_LETTERS).status_code == 200


def test_staff_whose_roles_give_nothing_here_get_403_on_every_admin_page(as_token):
    editor = as_token(roles=["catalog_editor"])

    assert editor.get("/admin/edge/").status_code == 403
    assert editor.get(DEAD_LETTERS).status_code == 403


def test_a_role_gone_from_the_next_token_is_gone_from_the_admin(as_token):
    assert as_token(roles=["support"]).get(DEAD_LETTERS).status_code == 200

    assert as_token(roles=[]).get(DEAD_LETTERS).status_code == 403


def test_a_superuser_sees_everything_without_a_role(client, make_token):
    client.cookies["access_token"] = make_token(STAFF_ID, is_staff=True, is_superuser=True)

    assert client.get("/admin/edge/").status_code == 200
    assert client.get(DEAD_LETTERS).status_code == 200


def test_grants_left_on_a_shadow_user_give_nothing(as_token):
    staff = as_token(roles=[])
    staff.get("/admin/edge/")  # makes the shadow user, whose id is the token's
    get_user_model().objects.get(pk=STAFF_ID).user_permissions.add(
        Permission.objects.get(codename="view_deadletter")
    )

    assert staff.get(DEAD_LETTERS).status_code == 403


def test_the_admin_has_no_users_or_groups_page(client, make_token):
    client.cookies["access_token"] = make_token(STAFF_ID, is_staff=True, is_superuser=True)

    index = client.get("/admin/edge/").content.decode()

    assert "/admin/edge/auth/" not in index
    assert client.get("/admin/edge/auth/user/").status_code == 404
    assert client.get("/admin/edge/auth/group/").status_code == 404


@pytest.mark.parametrize("roles", ["support", [1], {"support": True}])
def test_a_token_whose_roles_are_not_a_list_of_slugs_is_refused(client, make_token, roles):
    client.cookies["access_token"] = make_token(STAFF_ID, is_staff=True, roles=roles)

    assert client.get("/admin/edge/", follow=True).redirect_chain[-1][0].startswith("/login/")


def test_an_api_caller_holds_what_the_roles_of_its_token_give():
    support = token_user(is_staff=True, roles=("support",))
    customer = token_user(roles=("support",))

    assert support.has_perm("shop.view_greeting")
    assert not support.has_perm("messaging.change_deadletter")
    # Roles are staff roles: an account that is no longer staff holds nothing by them.
    assert not customer.has_perm("shop.view_greeting")
    assert token_user(is_staff=True, is_superuser=True).has_perm("messaging.change_deadletter")


def test_every_declared_role_and_permission_must_exist():
    errors = {message.id for message in run_checks() if message.id.startswith("edge.E03")}
    with override_settings(EDGE={**EDGE, "ROLE_PERMISSIONS": "tests.test_roles.MISDECLARED"}):
        misdeclared = [message for message in run_checks() if message.id.startswith("edge.E03")]
    with override_settings(EDGE={**EDGE, "ROLE_PERMISSIONS": "tests.shop.nowhere.ROLE_PERMISSIONS"}):
        unimportable = {message.id for message in run_checks() if message.id.startswith("edge.E03")}

    assert errors == set()
    assert sorted((message.id, message.msg) for message in misdeclared) == [
        ("edge.E031", "The role 'janitor' is given permissions but is no role of edge.roles.ROLES."),
        (
            "edge.E032",
            "The role 'support' gives 'messaging.replay_deadletter', which no model of this service has.",
        ),
    ]
    assert unimportable == {"edge.E030"}
