"""Staff are alerted as a product's stock crosses into running low or out of stock, and not again
while it stays there."""

import pytest

from catalog import services
from edge.events import OrderPlaced, OrderShipped, StaffAlertRaised
from edge.messaging.services import event_handle
from tests.factories import make_product
from tests.helpers import published

pytestmark = pytest.mark.django_db

_order_ids = iter(range(1, 10**6))


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.CATALOG_LOW_STOCK_THRESHOLD = 5


def order(product, quantity: int) -> int:
    order_id = next(_order_ids)
    event_handle(
        message=OrderPlaced(
            order_id=order_id,
            customer_id=3,
            customer_email="ann@example.com",
            items=[{"product_id": product.pk, "quantity": quantity}],
        ).to_message()
    )
    return order_id


def alerts() -> list[tuple[str, str]]:
    return [(alert["kind"], alert["object_id"]) for alert in published(StaffAlertRaised)]


def test_an_order_that_takes_a_product_to_its_threshold_alerts_staff_it_runs_low():
    cups = make_product(on_hand=8, name="Espresso cup", sku="CUP-01")

    order(cups, 3)

    [alert] = published(StaffAlertRaised)
    assert alert["kind"] == "low_stock"
    assert alert["service"] == "catalog"
    assert alert["subject"] == "Running low: Espresso cup (CUP-01)"
    assert alert["detail"] == "5 unit(s) available (8 on hand, 3 reserved); running low at 5 or fewer."
    assert (alert["object_type"], alert["object_id"]) == ("product", str(cups.pk))
    assert alert["link"] == f"/admin/catalog/catalog/product/{cups.pk}/change/"


def test_an_order_for_the_last_units_alerts_out_of_stock_only():
    cups = make_product(on_hand=8, name="Espresso cup", sku="CUP-01")

    order(cups, 8)

    assert alerts() == [("out_of_stock", str(cups.pk))]
    assert published(StaffAlertRaised)[0]["subject"] == "Out of stock: Espresso cup (CUP-01)"


def test_no_second_alert_while_the_stock_stays_low():
    cups = make_product(on_hand=10)

    order(cups, 5)
    order(cups, 1)
    order(cups, 2)

    assert alerts() == [("low_stock", str(cups.pk))]


def test_running_low_then_out_alerts_each_once():
    cups = make_product(on_hand=10)

    order(cups, 6)
    order(cups, 4)

    assert alerts() == [("low_stock", str(cups.pk)), ("out_of_stock", str(cups.pk))]


def test_a_product_restocked_and_running_low_again_alerts_again():
    cups = make_product(on_hand=10)
    order(cups, 6)

    services.stock_adjust(product=cups, on_hand=20, note="delivery")
    order(cups, 10)

    assert alerts() == [("low_stock", str(cups.pk))] * 2


def test_a_cancellation_that_gives_units_back_alerts_nobody():
    cups = make_product(on_hand=6)
    order_id = order(cups, 6)

    services.stock_release_for_order(order_id=order_id)

    assert alerts() == [("out_of_stock", str(cups.pk))]


def test_the_products_own_threshold_decides_when_it_runs_low():
    cups = make_product(on_hand=10)
    services.stock_set_low_threshold(product=cups, threshold=2)

    order(cups, 7)
    assert alerts() == []

    order(cups, 1)
    assert alerts() == [("low_stock", str(cups.pk))]


def test_a_count_that_finds_nothing_left_alerts_out_of_stock():
    cups = make_product(on_hand=10)

    services.stock_adjust(product=cups, on_hand=0, note="broken in transit")

    assert alerts() == [("out_of_stock", str(cups.pk))]


def test_a_rejected_order_moves_no_stock_and_alerts_nothing_of_it():
    cups = make_product(on_hand=10)

    order(cups, 11)

    assert alerts() == []


def test_shipping_leaves_what_is_available_and_alerts_nothing():
    cups = make_product(on_hand=20)
    order_id = order(cups, 2)

    event_handle(
        message=OrderShipped(
            order_id=order_id, customer_id=3, customer_email="ann@example.com", total="2.00", currency="EUR"
        ).to_message()
    )

    assert alerts() == []


def test_a_new_product_with_little_stock_alerts_nothing():
    make_product(on_hand=2)
    make_product(on_hand=0)

    assert alerts() == []
