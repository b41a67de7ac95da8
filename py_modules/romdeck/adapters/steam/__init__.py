"""steam adapters."""
