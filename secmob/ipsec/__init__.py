"""IPsec data plane: SPD, SAD, anti-replay, ESP and AH processing (RFC 4301-4303)."""
