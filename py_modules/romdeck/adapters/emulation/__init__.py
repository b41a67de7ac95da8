"""emulation adapters."""
