"""Fast publishing of the simulator's frequent messages (``joint_states``, ``/clock``,
camera frames).

The ``dds`` backend serialises a message field by field in Python (about 50 us for a
JointState), which is a third of a simulator step. A per-step message has a fixed layout:
the same joint names, arrays of the same length. So the bytes of one message serialised by
the backend serve as a template, and each step only the stamp and the two float64 arrays
are written into it (``struct.pack_into``) before the writer sends it: about 4 us.

The template is checked at construction: a message with other values, patched this way,
must equal the backend's own serialisation byte for byte; otherwise, and on the ``rclpy``
backend, messages are built and serialised the normal way.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_NS = 1_000_000_000


class _Patched:
    """One reusable message whose ``serialize`` returns the patched template."""

    def __init__(self, msg: Any, template: bytes) -> None:
        self.msg = msg
        self.buf = bytearray(template)
        msg.serialize = self._serialize  # the dds writer calls sample.serialize(...)

    def _serialize(self, use_version_2: bool | None = None, **_: Any) -> bytes:
        return bytes(self.buf)


class JointStatePublisher:
    """``sensor_msgs/JointState`` of fixed joints (stamp, positions, velocities).

    Parameters
    ----------
    bus : Bus
    publisher : Publisher
        On ``joint_states``.
    names : sequence of str
        Joint names, in the order of the arrays given to :meth:`publish`.
    """

    def __init__(self, bus: Any, publisher: Any, names: Sequence[str]) -> None:
        self.publisher = publisher
        self.names = list(names)
        self._JointState = bus.message_type("sensor_msgs/msg/JointState")
        self._Header = bus.message_type("std_msgs/msg/Header")
        self._Time = bus.message_type("builtin_interfaces/msg/Time")
        n = len(self.names)
        self._fmt = f"<{n}d"
        self._fast: _Patched | None = None
        if bus.backend != "dds":
            return
        a = 1.0 + np.arange(n) / 7.0
        b = -3.0 - np.arange(n) / 11.0
        template = self._msg(1234, 5678, a, b).serialize(use_version_2=False)
        self._pos = template.find(struct.pack(self._fmt, *a))
        self._vel = template.find(struct.pack(self._fmt, *b))
        if self._pos < 0 or self._vel < 0 or template[4:12] != struct.pack("<iI", 1234, 5678):
            log.warning("joint_states: unexpected CDR layout, publishing the slow way")
            return
        fast = _Patched(self._msg(0, 0, a, b), template)
        q, qd = np.linspace(-2.0, 2.0, n), np.linspace(3.0, -1.0, n)
        self._patch(fast, 7 * _NS + 9, q, qd)
        if bytes(fast.buf) != self._msg(7, 9, q, qd).serialize(use_version_2=False):
            log.warning("joint_states: patched CDR differs, publishing the slow way")
            return
        self._fast = fast

    def _msg(self, sec: int, nanosec: int, q: np.ndarray, qd: np.ndarray) -> Any:
        return self._JointState(
            header=self._Header(stamp=self._Time(sec=sec, nanosec=nanosec), frame_id=""),
            name=self.names,
            position=[float(v) for v in q],
            velocity=[float(v) for v in qd],
            effort=[],
        )

    def _patch(self, fast: _Patched, stamp_ns: int, q: np.ndarray, qd: np.ndarray) -> None:
        struct.pack_into("<iI", fast.buf, 4, *divmod(int(stamp_ns), _NS))
        struct.pack_into(self._fmt, fast.buf, self._pos, *q.tolist())
        struct.pack_into(self._fmt, fast.buf, self._vel, *qd.tolist())

    @property
    def fast(self) -> bool:
        return self._fast is not None

    def publish(self, stamp_ns: int, q: np.ndarray, qd: np.ndarray) -> None:
        """Publish joint positions ``q`` (n,) and velocities ``qd`` (n,) at ``stamp_ns``."""
        if self._fast is not None:
            self._patch(self._fast, stamp_ns, q, qd)
            self.publisher.publish(self._fast.msg)
        else:
            sec, nanosec = divmod(int(stamp_ns), _NS)
            self.publisher.publish(self._msg(sec, nanosec, q, qd))


class ClockPublisher:
    """``rosgraph_msgs/Clock`` on ``/clock``."""

    def __init__(self, bus: Any, publisher: Any) -> None:
        self.publisher = publisher
        self._Clock = bus.message_type("rosgraph_msgs/msg/Clock")
        self._Time = bus.message_type("builtin_interfaces/msg/Time")
        self._fast: _Patched | None = None
        if bus.backend != "dds":
            return
        template = self._msg(1234, 5678).serialize(use_version_2=False)
        if template[4:12] != struct.pack("<iI", 1234, 5678):
            return
        fast = _Patched(self._msg(0, 0), template)
        struct.pack_into("<iI", fast.buf, 4, 7, 9)
        if bytes(fast.buf) == self._msg(7, 9).serialize(use_version_2=False):
            self._fast = fast

    def _msg(self, sec: int, nanosec: int) -> Any:
        return self._Clock(clock=self._Time(sec=sec, nanosec=nanosec))

    def publish(self, now_ns: int) -> None:
        sec, nanosec = divmod(int(now_ns), _NS)
        if self._fast is not None:
            struct.pack_into("<iI", self._fast.buf, 4, sec, nanosec)
            self.publisher.publish(self._fast.msg)
        else:
            self.publisher.publish(self._msg(sec, nanosec))


class ImagePublisher:
    """``sensor_msgs/Image`` mono8 frames of one size and frame id.

    The backend packs ``uint8[]`` element by element (about 45 ms a 1280x960 frame); here
    the fixed part of the message (header, size, encoding, step, array length) is a
    template with the stamp patched in, and the pixels follow as one block.
    """

    def __init__(self, bus: Any, publisher: Any, width: int, height: int, frame_id: str) -> None:
        self.publisher = publisher
        self.width, self.height, self.frame_id = int(width), int(height), frame_id
        self._Image = bus.message_type("sensor_msgs/msg/Image")
        self._Header = bus.message_type("std_msgs/msg/Header")
        self._Time = bus.message_type("builtin_interfaces/msg/Time")
        self._prefix: bytearray | None = None
        if bus.backend != "dds":
            return
        n = self.width * self.height
        rng = np.random.default_rng(0)
        a = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        template = self._msg(1234, 5678, a).serialize(use_version_2=False)
        cut = template.rfind(a)
        if cut < 0 or template[4:12] != struct.pack("<iI", 1234, 5678):
            log.warning("camera: unexpected CDR layout, publishing the slow way")
            return
        prefix = bytearray(template[:cut])
        b = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        struct.pack_into("<iI", prefix, 4, 7, 9)
        if bytes(prefix) + b + template[cut + n :] != self._msg(7, 9, b).serialize(
            use_version_2=False
        ):
            log.warning("camera: patched CDR differs, publishing the slow way")
            return
        self._prefix = prefix
        self._suffix = template[cut + n :]

    def _msg(self, sec: int, nanosec: int, data: bytes) -> Any:
        return self._Image(
            header=self._Header(stamp=self._Time(sec=sec, nanosec=nanosec), frame_id=self.frame_id),
            height=self.height,
            width=self.width,
            encoding="mono8",
            is_bigendian=0,
            step=self.width,
            data=data,
        )

    @property
    def fast(self) -> bool:
        return self._prefix is not None

    def publish(self, stamp_ns: int, image: np.ndarray) -> None:
        """Publish ``image`` (height, width) uint8 stamped ``stamp_ns``."""
        if image.shape != (self.height, self.width) or image.dtype != np.uint8:
            raise ValueError(f"expected a ({self.height}, {self.width}) uint8 image")
        sec, nanosec = divmod(int(stamp_ns), _NS)
        data = np.ascontiguousarray(image).tobytes()
        msg = self._msg(sec, nanosec, b"")
        if self._prefix is not None:
            struct.pack_into("<iI", self._prefix, 4, sec, nanosec)
            payload = bytes(self._prefix) + data + self._suffix
            msg.serialize = lambda use_version_2=None, **_: payload
        else:
            msg.data = data
        self.publisher.publish(msg)
