"""DDS domain ids held by a lock: concurrent leases differ, released ids are free again."""

from __future__ import annotations

import gc
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from robot_nodes.bus.domain_ids import DOMAIN_IDS, lease_domain_id, lock_path

REPO = Path(__file__).resolve().parents[2]


def test_ids_are_within_the_ros2_recommended_range() -> None:
    assert (min(DOMAIN_IDS), max(DOMAIN_IDS), len(set(DOMAIN_IDS))) == (1, 100, 100)
    assert 7400 + 250 * max(DOMAIN_IDS) + 11 < 32768  # below Linux's ephemeral ports


def test_two_leases_at_once_get_different_ids(tmp_path: Path) -> None:
    with lease_domain_id(ids=[7, 8], lock_dir=tmp_path) as a:
        with lease_domain_id(ids=[7, 8], lock_dir=tmp_path) as b:
            assert {a.domain_id, b.domain_id} == {7, 8}
            assert a.path == tmp_path / f"coatshare-dds-domain-{a.domain_id}.lock"
            with pytest.raises(RuntimeError, match="all 2 DDS domain ids are taken"):
                lease_domain_id(ids=[7, 8], lock_dir=tmp_path)
        assert not b.held and a.held


def test_a_released_id_can_be_taken_again(tmp_path: Path) -> None:
    first = lease_domain_id(ids=[5], lock_dir=tmp_path)
    assert first.domain_id == 5 and first.held
    first.release()
    first.release()  # idempotent
    assert not first.held
    with lease_domain_id(ids=[5], lock_dir=tmp_path) as again:
        assert again.domain_id == 5
    # a lease that is dropped without release frees its id too
    lease_domain_id(ids=[5], lock_dir=tmp_path)
    gc.collect()
    assert lease_domain_id(ids=[5], lock_dir=tmp_path).domain_id == 5


def test_ids_are_tried_in_random_order(tmp_path: Path) -> None:
    picks = set()
    for seed in range(20):
        with lease_domain_id(lock_dir=tmp_path, rng=random.Random(seed)) as lease:
            picks.add(lease.domain_id)
    assert len(picks) >= 15 and picks <= set(DOMAIN_IDS)


def test_another_process_holding_an_id_excludes_it_until_it_exits(tmp_path: Path) -> None:
    """The lock is the kernel's: another process's lease is respected, and its death frees
    the id without any clean-up."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from robot_nodes.bus.domain_ids import lease_domain_id
        lease = lease_domain_id(ids=[3], lock_dir=Path({str(tmp_path)!r}))
        print(lease.domain_id, flush=True)
        sys.stdin.readline()
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(REPO),
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "3"
        with pytest.raises(RuntimeError):
            lease_domain_id(ids=[3], lock_dir=tmp_path)
        with lease_domain_id(ids=[3, 4], lock_dir=tmp_path) as other:
            assert other.domain_id == 4
    finally:
        child.kill()
        child.wait()
    with lease_domain_id(ids=[3], lock_dir=tmp_path) as freed:
        assert freed.domain_id == 3


def test_ids_outside_the_port_range_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\[233\] are outside 0..232"):
        lease_domain_id(ids=[1, 233], lock_dir=tmp_path)
    assert not lock_path(1, tmp_path).exists()


def test_the_fixture_holds_its_id_for_the_test(domain_id: int) -> None:
    """The tests' ``domain_id`` fixture: its lock file is held while the test runs."""
    assert domain_id in DOMAIN_IDS
    with pytest.raises(RuntimeError):
        lease_domain_id(ids=[domain_id])
