"""The anti-replay window against a set-based model (RFC 4303 §3.4.3, Appendix A)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secmob.errors import ReplayError, UsageError
from secmob.ipsec.replay import MAX_WINDOW, ReplayWindow

SPACE = 1 << 32


class Model:
    """The obvious implementation: a set of every accepted number.

    ESN inference is written from the definition rather than RFC 4303's case
    split: the full number is the unique value congruent to the received 32
    bits in the 2^32-wide span that starts at the bottom of the window,
    ``T - W + 1``.
    """

    def __init__(self, size: int, esn: bool) -> None:
        self.size, self.esn = size, esn
        self.top = 0
        self.accepted: set[int] = set()

    def full(self, seql: int) -> int | None:
        if not self.esn:
            return seql
        span = self.size or 1 << 31
        bottom = self.top - span + 1
        full = bottom + (seql - bottom) % SPACE
        return full if 0 <= full < 1 << 64 else None

    def ok(self, full: int) -> bool:
        if not self.size:
            return True
        if full > self.top:
            return True
        return full != 0 and full > self.top - self.size and full not in self.accepted

    def accept(self, full: int) -> None:
        self.accepted.add(full)
        self.top = max(self.top, full)


def run(size: int, esn: bool, start: int, deltas: list[int], auth: list[bool]) -> None:
    w, m = ReplayWindow(size, esn=esn), Model(size, esn)
    if start:  # jump the window (an accepted packet far along)
        w.accept(start)
        m.accept(start)
    for delta, ok_icv in zip(deltas, auth, strict=False):
        full_wanted = max(m.top + delta, 0)
        seql = full_wanted % SPACE if esn else min(full_wanted, SPACE - 1)
        expect = m.full(seql)
        if expect is None or not m.ok(expect):
            with pytest.raises(ReplayError):
                w.check(seql)
            continue
        assert w.check(seql) == expect
        if ok_icv:  # only authenticated packets move the window
            w.accept(expect)
            m.accept(expect)
        assert w.top == m.top
    for n in range(max(1, m.top - size - 3), m.top + 2):
        assert w.seen(n) == (size > 0 and n in m.accepted and n > m.top - size)


sizes = st.sampled_from([0, 1, 32, 63, 64, 65, 100, 128, 1024, 4096])
deltas = st.lists(
    st.one_of(st.integers(-70, 70), st.integers(-5000, 5000),
              st.integers(-(1 << 33), 1 << 33)),
    max_size=60,
)


@given(sizes, st.booleans(), deltas, st.lists(st.booleans(), min_size=60, max_size=60))
def test_against_model_from_start(size: int, esn: bool, d: list[int], auth: list[bool]) -> None:
    run(size, esn, 0, d, auth)


@given(sizes, deltas, st.lists(st.booleans(), min_size=60, max_size=60),
       st.integers(-5000, 5000))
def test_against_model_across_esn_rollover(size: int, d: list[int], auth: list[bool],
                                           offset: int) -> None:
    # The window straddles a 2^32 boundary (Appendix A2.2 Case B).
    run(size, True, (3 << 32) + offset, d, auth)


def test_esn_case_a_and_b_by_hand() -> None:
    w = ReplayWindow(64, esn=True)
    w.accept((1 << 32) + 10)  # Th = 1, Tl = 10 < W - 1: Case B
    assert w.check(SPACE - 5) == SPACE - 5  # the previous subspace
    assert w.check(20) == (1 << 32) + 20
    w.accept((1 << 32) + 1000)  # Case A
    assert w.check(999) == (1 << 32) + 999
    assert w.check(5) == (2 << 32) + 5  # below the window: the next subspace


def test_esn_before_the_first_subspace_is_rejected() -> None:
    w = ReplayWindow(64, esn=True)
    w.accept(3)
    with pytest.raises(ReplayError):
        w.check(SPACE - 1)  # would be Seqh = -1


def test_messages_and_sequence_attribute() -> None:
    w = ReplayWindow(32)
    w.accept(100)
    with pytest.raises(ReplayError, match="already received") as e:
        w.check(100)
    assert e.value.sequence == 100
    with pytest.raises(ReplayError, match="left of the window"):
        w.check(68)
    assert w.check(69) == 69
    with pytest.raises(ReplayError, match="never sent"):
        ReplayWindow(32).check(0)


def test_accept_repeats_the_duplicate_test() -> None:
    w = ReplayWindow(64)
    a, b = w.check(7), w.check(7)  # two copies pass the pre-check
    w.accept(a)
    with pytest.raises(ReplayError):
        w.accept(b)


def test_disabled_window_checks_nothing() -> None:
    w = ReplayWindow(0)
    for _ in range(3):
        w.accept(w.check(9))
    assert w.check(1) == 1 and w.top == 9


def test_large_jump_clears_the_ring() -> None:
    w = ReplayWindow(4096)
    for n in range(1, 5000):
        w.accept(n)
    w.accept(10**9)
    assert w.check(10**9 - 1) == 10**9 - 1
    assert w.check(10**9 - 4095) == 10**9 - 4095
    with pytest.raises(ReplayError):
        w.check(10**9 - 4096)


@pytest.mark.parametrize("bad", [-1, MAX_WINDOW + 1, True, 1.5])
def test_bad_sizes(bad: object) -> None:
    with pytest.raises(UsageError):
        ReplayWindow(bad)  # type: ignore[arg-type]


def test_wire_number_must_have_32_bits() -> None:
    with pytest.raises(UsageError):
        ReplayWindow(64).check(SPACE)


# -- ESN inference, RFC 4303 Appendix A2.2, at the edges of its two cases ----------------


def esn_window(top: int, size: int = 64) -> ReplayWindow:
    w = ReplayWindow(size, esn=True)
    w.accept(top)
    return w


@pytest.mark.parametrize(("tl", "seql", "seqh"), [
    # Case A, Tl = W - 1 (its first value): Bl = 0, every seql is >= Bl.
    (63, 0, 5), (63, 63, 5), (63, SPACE - 1, 5),
    # Case A, Tl = 100: Bl = 37; just below Bl belongs to the next subspace.
    (100, 37, 5), (100, 36, 6), (100, 0, 6), (100, SPACE - 1, 5),
    # Case B, Tl = W - 2 (its last value): Bl = -1 mod 2^32 = 2^32 - 1.
    (62, SPACE - 1, 4), (62, SPACE - 2, 5), (62, 0, 5), (62, 62, 5),
    # Case B, Tl = 0: Bl = 2^32 - 63.
    (0, SPACE - 63, 4), (0, SPACE - 64, 5), (0, 0, 5),
])
def test_infer_cases_a_and_b(tl: int, seql: int, seqh: int) -> None:
    w = esn_window(5 * SPACE + tl)
    assert w.infer(seql) == seqh * SPACE + seql


def test_infer_refuses_numbers_before_the_first_and_after_the_last() -> None:
    with pytest.raises(ReplayError, match="left of the window"):
        esn_window(62).infer(SPACE - 1)  # Case B with Th = 0: Seqh would be -1
    assert esn_window(63).infer(SPACE - 1) == SPACE - 1  # Case A with Th = 0
    with pytest.raises(ReplayError, match="beyond 2\\^64 - 1"):
        esn_window((1 << 64) - 1).infer(0)  # Case A: Seqh = Th + 1 = 2^32
    assert esn_window((1 << 64) - 1).infer(SPACE - 1) == (1 << 64) - 1


def test_infer_without_esn_and_out_of_range_input() -> None:
    w = ReplayWindow(64)
    w.accept(100)
    assert w.infer(0) == 0 and w.infer(SPACE - 1) == SPACE - 1
    for bad in (-1, SPACE):
        with pytest.raises(UsageError):
            w.infer(bad)
        with pytest.raises(UsageError):
            esn_window(100).infer(bad)
