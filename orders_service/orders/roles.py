"""What each staff role (edge.roles) gives in the orders admin and API."""

# The order page shows its items and transitions: whoever sees an order sees those.
_SEE_ORDERS = ["orders.view_order", "orders.view_orderitem", "orders.view_ordertransition"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Shipping, delivering and cancelling are changes of the order.
    "fulfilment": [*_SEE_ORDERS, "orders.change_order"],
    "support": _SEE_ORDERS,
}
