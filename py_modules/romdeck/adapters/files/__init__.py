"""files adapters."""
