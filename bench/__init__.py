"""``make bench``: measured speed of the gateway, the catalog and the order pipeline."""
