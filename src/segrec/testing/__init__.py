"""segrec.testing."""
