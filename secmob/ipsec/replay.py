"""The anti-replay window (RFC 4303 §3.4.3 and Appendix A, RFC 4302 §3.4.3).

A receiver remembers which sequence numbers of an SA it has already
accepted, within a window of ``size`` packets that ends at the highest
authenticated sequence number ``top``. A packet is rejected when its number
was seen before or lies left of the window.

The check is split in two because the window may move only after the packet
authenticated (RFC 4303 §3.4.3, "the receiver ... MUST ... update the
window only if the integrity verification succeeds"):

* :meth:`ReplayWindow.check` takes the sequence number from the wire (the
  low-order 32 bits when Extended Sequence Numbers are used), infers the
  full 64-bit number (RFC 4303 Appendix A2.2), and raises
  :class:`~secmob.errors.ReplayError` for a duplicate or a number that is too
  old. It changes nothing.
* :meth:`ReplayWindow.accept` records an authenticated full sequence number
  and slides the window. It repeats the duplicate test, so two copies of a
  packet that both passed :meth:`check` before either was accepted cannot
  both be accepted.

The bitmap is a ring of 64-bit words as RFC 6479 describes: bit ``n mod 64``
of word ``(n >> 6) mod blocks`` stands for sequence number ``n``. The ring has
one word more than the window needs, so sliding the window only zeroes the
words that enter it (at most ``blocks`` words, however far it jumps); no step
shifts the whole bitmap.

Window size 0 disables anti-replay (RFC 4303 §3.4.3: a receiver may
disable it, and then performs no checks on the sequence number). With ESN,
the receiver still has to infer the high-order 32 bits for the ICV; a
disabled window does so as if the window were 2^31 packets wide (the
widest span that keeps the inference unambiguous).

The split follows the pseudo-code of RFC 4303 Appendix A2.3, where every
branch checks the window, then the ICV, and only then sets the bit and
advances ``Tl``/``Th``.

Not implemented: the resynchronisation of RFC 4303 Appendix A3 (after more
than 2^32 consecutive packets were lost, a receiver may try higher values of
Seqh when many consecutive packets fail the ICV check). A packet whose
inferred high-order bits are wrong simply fails the ICV check and is dropped;
a caller that sees long runs of :class:`~secmob.errors.IntegrityError` on an
ESN SA should rekey.
"""

from __future__ import annotations

from array import array

from secmob.errors import ReplayError, UsageError

__all__ = ["MAX_WINDOW", "ReplayWindow"]

#: Largest supported window, in packets.
MAX_WINDOW = 1 << 20

_SPACE = 1 << 32  # one sequence number subspace (the 32 bits on the wire)
_MAX_SEQ = (1 << 64) - 1
_DISABLED_SPAN = 1 << 31  # inference span when anti-replay is disabled


