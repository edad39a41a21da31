"""Handlers of the events orders consumes: the catalog's prices and its answers about stock."""

from edge.events import ProductChanged, StockRejected, StockReserved
from edge.messaging.handlers import handles
from orders.services import order_confirm, order_reject, price_list_apply


@handles(ProductChanged)
def keep_price_list(event: ProductChanged) -> None:
    price_list_apply(event=event)


@handles(StockReserved)
def confirm_order(event: StockReserved) -> None:
    order_confirm(order_id=event.order_id)


@handles(StockRejected)
def reject_order(event: StockRejected) -> None:
    short = ", ".join(
        f"product {shortage['product_id']}: {shortage['available']} of {shortage['requested']} available"
        for shortage in event.shortages
    )
    order_reject(order_id=event.order_id, reason=f"{event.reason} ({short})" if short else event.reason)
