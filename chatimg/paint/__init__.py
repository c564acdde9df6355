"""paint."""
