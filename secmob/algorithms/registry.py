"""Algorithm registries keyed by IANA transform number.

Each kind of algorithm (ESP encryption, integrity, PRF, Diffie-Hellman group)
has one :class:`Registry`. An entry is found by

* its IKEv2 transform id (the primary key, RFC 7296 §3.3.2 and the IANA
  "IKEv2 Transform Attribute" registries),
* an IKEv1 number in one of the IKEv1 tables (``by_ikev1("esp", 12)``; the
  table names are listed in :data:`IKEV1_TABLES`), or
* a name: the canonical name, the RFC name, or a strongSwan-style proposal
  keyword such as ``aes128gcm16``, ``sha256`` or ``modp1024``.

Keywords may also fix a key size (``aes256`` is AES-CBC with a 32-octet key),
so name look-ups return a :class:`Choice`. Unknown numbers or names raise
:class:`~secmob.errors.UnsupportedAlgorithm`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from secmob.errors import UnsupportedAlgorithm, UsageError

__all__ = ["IKEV1_TABLES", "Choice", "Registry", "Transform"]

#: IKEv1 numbering tables an entry may appear in.
#:
#: * ``esp`` -- IPsec DOI ESP transform identifiers (RFC 2407 §4.4.4, IANA)
#: * ``ah`` -- IPsec DOI AH transform identifiers (RFC 2407 §4.4.3)
#: * ``auth`` -- IPsec DOI "Authentication Algorithm" SA attribute (RFC 2407 §4.5)
#: * ``oakley_encr`` -- Oakley phase 1 encryption algorithm attribute (RFC 2409 App. A)
#: * ``oakley_hash`` -- Oakley phase 1 hash algorithm attribute (RFC 2409 App. A)
#: * ``oakley_group`` -- Oakley group description (RFC 2409 App. A)
IKEV1_TABLES = ("esp", "ah", "auth", "oakley_encr", "oakley_hash", "oakley_group")


class Transform(Protocol):
    """What every registered algorithm exposes."""

    @property
    def name(self) -> str: ...
    @property
    def ikev2_id(self) -> int: ...
    @property
    def ikev1_ids(self) -> dict[str, int]: ...
    @property
    def legacy(self) -> bool: ...
    @property
    def rfc(self) -> str: ...


T = TypeVar("T", bound=Transform)


@dataclass(frozen=True)
class Choice(Generic[T]):
    """An algorithm together with the key size a keyword selected (octets), if any."""

    algorithm: T
    key_size: int | None = None


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-")


class Registry(Generic[T]):
    """One registry per algorithm kind (see the module docstring)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._by_id: dict[int, T] = {}
        self._by_ikev1: dict[tuple[str, int], T] = {}
        self._by_name: dict[str, Choice[T]] = {}

    def register(self, entry: T, *aliases: str | tuple[str, int]) -> T:
        """Add ``entry``; ``aliases`` are names, or ``(keyword, key_size)`` pairs."""
        if entry.ikev2_id in self._by_id:
            raise UsageError(f"{self.kind}: IKEv2 id {entry.ikev2_id} registered twice")
        self._by_id[entry.ikev2_id] = entry
        for table, number in entry.ikev1_ids.items():
            if table not in IKEV1_TABLES:
                raise UsageError(f"{self.kind}: unknown IKEv1 table {table!r}")
            self._by_ikev1[(table, number)] = entry
        self._alias(entry.name, Choice(entry))
        for alias in aliases:
            if isinstance(alias, tuple):
                self._alias(alias[0], Choice(entry, alias[1]))
            else:
                self._alias(alias, Choice(entry))
        return entry

    def _alias(self, name: str, choice: Choice[T]) -> None:
        key = _norm(name)
        if key in self._by_name and self._by_name[key] != choice:
            raise UsageError(f"{self.kind}: name {name!r} registered twice")
        self._by_name[key] = choice

    # -- look-ups -------------------------------------------------------------

    def get(self, key: int | str) -> T:
        """The entry with IKEv2 transform id ``key``, or named ``key``."""
        if isinstance(key, str):
            return self.choose(key).algorithm
        if isinstance(key, bool):  # True == 1 would silently select id 1
            raise UnsupportedAlgorithm(f"{key!r} is not a {self.kind} transform id")
        try:
            return self._by_id[key]
        except KeyError:
            raise UnsupportedAlgorithm(
                f"no {self.kind} transform with IKEv2 id {key}; "
                f"known ids: {sorted(self._by_id)}"
            ) from None

    def choose(self, name: str) -> Choice[T]:
        """Resolve a name or proposal keyword to an entry and optional key size."""
        try:
            return self._by_name[_norm(name)]
        except KeyError:
            raise UnsupportedAlgorithm(
                f"no {self.kind} algorithm named {name!r}; known names: "
                f"{', '.join(sorted(self._by_name))}"
            ) from None

    def by_ikev1(self, table: str, number: int) -> T:
        """The entry numbered ``number`` in the IKEv1 table ``table``."""
        try:
            return self._by_ikev1[(table, number)]
        except KeyError:
            raise UnsupportedAlgorithm(
                f"no {self.kind} algorithm with IKEv1 {table} id {number}"
            ) from None

    def __contains__(self, key: object) -> bool:
        if isinstance(key, int):
            return key in self._by_id
        if isinstance(key, str):
            return _norm(key) in self._by_name
        return False

    def __iter__(self) -> Iterator[T]:
        return iter(sorted(self._by_id.values(), key=lambda e: e.ikev2_id))

    def __len__(self) -> int:
        return len(self._by_id)

    def names(self) -> dict[str, Choice[T]]:
        """Every accepted name (normalised) and what it selects."""
        return dict(self._by_name)
