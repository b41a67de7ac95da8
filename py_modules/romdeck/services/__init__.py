"""Use cases.

They depend on the Protocols in :mod:`romdeck.services.protocols`, never on adapters.
"""
