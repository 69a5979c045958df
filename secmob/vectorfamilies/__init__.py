"""Checkers for each vector family (one module per area; see docs/vectors.md).

Every module here registers its families with :func:`secmob.vectors.family`;
:func:`secmob.vectors.families` imports them all.
"""
