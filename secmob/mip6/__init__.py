"""Mobile IPv6 and NEMO: Return Routability, bindings and node state machines
(RFC 6275, RFC 3963)."""
