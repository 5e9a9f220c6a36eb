"""The server's caches, each bounded by the bytes it holds (the budgets are in :mod:`gru_viz.serve.limits`).

Why bytes: a class shares one process per replica, and fresh seeds defeat every cache, so caches bounded by
their number of entries grew to gigabytes under one student's heavy links (a 5,000-step, H = 64 run keeps tens
of MB of gates; its Gradient flow maps more). Each cache below is an LRU bounded by the bytes it holds (numpy
arrays, bytes and strings counted by :func:`nbytes`); an entry larger than half its budget is built for the
request and not kept. Together they hold at most ``sum(BUDGETS)``; the process itself (Python, Streamlit,
NumPy, Plotly, pandas; torch runs only in the job workers, see :mod:`gru_viz.serve.jobs`) is about 250 MiB.

Freed memory goes back to the system: glibc keeps large freed blocks in its heaps unless told (``mallopt``
below fixes the mmap threshold, so big arrays are mapped and unmapped; ``malloc_trim`` after evictions).
The server's other once-per-process setting, one OpenBLAS thread (:func:`single_blas_thread`), is here too:
``ui`` and the Train page both reach it here without importing each other (``ui`` → ``train`` was a cycle).

``st.cache_resource.clear()`` (the app menu's "Clear caches", and the tests) clears these caches too: every
entry remembers the generation it was made in (:func:`_generation`, itself a Streamlit resource).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
import functools
import glob
import inspect
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import numpy as np
import streamlit as st

from ..serve.limits import BUDGETS, CACHE_TTL, MAX_ENTRY_SHARE, PROTECTIONS, UNPROTECTED_ENTRIES

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------------- sizes


def nbytes(obj: object, _seen: set[int] | None = None, _depth: int = 0) -> int:
    """About how many bytes ``obj`` holds: its arrays, bytes and strings, through containers, dataclasses and
    plain objects (each object counted once; Plotly figures by their data and layout)."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen or _depth > 40:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        base = obj
        while isinstance(base.base, np.ndarray):  # a view: its memory belongs to the array it views
            base = base.base
        if base is not obj:
            return nbytes(base, seen, _depth + 1)
        return int(obj.nbytes) + 112
    if isinstance(obj, bytes | bytearray | memoryview):
        return len(obj) + 33
    if isinstance(obj, str):
        return len(obj) + 49
    if obj is None or isinstance(obj, bool | int | float | complex | np.generic):
        return 32
    if isinstance(obj, dict):
        return 64 + sum(nbytes(k, seen, _depth + 1) + nbytes(v, seen, _depth + 1) for k, v in obj.items())
    if isinstance(obj, list | tuple | set | frozenset):
        return 56 + 8 * len(obj) + sum(nbytes(v, seen, _depth + 1) for v in obj)
    plotly_data = getattr(obj, "_data", None), getattr(obj, "_layout", None)
    if plotly_data[0] is not None and type(obj).__name__ in ("Figure", "FigureWidget"):
        return 400 + sum(nbytes(part, seen, _depth + 1) for part in plotly_data)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return 64 + sum(nbytes(getattr(obj, f.name, None), seen, _depth + 1) for f in dataclasses.fields(obj))
    state = getattr(obj, "__dict__", None)
    if isinstance(state, dict):
        return 64 + nbytes(state, seen, _depth + 1)
    slots = getattr(type(obj), "__slots__", ())
    return 64 + sum(nbytes(getattr(obj, s, None), seen, _depth + 1) for s in slots if isinstance(s, str))


# ---------------------------------------------------------------------------------------------------- cache


@st.cache_resource(show_spinner=False)
def _generation() -> object:
    """A token that st.cache_resource.clear() replaces: entries made before it are gone."""
    return object()


_last_generation: object = None


def _current_generation() -> object:
    """The current generation; from a thread that is not running a page (the job pool's), the last one seen."""
    global _last_generation
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is not None or not runtime.exists():
        with contextlib.suppress(Exception):
            _last_generation = _generation()
    return _last_generation


@dataclasses.dataclass
class _Entry:
    value: Any
    size: int
    born: float
    generation: object


