"""segrec.report."""
