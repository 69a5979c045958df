import pytest
from hypothesis import given
from hypothesis import strategies as st

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, Truncated


def test_reads_big_endian_fields() -> None:
    r = Reader(bytes(range(1, 16)), "T")
    assert r.u8() == 1
    assert r.u16() == 0x0203
    assert r.u32() == 0x04050607
    assert r.u64() == 0x08090A0B0C0D0E0F
    assert r.at_end()


def test_truncation_names_header_and_offset() -> None:
    r = Reader(b"\x00\x01\x02", "Widget")
    r.u16()
    with pytest.raises(Truncated) as info:
        r.u16()
    assert info.value.header == "Widget"
    assert info.value.offset == 2
    assert info.value.needed == 2 and info.value.available == 1
    assert "Widget at offset 2" in str(info.value)


def test_block_reports_outer_offsets_and_checks_consumption() -> None:
    r = Reader(b"\xaa\xbb\x01\x02\x03", "Outer")
    r.skip(2)
    sub = r.block(3, "Inner")
    assert r.at_end()
    assert sub.u8() == 1
    with pytest.raises(DecodeError) as info:
        sub.finish()
    assert info.value.offset == 3 and info.value.header == "Inner"
    with pytest.raises(Truncated):
        Reader(b"\x01", "X").block(2)


def test_negative_lengths_are_truncation_not_slicing() -> None:
    with pytest.raises(Truncated):
        Reader(b"abc", "X").take(-1)


@given(st.lists(st.tuples(st.sampled_from([1, 2, 4, 8]), st.integers(min_value=0)), max_size=20))
def test_writer_reader_round_trip(fields: list[tuple[int, int]]) -> None:
    w = Writer()
    values = []
    for size, raw in fields:
        v = raw % (1 << (8 * size))
        values.append((size, v))
        w.uint(v, size)
    r = Reader(w.getvalue(), "RT")
    assert [(size, r.uint(size)) for size, _ in values] == values
    r.finish()


def test_writer_patches() -> None:
    w = Writer().u8(1).u16(0).u32(7)
    w.patch_u16(1, 0xBEEF)
    w.patch_u8(0, 9)
    assert w.getvalue() == bytes.fromhex("09beef00000007")
    assert len(w) == 7
