"""IPv6 address construction: interface identifiers, temporary addresses, ULAs
and default address selection."""
