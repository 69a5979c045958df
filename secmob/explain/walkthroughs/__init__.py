"""Worked examples for ``secmob explain`` (one module per area)."""
