"""Shared pytest set-up: the fake RomM server fixtures live in ``tests/fakeromm``."""

pytest_plugins = ["fakeromm.fixtures"]
