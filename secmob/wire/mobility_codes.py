"""Numbers of the Mobility Header registries: MH Types (RFC 6275 §6.1),
Binding Acknowledgement status (§6.1.8, RFC 3963 §4.2) and Binding Error
status (§6.1.9)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["BAStatus", "BEStatus", "MHType"]


class MHType(IntEnum):
    """MH Type values (§6.1.2-§6.1.9)."""

    BINDING_REFRESH_REQUEST = 0
    HOME_TEST_INIT = 1
    CARE_OF_TEST_INIT = 2
    HOME_TEST = 3
    CARE_OF_TEST = 4
    BINDING_UPDATE = 5
    BINDING_ACKNOWLEDGEMENT = 6
    BINDING_ERROR = 7


class BAStatus(IntEnum):
    """Binding Acknowledgement Status values (§6.1.8, RFC 3963 §4.2).
    Values below 128 accept the Binding Update."""

    ACCEPTED = 0
    ACCEPTED_PREFIX_DISCOVERY_NECESSARY = 1
    REASON_UNSPECIFIED = 128
    ADMINISTRATIVELY_PROHIBITED = 129
    INSUFFICIENT_RESOURCES = 130
    HOME_REGISTRATION_NOT_SUPPORTED = 131
    NOT_HOME_SUBNET = 132
    NOT_HOME_AGENT_FOR_THIS_MOBILE_NODE = 133
    DUPLICATE_ADDRESS_DETECTION_FAILED = 134
    SEQUENCE_NUMBER_OUT_OF_WINDOW = 135
    EXPIRED_HOME_NONCE_INDEX = 136
    EXPIRED_CARE_OF_NONCE_INDEX = 137
    EXPIRED_NONCES = 138
    REGISTRATION_TYPE_CHANGE_DISALLOWED = 139
    MOBILE_ROUTER_OPERATION_NOT_PERMITTED = 140
    INVALID_PREFIX = 141
    NOT_AUTHORIZED_FOR_PREFIX = 142
    FORWARDING_SETUP_FAILED = 143
    INVALID_CARE_OF_ADDRESS = 174


class BEStatus(IntEnum):
    """Binding Error Status values (§6.1.9)."""

    UNKNOWN_BINDING_FOR_HOME_ADDRESS_OPTION = 1
    UNRECOGNIZED_MH_TYPE = 2
