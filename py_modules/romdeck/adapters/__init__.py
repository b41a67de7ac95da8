"""All I/O: RomM HTTP, Steam files, emulation folders, SQLite, files.

Adapters return domain types.
"""
