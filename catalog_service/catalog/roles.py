"""What each staff role (edge.roles) gives in the catalog's admin and API."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "catalog_editor": [
        "catalog.view_category",
        "catalog.add_category",
        "catalog.change_category",
        "catalog.view_product",
        "catalog.add_product",
        "catalog.change_product",
        # The stock ledger shown on the product page.
        "catalog.view_stockmovement",
    ],
    "fulfilment": ["catalog.view_product", "catalog.view_stockmovement"],
    "support": ["catalog.view_category", "catalog.view_product"],
}