class ByteCache:
    """A thread-safe LRU cache bounded by the bytes its values hold, with a time to live; concurrent requests
    for a missing key wait for one build (forty students opening one link build it once)."""

    def __init__(self, name: str, budget: int, ttl: float = CACHE_TTL, max_entries: int | None = None) -> None:
        self.name, self.budget, self.ttl, self.max_entries = name, budget, ttl, max_entries
        self._entries: OrderedDict[object, _Entry] = OrderedDict()
        self._building: dict[object, Future] = {}
        self._lock = threading.Lock()
        self.used = 0
        self.hits = self.misses = self.evictions = self.refused = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _fresh(self, entry: _Entry, generation: object) -> bool:
        return entry.generation is generation and time.monotonic() - entry.born < self.ttl

    def get(self, key: object, default: Any = None) -> Any:
        """The value for ``key``, or ``default``."""
        generation = _current_generation()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._fresh(entry, generation):
                self._entries.move_to_end(key)
                self.hits += 1
                return entry.value
            if entry is not None:
                self._drop(key)
        return default

    def __contains__(self, key: object) -> bool:
        sentinel = object()
        return self.get(key, sentinel) is not sentinel

    def put(self, key: object, value: Any, size: int | None = None) -> None:
        """Keep ``value`` (unless it alone takes more than MAX_ENTRY_SHARE of the budget), evicting the least
        recently used entries until the cache fits its budget."""
        size = nbytes(value) if size is None else size
        generation = _current_generation()
        freed = 0
        with self._lock:
            if key in self._entries:
                freed += self._drop(key)
            if size > self.budget * MAX_ENTRY_SHARE:
                self.refused += 1
            else:
                self._entries[key] = _Entry(value, size, time.monotonic(), generation)
                self.used += size
            while (self.used > self.budget or len(self._entries) > (self.max_entries or len(self._entries))) \
                    and self._entries:
                freed += self._drop(next(iter(self._entries)))
                self.evictions += 1
        if freed:
            release_memory()

    def _drop(self, key: object) -> int:
        entry = self._entries.pop(key)
        self.used -= entry.size
        return entry.size

    def get_or_build(self, key: object, build: Callable[[], T]) -> T:
        """The cached value for ``key``, else ``build()`` once however many sessions ask at the same time."""
        sentinel = object()
        value = self.get(key, sentinel)
        if value is not sentinel:
            return value
        with self._lock:
            future = self._building.get(key)
            owner = future is None
            if owner:
                future = self._building[key] = Future()
                self.misses += 1
        if not owner:
            try:
                return future.result()
            except _Abandoned:  # the first caller was stopped (a rerun): build it here instead
                return self.get_or_build(key, build)
        try:
            value = build()
        except Exception as exc:
            future.set_exception(exc)
            raise
        except BaseException:  # Streamlit stopping or rerunning the first caller's script
            future.set_exception(_Abandoned())
            raise
        finally:
            with self._lock:
                self._building.pop(key, None)
        self.put(key, value)
        future.set_result(value)
        return value

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
            self.used = 0
        release_memory()

    def stats(self) -> dict[str, object]:
        """Entries, bytes used and budget, hits, misses, evictions, refusals."""
        return {"name": self.name, "entries": len(self._entries), "used": self.used, "budget": self.budget,
                "hits": self.hits, "misses": self.misses, "evictions": self.evictions, "refused": self.refused}


class _Abandoned(Exception):
    pass


if PROTECTIONS:
    CACHES: dict[str, ByteCache] = {name: ByteCache(name, size) for name, size in BUDGETS.items()}
else:  # as before the byte budgets: bounded by their number of entries only
    CACHES = {name: ByteCache(name, 2**50, max_entries=UNPROTECTED_ENTRIES[name]) for name in BUDGETS}


def cached(name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator: cache the function's results in ``CACHES[name]``, keyed by its arguments (those whose names
    start with "_" are left out of the key, as st.cache_resource does); ``f.clear()`` drops them."""
    cache = CACHES[name]

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        sig = inspect.signature(fn)
        keyed = [p for p in sig.parameters if not p.startswith("_")]
        tag = (fn.__module__, fn.__qualname__)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            key = (*tag, *(bound.arguments[p] for p in keyed))
            return cache.get_or_build(key, lambda: fn(*args, **kwargs))

        def clear() -> None:
            with cache._lock:
                for key in [k for k in cache._entries if isinstance(k, tuple) and k[:2] == tag]:
                    cache._drop(key)

        wrapper.clear = clear  # type: ignore[attr-defined]
        wrapper.cache = cache  # type: ignore[attr-defined]
        return wrapper

    return decorate


def clear_all() -> None:
    """Empty every cache of this module."""
    for cache in CACHES.values():
        cache.clear()


def usage() -> list[dict[str, object]]:
    """Every cache's stats."""
    return [cache.stats() for cache in CACHES.values()]


# --------------------------------------------------------------------------------------------------- memory

_LIBC = None
_last_trim = 0.0
_trim_lock = threading.Lock()


def _libc():
    global _LIBC
    if _LIBC is None and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, TypeError):
            _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return _LIBC


@functools.cache
def tune_malloc() -> bool:
    """Once per process: big blocks are always mapped (a fixed mmap threshold of 256 KiB: glibc otherwise raises
    it after each free, and gigabytes of freed arrays stay in its heaps), and at most 2 heaps per core."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt") or not PROTECTIONS:
        return False
    m_mmap_threshold, m_arena_max = -3, -8
    ok = libc.mallopt(m_mmap_threshold, 256 * 1024) == 1
    ok &= libc.mallopt(m_arena_max, 2 * (os.cpu_count() or 1)) == 1
    return bool(ok)


@functools.cache
def single_blas_thread() -> bool:
    """Make NumPy's OpenBLAS use one thread, process-wide; True if it could (done once per process).

    Why: training multiplies tiny matrices, where a second BLAS thread buys nothing, and on a busy shared
    server OpenBLAS's spinning threads made every training step 10-20× slower (4 ms → 50-100 ms per GRU step
    on the adding problem; see benchmarks/bench_train.py). The server's environment variable
    OPENBLAS_NUM_THREADS does the same when it is set before NumPy loads; this is for servers started without it.
    """
    folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in sorted(glob.glob(os.path.join(folder, "lib*openblas*.so*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads"):
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(1)
                return True
    return False


def release_memory(min_interval: float = 1.0) -> None:
    """Hand freed heap memory back to the system (``malloc_trim``), at most once per ``min_interval`` s."""
    global _last_trim
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_trim") or not PROTECTIONS:
        return
    now = time.monotonic()
    if now - _last_trim < min_interval or not _trim_lock.acquire(blocking=False):
        return
    try:
        _last_trim = now
        libc.malloc_trim(0)
    finally:
        _trim_lock.release()


def rss() -> int:
    """This process's resident memory in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
