"""One small registry type for every family of named things: models, datasets, attacks, plasticity and
DST rules, surrogates, encodings.

A :class:`Registry` is a read-only mapping ``name -> item`` with metadata per entry::

    MODELS = Registry("model")

    @MODELS.register(family="g2g", defaults={"loss": "count"})
    def mixer(...): ...

    MODELS["mixer"]                  # the item; an unknown name raises UnknownNameError listing the names
    MODELS.names(family="conv")      # sorted names whose metadata matches
    MODELS.meta("mixer")["family"]   # "g2g"

Pure Python, no torch: any layer may use it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from .errors import UnknownNameError

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Named items of one kind, each with a metadata dict.

    Args:
        kind: what an item is, for messages ("model", "plasticity rule").
        items: initial entries (no metadata).
        error: the :class:`UnknownNameError` subclass raised for an unknown name.
    """

    def __init__(self, kind: str, items: Mapping[str, T] | None = None, *,
                 error: type[UnknownNameError] = UnknownNameError) -> None:
        self.kind = kind
        self.error = error
        self._items: dict[str, T] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        for name, item in (items or {}).items():
            self.add(name, item)

    def add(self, name: str, item: T, **meta: Any) -> T:
        """Register ``item`` under ``name`` with ``meta``; returns ``item``."""
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        self._meta[name] = meta
        return item

    def register(self, name: str | None = None, **meta: Any) -> Callable[[T], T]:
        """Decorator: register the function or class under ``name`` (default: its ``__name__``)."""

        def decorate(item: T) -> T:
            return self.add(name or item.__name__, item, **meta)

        return decorate

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise self.error(self.unknown(name), allowed=self.names()) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def get(self, name: str, default: Any = None) -> Any:
        return self._items.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def copy(self) -> Registry[T]:
        """An independent registry with the same entries (tests patch one in for the original)."""
        other: Registry[T] = Registry(self.kind, error=self.error)
        other._items, other._meta = dict(self._items), {k: dict(v) for k, v in self._meta.items()}
        return other

    def replace(self, name: str, item: T) -> None:
        """Swap the item registered under ``name``, keeping its metadata."""
        self[name]  # raises for an unknown name
        self._items[name] = item

    def meta(self, name: str) -> dict[str, Any]:
        """The metadata ``name`` was registered with."""
        self[name]  # raises for an unknown name
        return self._meta[name]

    def names(self, **where: Any) -> list[str]:
        """Sorted names whose metadata has every ``key=value`` of ``where``."""
        return sorted(n for n, m in self._meta.items() if all(m.get(k) == v for k, v in where.items()))

    def unknown(self, name: Any) -> str:
        """``unknown model 'x' (did you mean 'y'?); choose from a, b``."""
        close = difflib.get_close_matches(str(name), list(self._items), n=1)
        if not close:  # fashion-mnist, Fashion_MNIST -> fashionmnist
            squeezed = {n.replace("-", "").replace("_", "").lower(): n for n in self._items}
            close = [squeezed[k] for k in [str(name).replace("-", "").replace("_", "").lower()] if k in squeezed]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown {self.kind} {name!r}{hint}; choose from {', '.join(self.names())}"
