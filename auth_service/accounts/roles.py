"""What each staff role (edge.roles) gives in auth's admin and API, besides the groups and
permissions auth's users may also hold."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Changing a user includes their roles, which edge.grants lets them grant only when they hold them.
    "user_admin": ["accounts.view_user", "accounts.change_user", "accounts.view_role"],
    "support": ["accounts.view_user"],
}
