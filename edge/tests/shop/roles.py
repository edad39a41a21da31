"""What each staff role gives in the test project (edge.roles), as a service declares it."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "support": ["messaging.view_deadletter", "shop.view_greeting"],
    "fulfilment": ["messaging.view_deadletter", "messaging.change_deadletter"],
}
