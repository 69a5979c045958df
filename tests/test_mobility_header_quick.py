"""The Mobility Header decoder reads Return Routability signed messages from
offsets; the result, and every error, must be those of the option-by-option
decoder (RFC 6275 §6.1, §6.2, §9.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secmob.errors import DecodeError, SecmobError
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import (
    AlternateCareOfAddress,
    BindingAuthorizationData,
    NonceIndices,
    Pad1,
    PadN,
)

AUTH = bytes(range(1, 13))
COA = bytes.fromhex("20010db8000000020000000000000010")


def signed_shapes() -> list[bytes]:
    bu = mh.BindingUpdate(sequence=42, lifetime=105, ack=True,
                          options=(NonceIndices(3, 4), BindingAuthorizationData(AUTH))).padded()
    ba = mh.BindingAcknowledgement(status=0, sequence=42, lifetime=105,
                                   options=(BindingAuthorizationData(AUTH),)).padded()
    return [
        bu.to_bytes(), ba.to_bytes(),
        mh.BindingUpdate(sequence=1, lifetime=0, options=(NonceIndices(9, 0),)).padded()
        .to_bytes(),
        mh.BindingUpdate(sequence=7, lifetime=7, flags_reserved=0x0300, reserved=9,
                         payload_proto=6, checksum=0xBEEF,
                         options=(Pad1(), PadN(b"\1\2"), NonceIndices(1, 2), Pad1(),
                                  PadN(b""), BindingAuthorizationData(AUTH))).to_bytes(),
        mh.BindingUpdate(sequence=7, lifetime=7, options=(
            AlternateCareOfAddress(COA), NonceIndices(1, 2),
            BindingAuthorizationData(AUTH))).padded().to_bytes(),
        mh.HomeTest(nonce_index=5, cookie=bytes(8), keygen_token=bytes(8)).padded().to_bytes(),
        mh.HomeTestInit(cookie=b"\7" * 8).padded().to_bytes(),
        mh.BindingError(status=1, home_address=COA).padded().to_bytes(),
        mh.BindingRefreshRequest().padded().to_bytes(),
    ]


SHAPES = signed_shapes()


def option_by_option(data: bytes) -> mh.MobilityMessage:
    msg, n = mh.decode_prefix(data)
    if n != len(data):
        raise DecodeError("Mobility Header", "trailing octets", n)
    return msg


def agree(data: bytes) -> None:
    try:
        want = option_by_option(data)
    except SecmobError as exc:
        with pytest.raises(type(exc)):
            mh.decode(data)
        return
    got = mh.decode(data)
    assert type(got) is type(want) and got == want and vars(got) == vars(want)
    assert got.to_bytes() == data and hash(got) == hash(want)


@pytest.mark.parametrize("data", SHAPES)
def test_every_cut_and_extension_agrees(data: bytes) -> None:
    agree(data)
    for cut in range(len(data)):
        agree(data[:cut])
    agree(data + bytes(8))


@given(st.sampled_from(SHAPES), st.integers(0, 200), st.integers(0, 255))
def test_any_one_octet_change_agrees(data: bytes, where: int, value: int) -> None:
    changed = bytearray(data)
    changed[where % len(changed)] = value
    agree(bytes(changed))


@given(st.binary(min_size=8, max_size=64))
def test_random_bytes_agree(data: bytes) -> None:
    agree(data)


def test_an_option_after_the_authorization_data_is_still_refused() -> None:
    bu = mh.BindingUpdate(sequence=1, lifetime=1, options=(
        NonceIndices(1, 2), *[Pad1()] * 8, BindingAuthorizationData(AUTH)))
    data = bu.to_bytes()  # 12 + 6 + 8 + 14 = 40 octets; move the eight Pad1 to the end
    with pytest.raises(DecodeError, match="must be the last option"):
        mh.decode(data[:18] + data[26:] + bytes(8))


def test_decoded_messages_stay_frozen() -> None:
    msg = mh.decode(SHAPES[0])
    assert isinstance(msg, mh.BindingUpdate)
    with pytest.raises(AttributeError):
        msg.sequence = 1  # type: ignore[misc]
