"""segrec.describe."""
