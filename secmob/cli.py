"""The ``secmob`` command line: a thin shell over the library.

``secmob vectors verify [PATH ...] [--json]``
    Run the stored vector set, or the given vector files, and print a table of
    (family, source, cases, passed, failed) with a closing ``N passed, M failed``
    line. Exit status 0 when all pass, 1 on any failure, 2 when a file is
    unreadable or invalid.
``secmob vectors list``
    Families and sources of the stored vectors.
``secmob explain TOPIC [--format text|markdown|json] [options]``
    Run a worked example and show every crypto step with its formula, RFC
    section and real intermediate values.
``secmob scenario mip6 OUT.pcap [--nemo] [--keys OUT.esp_sa]``
    Play the Mobile IPv6 (or NEMO) scenario on an in-memory network, write
    every packet to a pcap file and, with ``--keys``, Wireshark's ESP keys.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from secmob import explain, vectors
from secmob.errors import SecmobError, VectorFileError

__all__ = ["main"]


def source_document(source: str) -> str:
    """The document part of a case's source: ``"RFC 4231 §4.2 (Test Case 1)"`` gives
    ``"RFC 4231"``, ``"derived: HMAC over ..."`` gives ``"derived"``."""
    doc = re.split(r" §|\(|:| tcId| #|,", source, maxsplit=1)[0].strip()
    return doc or source


def _table(rows: Sequence[tuple[str, ...]], headers: tuple[str, ...], numeric: int) -> str:
    """Columns aligned; the last ``numeric`` columns right-justified."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    right = [i >= len(headers) - numeric for i in range(len(headers))]

    def fmt(r: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if n else c.ljust(w)
                         for c, w, n in zip(r, widths, right, strict=True)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(headers), sep, *(fmt(r) for r in rows)])


def _vectors_verify(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] if args.paths else vectors.stored_files()
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.rglob("*.json")) if p.is_dir() else [p])
    try:
        results = list(vectors.run_files(files))
    except VectorFileError as exc:
        print(f"secmob: invalid vector file: {exc}", file=sys.stderr)
        return 2
    passed = sum(r.ok for r in results)
    failed = len(results) - passed
    if args.json:
        print(json.dumps({
            "passed": passed, "failed": failed,
            "cases": [r.__dict__ for r in results],
        }, indent=2, ensure_ascii=False))
    else:
        groups: dict[tuple[str, str], Counter[bool]] = defaultdict(Counter)
        for r in results:
            groups[(r.family, source_document(r.source))][r.ok] += 1
        rows = [(fam, src, str(c[True] + c[False]), str(c[True]), str(c[False]))
                for (fam, src), c in sorted(groups.items())]
        print(_table(rows, ("family", "source", "cases", "passed", "failed"), 3))
        for r in results:
            if not r.ok:
                print(f"FAILED {r.file} :: {r.id}: {r.detail}")
        print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def _vectors_list(args: argparse.Namespace) -> int:
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    try:
        for path in vectors.stored_files():
            for case in vectors.load_file(path):
                groups[case.family][source_document(case.source)] += 1
    except VectorFileError as exc:
        print(f"secmob: invalid vector file: {exc}", file=sys.stderr)
        return 2
    rows = [(fam, src, str(n)) for fam, c in sorted(groups.items()) for src, n in sorted(c.items())]
    print(_table(rows, ("family", "source", "cases"), 1))
    print(f"{sum(sum(c.values()) for c in groups.values())} cases in {len(groups)} families "
          f"under {vectors.stored_root()}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    try:
        recorder = explain.topics()[args.topic].run(args)
    except SecmobError as exc:
        print(f"secmob: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(explain.render(recorder, args.format))
    return 0


def _scenario(args: argparse.Namespace) -> int:
    from secmob.mip6.scenario import write_scenario

    sys.stdout.write(write_scenario(Path(args.out), nemo=args.nemo,
                                    keys=Path(args.keys) if args.keys else None))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secmob", description="Reference cryptography for IPv6 security and mobility."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    vec = sub.add_parser("vectors", help="verify or list test vectors")
    vsub = vec.add_subparsers(dest="action", required=True)
    verify = vsub.add_parser("verify", help="run stored vectors or the given files")
    verify.add_argument("paths", nargs="*",
                        help="vector files or directories (default: the stored set)")
    verify.add_argument("--json", action="store_true", help="print results as JSON")
    verify.set_defaults(func=_vectors_verify)
    lst = vsub.add_parser("list", help="list stored families and sources")
    lst.set_defaults(func=_vectors_list)

    exp = sub.add_parser("explain", help="show a computation step by step with real values")
    tsub = exp.add_subparsers(dest="topic", required=True)
    for t in explain.topics().values():
        tp = tsub.add_parser(t.name, help=t.help, description=t.help)
        tp.add_argument("--format", choices=explain.render_formats(), default="text")
        t.configure(tp)
        tp.set_defaults(func=_explain)

    scn = sub.add_parser("scenario", help="play a network scenario and capture it to a pcap")
    scn.add_argument("name", choices=("mip6",))
    scn.add_argument("out", help="pcap file to write")
    scn.add_argument("--nemo", action="store_true",
                     help="a mobile router with a network behind it (RFC 3963)")
    scn.add_argument("--keys", help="also write Wireshark's esp_sa file with the ESP keys")
    scn.set_defaults(func=_scenario)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
