"""Byte-exact codecs for the wire formats secmob processes.

Codecs know layouts, never keys: each structure has a ``parse`` that raises
:class:`~secmob.errors.DecodeError` / :class:`~secmob.errors.Truncated` (naming
the header and the offset) and a ``build``/``to_bytes`` that reproduces the
parsed bytes exactly.
"""
