"""segrec."""
