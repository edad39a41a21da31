"""Who sees which notifications."""

from tests.factories import NotificationFactory

NOTIFICATIONS = "/api/notify/notifications/"


def test_a_customer_sees_only_their_own_notifications(api_client, db, make_token):
    mine = NotificationFactory(user_id=5)
    NotificationFactory(user_id=6)

    response = api_client.get(NOTIFICATIONS, HTTP_AUTHORIZATION=f"Bearer {make_token(5)}")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [mine.id]


def test_staff_whose_role_lets_them_view_notifications_see_every_one(api_client, db, make_token):
    NotificationFactory.create_batch(3)
    token = make_token(1, is_staff=True, roles=["support"])

    response = api_client.get(NOTIFICATIONS, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.json()["count"] == 3


def test_staff_whose_roles_give_no_notifications_see_only_their_own(api_client, db, make_token):
    mine = NotificationFactory(user_id=1)
    NotificationFactory(user_id=6)
    token = make_token(1, is_staff=True, roles=["catalog_editor"])

    response = api_client.get(NOTIFICATIONS, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert [row["id"] for row in response.json()["results"]] == [mine.id]


def test_another_users_notification_is_404(api_client, db, make_token):
    theirs = NotificationFactory(user_id=6)

    response = api_client.get(f"{NOTIFICATIONS}{theirs.id}/", HTTP_AUTHORIZATION=f"Bearer {make_token(5)}")

    assert response.status_code == 404


def test_notifications_need_a_token(api_client, db):
    assert api_client.get(NOTIFICATIONS).status_code == 401


def test_a_malformed_filter_is_400(api_client, db, make_token):
    response = api_client.get(NOTIFICATIONS, {"status": "lost"}, HTTP_AUTHORIZATION=f"Bearer {make_token(5)}")

    assert response.status_code == 400
    assert "status" in response.json()
