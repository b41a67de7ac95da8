"""Fakes of our Protocols with failure knobs."""
