"""segrec.graph."""
