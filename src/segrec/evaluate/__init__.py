"""segrec.evaluate."""
