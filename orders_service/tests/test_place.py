"""Placing an order: priced from orders' own price list, once per Idempotency-Key."""

import pytest

from edge.events import OrderPlaced
from edge.idempotency.models import IdempotencyKey
from edge.messaging.models import OutboxMessage
from orders.models import Order

ORDERS = "/api/orders/"


def _place(client, key, items):
    return client.post(ORDERS, {"items": items}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_an_order_is_priced_from_the_price_list_and_announced(customer_client, tea, cups, key):
    response = _place(
        customer_client, key, [{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 1}]
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["total"], body["currency"]) == ("pending", "16.25", "EUR")
    assert [(item["sku"], item["unit_price"], item["line_total"]) for item in body["items"]] == [
        ("TEA-1", "4.50", "9.00"),
        ("CUP-1", "7.25", "7.25"),
    ]
    assert [(step["to_status"], step["actor_kind"]) for step in body["history"]] == [("pending", "customer")]
    placed = OutboxMessage.objects.get(event_type=OrderPlaced.type).payload
    assert placed["order_id"] == body["id"]
    assert placed["customer_email"] == "user5@example.com"
    assert placed["items"] == [{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 1}]


def test_the_answer_is_the_order_as_it_reads_back(customer_client, tea, cups, key):
    # The answer and GET serialize the order alike: a client may keep either.
    placed = _place(
        customer_client, key, [{"product_id": 2, "quantity": 3}, {"product_id": 1, "quantity": 1}]
    ).json()

    assert customer_client.get(f"{ORDERS}{placed['id']}/").json() == placed


def test_the_same_key_and_body_return_the_first_answer(customer_client, tea, key):
    first = _place(customer_client, key, [{"product_id": 1, "quantity": 1}])
    again = _place(customer_client, key, [{"product_id": 1, "quantity": 1}])

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert OutboxMessage.objects.filter(event_type=OrderPlaced.type).count() == 1


def test_the_same_key_with_another_body_is_422(customer_client, tea, key):
    _place(customer_client, key, [{"product_id": 1, "quantity": 1}])

    response = _place(customer_client, key, [{"product_id": 1, "quantity": 3}])

    assert response.status_code == 422
    assert "another request body" in response.json()["detail"]
    assert Order.objects.count() == 1


def test_keys_belong_to_each_customer(customer_client, make_token, tea, key):
    _place(customer_client, key, [{"product_id": 1, "quantity": 1}])
    customer_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(6)}")

    response = _place(customer_client, key, [{"product_id": 1, "quantity": 1}])

    assert response.status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.parametrize(
    ("items", "error"),
    [
        ([], {"items": {"non_field_errors": ["This list may not be empty."]}}),
        ([{"product_id": 99, "quantity": 1}], {"items": {"0": {"product_id": ["Unknown product."]}}}),
        (
            [{"product_id": 1, "quantity": 0}],
            {"items": {"0": {"quantity": ["Ensure this value is greater than or equal to 1."]}}},
        ),
        (
            [{"product_id": 1, "quantity": -3}],
            {"items": {"0": {"quantity": ["Ensure this value is greater than or equal to 1."]}}},
        ),
        (
            [{"product_id": 1, "quantity": 101}],
            {"items": {"0": {"quantity": ["Ensure this value is less than or equal to 100."]}}},
        ),
        (
            [{"product_id": "tea", "quantity": 1}],
            {"items": {"0": {"product_id": ["A valid integer is required."]}}},
        ),
    ],
    ids=["empty", "unknown-product", "zero", "negative", "above-cap", "not-a-number"],
)
def test_bad_items_are_400_with_field_errors_and_nothing_is_placed(customer_client, tea, key, items, error):
    response = _place(customer_client, key, items)

    assert response.status_code == 400
    assert response.json() == error
    assert not Order.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_an_inactive_product_cannot_be_ordered(customer_client, tea, key):
    tea.active = False
    tea.save()

    response = _place(customer_client, key, [{"product_id": 1, "quantity": 1}])

    assert response.status_code == 400
    assert response.json() == {"items": {"0": {"product_id": ["This product is no longer sold."]}}}


@pytest.mark.parametrize("bad_key", [None, "short", "has spaces in it", "x" * 256])
def test_a_missing_or_malformed_idempotency_key_is_400(customer_client, tea, bad_key):
    headers = {} if bad_key is None else {"HTTP_IDEMPOTENCY_KEY": bad_key}

    response = customer_client.post(
        ORDERS, {"items": [{"product_id": 1, "quantity": 1}]}, format="json", **headers
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Order.objects.exists()


def test_placing_needs_a_token(api_client, tea, key):
    assert _place(api_client, key, [{"product_id": 1, "quantity": 1}]).status_code == 401


def test_a_product_listed_twice_is_400_on_the_second_line(customer_client, tea, key):
    response = _place(
        customer_client, key, [{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 2}]
    )

    assert response.status_code == 400
    assert list(response.json()["items"]) == ["1"]


@pytest.mark.parametrize("lines", [1, 2], ids=["one-line", "two-lines"])
def test_placing_an_order_costs_ten_queries_whatever_its_size(
    customer_client, tea, cups, key, lines, django_assert_num_queries
):
    # Savepoint and release (the test's own transaction stands for the request's), the key's
    # lock and lookup, the price list, the order, its items, its history, the outbox row and the
    # key's row: the answer shows the rows just written, read back from nowhere. In production
    # the savepoint pair is BEGIN and COMMIT, and marking the event sent after commit makes 11.
    items = [{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 1}][:lines]

    with django_assert_num_queries(10):
        response = _place(customer_client, key, items)

    assert response.status_code == 201


def test_the_answer_to_placing_an_order_is_the_order_as_reading_it_shows(customer_client, tea, cups, key):
    placed = _place(
        customer_client, key, [{"product_id": 2, "quantity": 1}, {"product_id": 1, "quantity": 2}]
    )

    read = customer_client.get(f"/api/orders/{placed.json()['id']}/")

    assert placed.status_code == 201
    assert placed.json() == read.json()
    assert [item["product_id"] for item in read.json()["items"]] == [2, 1]


@pytest.mark.parametrize("email_verified", [False, None], ids=["unconfirmed", "no-claim"])
def test_an_account_whose_email_is_not_confirmed_cannot_place_an_order(
    api_client, make_token, tea, key, email_verified
):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(6, email_verified=email_verified)}")

    response = _place(api_client, key, [{"product_id": 1, "quantity": 1}])

    assert response.status_code == 403
    assert response.json()["code"] == "email_not_confirmed"
    assert not Order.objects.exists()
    assert not OutboxMessage.objects.filter(event_type=OrderPlaced.type).exists()
    assert not IdempotencyKey.objects.exists()