class ReplayWindow:
    """Anti-replay state of one inbound SA.

    ``size`` is the window in packets (0 disables the checks, RFC 4303
    recommends at least 32 and 64 by default); ``esn`` selects 64-bit
    Extended Sequence Numbers, of which only the low 32 bits are received.

    >>> w = ReplayWindow(64)
    >>> w.accept(w.check(5))
    >>> w.check(5)
    Traceback (most recent call last):
    ...
    secmob.errors.ReplayError: sequence number 5 was already received
    """

    __slots__ = ("_blocks", "_mask", "_top", "esn", "size")

    def __init__(self, size: int = 64, *, esn: bool = False) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_WINDOW:
            raise UsageError(
                f"anti-replay window size must be an integer from 0 to {MAX_WINDOW}, got {size!r}"
            )
        self.size = size
        self.esn = esn
        self._top = 0
        if size:
            # RFC 6479 §2: one spare word, rounded up to a power of two for masking.
            need = (size + 63) // 64 + 1
            nblocks = 1 << (need - 1).bit_length()
            self._blocks = array("Q", bytes(8 * nblocks))
            self._mask = nblocks - 1
        else:
            self._blocks = array("Q")
            self._mask = 0

    @property
    def top(self) -> int:
        """The highest authenticated full sequence number (0 before the first packet)."""
        return self._top

    def __repr__(self) -> str:
        esn = ", esn" if self.esn else ""
        return f"<ReplayWindow size={self.size}{esn} top={self._top}>"

    # -- RFC 4303 Appendix A2.2 -------------------------------------------------

    def infer(self, seql: int) -> int:
        """The full sequence number of a packet carrying the low-order bits ``seql``.

        RFC 4303 Appendix A2.2 (identical to RFC 4302 Appendix B2.2): with
        ``T = Th * 2^32 + Tl`` the top of the window and ``Bl = Tl - W + 1``,

        * Case A, ``Tl >= W - 1``: ``Seqh = Th`` if ``seql >= Bl``, else ``Th + 1``;
        * Case B, ``Tl < W - 1``: ``Seqh = Th - 1`` if ``seql >= Bl mod 2^32``,
          else ``Th``.

        Without ESN the number on the wire is the full number. Raises
        :class:`ReplayError` when the inferred number would precede the first
        sequence number (Case B with ``Th = 0``) or exceed 2^64 - 1.
        """
        if not 0 <= seql < _SPACE:
            raise UsageError(f"a sequence number on the wire has 32 bits, got {seql!r}")
        if not self.esn:
            return seql
        w = self.size or _DISABLED_SPAN
        th, tl = divmod(self._top, _SPACE)
        if tl >= w - 1:  # Case A: the window lies within one subspace
            seqh = th if seql >= tl - w + 1 else th + 1
        else:  # Case B: the window spans two subspaces
            seqh = th - 1 if seql >= (tl - w + 1) % _SPACE else th
        full = (seqh << 32) | seql
        if seqh < 0:
            raise ReplayError(
                f"sequence number {seql} (low 32 bits) lies left of the window "
                f"(top {self._top}, size {self.size})",
                seql,
            )
        if full > _MAX_SEQ:
            raise ReplayError(f"sequence number beyond 2^64 - 1 (low 32 bits {seql})", seql)
        return full

    # -- the two steps ----------------------------------------------------------

    def check(self, seq: int) -> int:
        """Pre-check a received sequence number; return the full 64-bit number.

        ``seq`` is the 32-bit Sequence Number field. Raises
        :class:`~secmob.errors.ReplayError` (with ``.sequence`` set to the full
        number) if the packet is a duplicate or too old. Nothing changes:
        call :meth:`accept` once the packet authenticated.
        """
        if self.esn:
            full = self.infer(seq)
        elif 0 <= seq < _SPACE:
            full = seq
        else:
            raise UsageError(f"a sequence number on the wire has 32 bits, got {seq!r}")
        if full <= self._top and self.size:  # new highest numbers pass at once
            self._test(full)
        return full

    def accept(self, full: int) -> None:
        """Record the authenticated full sequence number ``full`` and slide the window.

        Raises :class:`~secmob.errors.ReplayError` if ``full`` became a
        duplicate (or too old) since it was checked; the window is then
        unchanged.
        """
        top = self._top
        if full > top:
            if full > _MAX_SEQ:
                raise UsageError(f"a full sequence number has 64 bits, got {full!r}")
            self._top = full
            if not self.size:
                return
            blocks, mask = self._blocks, self._mask
            last = full >> 6
            if last != top >> 6:
                # Zero only the words entering the window (RFC 6479 §2); at most all of them.
                for index in range(max((top >> 6) + 1, last - mask), last + 1):
                    blocks[index & mask] = 0
        else:
            if not self.size:
                return
            if full < 0:
                raise UsageError(f"a full sequence number has 64 bits, got {full!r}")
            self._test(full)
            blocks, mask, last = self._blocks, self._mask, full >> 6
        blocks[last & mask] |= 1 << (full & 63)

    def _test(self, full: int) -> None:
        """Raise ReplayError for ``full <= top`` outside the window or already seen."""
        top = self._top
        if full == 0:
            raise ReplayError("sequence number 0 is never sent (the first one is 1)", 0)
        if full + self.size <= top:
            raise ReplayError(
                f"sequence number {full} lies left of the window "
                f"(top {top}, size {self.size})",
                full,
            )
        if self._blocks[(full >> 6) & self._mask] >> (full & 63) & 1:
            raise ReplayError(f"sequence number {full} was already received", full)

    def seen(self, full: int) -> bool:
        """True if ``full`` lies in the window and was accepted (for inspection and tests)."""
        if not self.size or full > self._top or full + self.size <= self._top or full == 0:
            return False
        return bool(self._blocks[(full >> 6) & self._mask] >> (full & 63) & 1)
