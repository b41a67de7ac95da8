"""romm adapters."""
