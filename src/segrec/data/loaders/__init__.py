"""Dataset loaders; importing this package registers them all."""
