"""vectors/mobility-header/derived-scapy.json: checked against scapy and the runner."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from secmob import vectors

inet6 = pytest.importorskip("scapy.layers.inet6")

FILE = Path(__file__).resolve().parent.parent / "vectors" / "mobility-header" / "derived-scapy.json"
DOC = json.loads(FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", DOC["cases"], ids=[c["id"] for c in DOC["cases"]])
def test_scapy_reads_the_stored_fields(case: dict[str, object]) -> None:
    data = bytes.fromhex(str(case["mh"]))
    src, dst = DOC["defaults"]["source_address"], DOC["defaults"]["destination_address"]
    hdr = inet6.IPv6(src=str(ipaddress.IPv6Address(bytes.fromhex(src))),
                     dst=str(ipaddress.IPv6Address(bytes.fromhex(dst))), nh=135, plen=len(data))
    pkt = inet6.IPv6(bytes(hdr) + data)
    layer = pkt.payload
    want = case["expected"]
    assert isinstance(want, dict)
    assert layer.mhtype == want["mh_type"] and layer.len == want["header_len"]
    assert layer.cksum == want["checksum"]
    # scapy recomputes the checksum over the same pseudo-header
    rebuilt = layer.copy()
    rebuilt.cksum = None
    assert bytes(inet6.IPv6(bytes(hdr) + bytes(rebuilt)).payload)[4:6] == data[4:6]
    assert want["checksum_ok"] is True
    for field, name in (("seq", "sequence"), ("mhtime", "lifetime"), ("status", "status"),
                        ("index", "nonce_index")):
        if name in want:
            assert getattr(layer, field) == want[name]
    if "cookie" in want:
        assert bytes(layer.cookie).hex() == want["cookie"]
    if "home_address" in want:
        assert ipaddress.IPv6Address(layer.ha).packed.hex() == want["home_address"]
    assert want["reencoded"] == data.hex()


def test_runner_passes_every_case() -> None:
    results = list(vectors.run_files([FILE]))
    assert results and all(r.ok for r in results)
