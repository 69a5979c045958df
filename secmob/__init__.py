"""secmob: reference cryptography for IPv6 security and mobility.

Subpackages:

* :mod:`secmob.algorithms` -- ESP/AH transforms, PRFs and Diffie-Hellman groups,
  one registry per kind keyed by the IANA transform number.
* :mod:`secmob.wire` -- byte-exact codecs for IPv6/IPv4, extension headers,
  ESP/AH, the Mobility Header and ISAKMP.
* :mod:`secmob.ipsec` -- SPD, SAD, anti-replay and ESP/AH processing (RFC 4301-4303).
* :mod:`secmob.ike` -- proposal negotiation and IKEv1/IKEv2 key derivation.
* :mod:`secmob.mip6` -- Mobile IPv6 / NEMO Return Routability and bindings (RFC 6275, 3963).
* :mod:`secmob.addr` -- interface identifiers and address selection.

Every failure raises a subclass of :class:`secmob.errors.SecmobError`.
"""

from secmob.errors import SecmobError

__all__ = ["SecmobError", "__version__"]
__version__ = "0.1.0"
