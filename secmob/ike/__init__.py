"""IKE: proposal negotiation, IKEv1 exchanges and IKEv1/IKEv2 key derivation."""
