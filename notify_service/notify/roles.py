"""What each staff role (edge.roles) gives in the notify admin and API."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "fulfilment": ["notify.view_notification"],
    # Resending an email that failed is a change of its notification.
    "support": ["notify.view_notification", "notify.change_notification"],
}
