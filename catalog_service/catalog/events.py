"""Handlers of the events catalog consumes: orders reserve, release and sell stock.

Each runs inside the inbox transaction (``edge.messaging``), so its effects and its answer
commit together with the record that the event was handled.
"""

from catalog.services import stock_release_for_order, stock_reserve_for_order, stock_sell_for_order
from edge.events import OrderCancelled, OrderPlaced, OrderShipped
from edge.messaging.handlers import handles


@handles(OrderPlaced)
def reserve_stock(event: OrderPlaced) -> None:
    stock_reserve_for_order(order_id=event.order_id, customer_id=event.customer_id, items=event.items)


@handles(OrderCancelled)
def release_stock(event: OrderCancelled) -> None:
    stock_release_for_order(order_id=event.order_id)


@handles(OrderShipped)
def sell_stock(event: OrderShipped) -> None:
    stock_sell_for_order(order_id=event.order_id)
