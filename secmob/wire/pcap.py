"""Classic libpcap capture files (the format of libpcap's ``pcap-savefile(5)``).

:func:`pcap_bytes` writes a capture from records whose timestamps the caller
supplies (no clock is read); the default link type ``LINKTYPE_RAW`` (101)
holds bare IPv4 and IPv6 packets side by side. :func:`read_pcap` reads such a
file back (either byte order, microsecond or nanosecond timestamps).

File header (24 octets): magic ``0xa1b2c3d4``, version 2.4, thiszone 0,
sigfigs 0, snaplen, link type. Each record: seconds, microseconds, captured
length, original length (4 octets each), then the captured octets.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from secmob._buffer import Reader
from secmob.errors import DecodeError, UsageError

__all__ = ["LINKTYPE_RAW", "PcapRecord", "pcap_bytes", "read_pcap"]

LINKTYPE_RAW = 101
MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D


@dataclass(frozen=True, slots=True)
class PcapRecord:
    """One captured packet: timestamp (seconds and sub-second part in
    microseconds, or nanoseconds in a nanosecond file), captured octets, and
    the original length when the capture was cut to the snap length."""

    seconds: int
    fraction: int
    data: bytes
    original_length: int | None = None


def pcap_bytes(
    records: Iterable[PcapRecord], *, linktype: int = LINKTYPE_RAW, snaplen: int = 65535,
) -> bytes:
    """A little-endian microsecond-resolution capture file holding ``records``.

    Packets longer than ``snaplen`` are cut, their original length recorded."""
    out = [struct.pack("<IHHiIII", MAGIC_US, 2, 4, 0, 0, snaplen, linktype)]
    for rec in records:
        if not 0 <= rec.fraction < 1_000_000:
            raise UsageError(f"microseconds must be in 0..999999, got {rec.fraction}")
        data = rec.data[:snaplen]
        orig = len(rec.data) if rec.original_length is None else rec.original_length
        out.append(struct.pack("<IIII", rec.seconds, rec.fraction, len(data), orig))
        out.append(data)
    return b"".join(out)


def read_pcap(data: bytes) -> tuple[int, list[PcapRecord]]:
    """The link type and the records of a classic pcap file.

    Raises :class:`~secmob.errors.DecodeError` for an unknown magic number and
    :class:`~secmob.errors.Truncated` when a record is cut short."""
    r = Reader(data, "pcap")
    magic = r.take(4)
    if int.from_bytes(magic, "little") in (MAGIC_US, MAGIC_NS):
        order = "<"
    elif int.from_bytes(magic, "big") in (MAGIC_US, MAGIC_NS):
        order = ">"
    else:
        raise DecodeError("pcap", f"unknown magic number 0x{magic.hex()}", 0)
    hdr = struct.unpack(order + "HHiIII", r.take(20))
    linktype = hdr[5] & 0x0FFFFFFF
    records: list[PcapRecord] = []
    while not r.at_end():
        r.header = f"pcap record {len(records)}"
        sec, frac, caplen, orig = struct.unpack(order + "IIII", r.take(16))
        records.append(PcapRecord(sec, frac, r.take(caplen), orig))
    return linktype, records
