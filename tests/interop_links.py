"""One protected flow between two secmob engines, with its keys kept for export.

Used by the interoperability tests (tshark, scapy, xfrm): a sender engine at
``a`` with one outbound SA, a receiver engine at ``b`` with the matching
inbound SA, both built from fixed, distinct keys that the tests hand to the
other implementation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.errors import InvalidKeyLength, UsageError
from secmob.ipsec.engine import Engine, Verdict
from secmob.ipsec.sad import SAD, Direction, Mode, Protocol, SecurityAssociation
from secmob.ipsec.selectors import Selector
from secmob.ipsec.spd import SPD, Action, Entry, SATemplate


def pattern(n: int, start: int) -> bytes:
    """``n`` fixed octets that differ from one key to the next."""
    return bytes((start + 7 * i) & 0xFF for i in range(n))


def counter_rng() -> Callable[[int], bytes]:
    c = itertools.count(0x40)
    return lambda n: bytes((next(c) * 3 + i) & 0xFF for i in range(n))


@dataclass
class Link:
    sender: Engine
    receiver: Engine
    out_sa: SecurityAssociation
    in_sa: SecurityAssociation
    cipher_key: bytes
    integrity_key: bytes

    def send(self, packet: bytes) -> bytes:
        res = self.sender.outbound(packet, now=0)
        assert res.verdict is Verdict.PROTECTED and res.packet is not None
        return res.packet


def link(protocol: Protocol, cipher: str | None = None, integrity: str | None = None, *,
         a: str, b: str, mode: Mode = Mode.TRANSPORT, tunnel: tuple[str, str] | None = None,
         esn: bool = False, spi: int = 0x1001, key_size: int | None = None) -> Link:
    """Engines at ``a`` and ``b`` protecting a -> b with one ESP or AH SA.

    ``cipher``/``integrity`` are registry names; ``key_size`` picks the
    cipher key length when the name does not fix it (default: the largest).
    """
    kw: dict[str, object] = {"esn": esn, "mode": mode}
    ckey = ikey = b""
    if cipher is not None:
        choice = ENCRYPTION.choose(cipher)
        size = key_size or choice.key_size or choice.algorithm.key_sizes[-1]
        ckey = pattern(choice.algorithm.keymat_size(size), 0x11)
        kw.update(cipher=choice.algorithm, cipher_key=ckey)
    if integrity is not None:
        alg = INTEGRITY.get(integrity)
        ikey = pattern(alg.key_size, 0x5A)
        kw.update(integrity=alg, integrity_key=ikey)
    tmpl_out = SATemplate((protocol.name.lower(),), mode, *(tunnel or (None, None)))
    tmpl_in = SATemplate((protocol.name.lower(),), mode,
                         *((tunnel[1], tunnel[0]) if tunnel else (None, None)))
    out_entry = Entry(Selector.make(a, b), Action.PROTECT, tmpl_out, name="a-to-b")
    in_entry = Entry(Selector.make(b, a), Action.PROTECT, tmpl_in, name="b-from-a")
    ends_out = {} if tunnel is None else {"tunnel_source": tunnel[0],
                                          "tunnel_destination": tunnel[1]}
    out_sa = SecurityAssociation(spi, protocol, direction=Direction.OUTBOUND, source=a,
                                 destination=b, policy=out_entry, **ends_out,
                                 **kw)  # type: ignore[arg-type]
    in_sa = SecurityAssociation(spi, protocol, direction=Direction.INBOUND, source=a,
                                destination=b, policy=in_entry, **ends_out,
                                **kw)  # type: ignore[arg-type]
    sender, receiver = SAD(), SAD()
    sender.insert_bundle(out_entry, out_sa)
    receiver.insert(in_sa)
    return Link(Engine(SPD([out_entry]), sender, rng=counter_rng()),
                Engine(SPD([in_entry]), receiver, rng=counter_rng()),
                out_sa, in_sa, ckey, ikey)


def check_key_refusals(export: Callable[..., object], a: str, b: str) -> None:
    """An exporter taking ``(sa, cipher_key=, integrity_key=)`` refuses keys of
    the wrong length and an integrity key for a combined mode."""
    lk = link(Protocol.ESP, "aes128ctr", "sha1", a=a, b=b)
    with pytest.raises(InvalidKeyLength, match="salt"):
        export(lk.out_sa, cipher_key=lk.cipher_key[:16], integrity_key=lk.integrity_key)
    with pytest.raises(InvalidKeyLength, match="HMAC-SHA1-96"):
        export(lk.out_sa, cipher_key=lk.cipher_key, integrity_key=b"short")
    gcm = link(Protocol.ESP, "aes128gcm16", None, a=a, b=b)
    with pytest.raises(UsageError, match="no integrity key"):
        export(gcm.out_sa, cipher_key=gcm.cipher_key, integrity_key=b"x" * 20)
