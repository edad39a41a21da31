"""What each staff role (edge.roles) gives in the notify admin and API."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # The staff alerts are for whoever acts on them: stock running out, orders rejected, emails
    # that failed.
    "fulfilment": ["notify.view_notification", "notify.view_staffalert"],
    # Resending an email that failed is a change of its notification.
    "support": ["notify.view_notification", "notify.change_notification", "notify.view_staffalert"],
}
