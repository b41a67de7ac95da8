"""RomDeck: a RomM library on the Steam Deck (Decky Loader plugin and headless CLI)."""

__version__ = "0.1.0"
