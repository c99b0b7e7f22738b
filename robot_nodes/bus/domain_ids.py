"""DDS domain ids held by a lock, so that test runs and benchmarks on one machine never share
a domain.

Every process that wants a private domain calls :func:`lease_domain_id`: it tries the ids of
``DOMAIN_IDS`` in a random order and keeps the first whose lock file
(``/tmp/coatshare-dds-domain-<id>.lock``) it can lock exclusively (``fcntl.flock``, without
waiting). The lock lasts until :meth:`DomainIdLease.release`, the end of a ``with`` block,
the lease being garbage-collected, or the process ending (the kernel drops a dead process's
locks), so a crashed run never leaves an id taken. Two leases in one process also exclude
each other (``flock`` locks belong to the open file, not the process). Child processes do not
inherit the lock: the file is opened close-on-exec, and the parent holds the id for them.

Which ids: a domain id sets the UDP ports of DDS (RTPS port mapping, as ROS 2 uses it:
``7400 + 250 * id`` plus small offsets per participant), so the valid ids are 0..232. ROS 2
recommends 0..101 on Linux: from 102 up the ports fall into the kernel's ephemeral range
(32768..60999), where another program's outgoing connection may hold a port first. Leases use
1..100 (as ROS 2's own ``domain_coordinator`` for its tests): not 0, every ROS 2 installation's
default domain, which a test must not join, and not 101..200, where ``coatshare sim run``
picks a random domain when given none.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import random
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

DOMAIN_IDS: tuple[int, ...] = tuple(range(1, 101))
"""Ids handed out: 1..100 (within ROS 2's recommended 0..101 on Linux)."""
LOCK_DIR = Path("/tmp")
"""Where the lock files live: one folder for every user and run on the machine."""
_PREFIX = "coatshare-dds-domain-"


def lock_path(domain_id: int, lock_dir: Path = LOCK_DIR) -> Path:
    """The lock file of ``domain_id``: ``<lock_dir>/coatshare-dds-domain-<id>.lock``."""
    return Path(lock_dir) / f"{_PREFIX}{int(domain_id)}.lock"


class DomainIdLease:
    """A domain id and the lock that keeps it ours.

    Attributes
    ----------
    domain_id : int
    path : Path
        The lock file.
    """

    def __init__(self, domain_id: int, fd: int, path: Path) -> None:
        self.domain_id = domain_id
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Unlock the id (closing the file releases the lock); idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> DomainIdLease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter exit the kernel releases it
            self.release()

    def __repr__(self) -> str:
        state = "held" if self.held else "released"
        return f"DomainIdLease({self.domain_id}, {state})"


def _try_lock(path: Path) -> int | None:
    """An open, exclusively locked descriptor of ``path``, or None when another holds it (or
    the file belongs to another user and cannot be opened)."""
    try:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except PermissionError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    return fd


def lease_domain_id(
    *,
    ids: Iterable[int] = DOMAIN_IDS,
    lock_dir: Path = LOCK_DIR,
    rng: random.Random | None = None,
) -> DomainIdLease:
    """Lock a free DDS domain id for this process.

    Parameters
    ----------
    ids : iterable of int
        Candidates, each in 0..232; tried in a random order.
    lock_dir : Path
        Folder of the lock files.
    rng : random.Random, optional
        The order's source (a ``SystemRandom`` by default, so concurrent runs start at
        different ids).

    Returns
    -------
    DomainIdLease
        Holds the id until released; use it as a context manager.

    Raises
    ------
    ValueError
        For an id outside 0..232.
    RuntimeError
        When every candidate is held by someone else.
    """
    order = list(ids)
    outside = [i for i in order if not 0 <= i <= 232]
    if outside:
        raise ValueError(f"domain ids {outside} are outside 0..232 (the RTPS port range)")
    (rng or random.SystemRandom()).shuffle(order)
    for domain_id in order:
        path = lock_path(domain_id, lock_dir)
        fd = _try_lock(path)
        if fd is not None:
            return DomainIdLease(domain_id, fd, path)
    raise RuntimeError(
        f"all {len(order)} DDS domain ids are taken (locks {lock_path(0, lock_dir).parent}/"
        f"{_PREFIX}<id>.lock held by other processes)"
    )


__all__ = ["DOMAIN_IDS", "LOCK_DIR", "DomainIdLease", "lease_domain_id", "lock_path"]
