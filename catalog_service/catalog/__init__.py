"""Categories, products, prices and stock."""
