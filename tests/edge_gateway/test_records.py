"""Part records and their outbox messages, on SQLite and on the real PostgreSQL."""

import json

import numpy as np
import pytest
import sqlalchemy as sa

from edge_gateway.db import open_database
from edge_gateway.records import PartRecord, PartRecordStore
from recipes.errors import InvalidInputError


def test_a_record_round_trips_with_its_film_and_outbox_message(engine):
    store = PartRecordStore(engine)
    film = np.arange(12, dtype=float).reshape(3, 4)
    rid = store.add(
        PartRecord(
            "J12-007",
            "done",
            cell_id="1",
            pipeline="spray-default@1",
            recipe="door-benchmark@1",
            passed=True,
            report={"within_tol_pct": 86.7, "failures": []},
            pose={"x_mm": 1.5, "y_mm": -2.0, "theta_deg": 0.1},
            tags=("night",),
            film_um=film,
        )
    )
    got = store.get(rid)
    assert got["part_id"] == "J12-007" and got["passed"] is True
    assert got["report"] == {"within_tol_pct": 86.7, "failures": []}
    assert got["tags"] == ["night"]
    np.testing.assert_array_equal(got["film_um"], film.astype(np.float32))
    [message] = store.pending_messages()
    assert message["key"] == f"part-record/{rid}" and message["topic"] == "records/part"
    payload = json.loads(message["payload"])
    assert payload["id"] == rid and payload["has_film"] is True and payload["has_image"] is False
    assert payload["pose"] == {"x_mm": 1.5, "y_mm": -2.0, "theta_deg": 0.1}


def test_records_of_a_part_in_order_and_counted(engine):
    store = PartRecordStore(engine)
    ids = [store.add(PartRecord("p1", s)) for s in ("held", "done")]
    store.add(PartRecord("p2", "rejected"))
    assert store.for_part("p1") == sorted(ids, key=ids.index)
    assert store.count() == 3
    assert [m["seq"] for m in store.pending_messages()] == sorted(
        m["seq"] for m in store.pending_messages()
    )


def test_bad_records_are_refused_and_change_nothing(engine):
    store = PartRecordStore(engine)
    with pytest.raises(InvalidInputError, match="record.status"):
        store.add(PartRecord("p1", "painted"))
    with pytest.raises(InvalidInputError, match="record.part_id"):
        store.add(PartRecord("", "done"))
    with pytest.raises(InvalidInputError, match="no part record"):
        store.get("nope")
    with pytest.raises(sa.exc.IntegrityError):  # a record names a job the queue holds
        store.add(PartRecord("p1", "done", job_id="no-such-job"))
    assert store.count() == 0 and store.pending_messages() == []


def test_migrating_twice_is_a_no_op(tmp_path):
    path = tmp_path / "edge.db"
    PartRecordStore(open_database(sqlite_path=path)).add(PartRecord("p1", "done"))
    again = open_database(sqlite_path=path)
    assert PartRecordStore(again).count() == 1
    with again.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0003"
