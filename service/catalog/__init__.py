"""The product catalog: products with a reference image, and snapshots attributed to them."""
