"""Mesh parts: the chair leg, deterministic surface sampling, STL/OBJ loading."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import trimesh

from recipes.errors import InvalidInputError, NotFoundError
from recipes.parts.mesh import MESH_FACES, MeshPart, chair_leg, load_mesh

LENGTH, D_TOP, D_BOTTOM, SEGMENTS = 450.0, 40.0, 25.0, 96


@pytest.fixture(scope="module")
def leg() -> MeshPart:
    return chair_leg(LENGTH, D_TOP, D_BOTTOM, SEGMENTS)


def polygon_area(radius: float, n: int = SEGMENTS) -> float:
    """Area of the regular n-gon inscribed in a circle."""
    return 0.5 * n * radius**2 * math.sin(2 * math.pi / n)


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,) angle between rows of two (N, 3) unit-vector arrays."""
    return np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", a, b), -1.0, 1.0)))


# --- chair leg ---------------------------------------------------------------------------


def test_chair_leg_geometry(leg: MeshPart) -> None:
    mesh = leg.mesh
    assert leg.name == "chair_leg"
    assert mesh.is_watertight and mesh.is_winding_consistent
    np.testing.assert_allclose(
        mesh.bounds, [[0.0, -D_TOP / 2, 0.0], [LENGTH, D_TOP / 2, D_TOP]], atol=1e-9
    )
    a_top, a_bottom = polygon_area(D_TOP / 2), polygon_area(D_BOTTOM / 2)
    frustum = LENGTH / 3 * (a_top + math.sqrt(a_top * a_bottom) + a_bottom)
    assert mesh.volume == pytest.approx(frustum, rel=1e-12)  # positive: outward normals
    np.testing.assert_allclose(leg.principal_axis, [1.0, 0.0, 0.0], atol=1e-9)


def test_chair_leg_rejects_bad_parameters() -> None:
    with pytest.raises(InvalidInputError) as info:
        chair_leg(d_bottom_mm=0.0)
    assert info.value.field == "part.d_bottom_mm"
    with pytest.raises(InvalidInputError) as info:
        chair_leg(segments=2)
    assert info.value.field == "part.segments"


# --- sampling ----------------------------------------------------------------------------


def test_leg_samples_cover_the_area(leg: MeshPart) -> None:
    s = leg.sample_surface(2.0)
    assert s.face_names == MESH_FACES == ("side", "end")
    assert len(s) >= 50_000
    assert s.points_mm.shape == s.normals.shape == (len(s), 3)
    assert s.area_mm2.shape == s.face_ids.shape == (len(s),)
    assert s.area_mm2.sum() == pytest.approx(leg.mesh.area, rel=1e-9)
    assert np.all(s.area_mm2 > 0)
    end = s.face_mask("end")
    cap_area = polygon_area(D_TOP / 2) + polygon_area(D_BOTTOM / 2)
    assert s.area_mm2[end].sum() == pytest.approx(cap_area, rel=1e-9)
    # samples lie on the surface: inside the bounds, caps exactly at x = 0 or x = length
    assert np.all(s.points_mm.min(axis=0) >= leg.mesh.bounds[0] - 1e-9)
    assert np.all(s.points_mm.max(axis=0) <= leg.mesh.bounds[1] + 1e-9)
    x_end = s.points_mm[end, 0]
    assert np.all(np.isclose(x_end, 0.0) | np.isclose(x_end, LENGTH))


def test_leg_sampling_is_deterministic(leg: MeshPart) -> None:
    fresh = chair_leg(LENGTH, D_TOP, D_BOTTOM, SEGMENTS)
    s = fresh.sample_surface(2.0)
    assert len(s) >= 50_000
    again = leg.sample_surface(2.0)
    np.testing.assert_array_equal(s.points_mm, again.points_mm)
    np.testing.assert_array_equal(s.normals, again.normals)
    np.testing.assert_array_equal(s.area_mm2, again.area_mm2)


def test_leg_side_normals_follow_the_cone(leg: MeshPart) -> None:
    s = leg.sample_surface(2.0)
    np.testing.assert_allclose(np.linalg.norm(s.normals, axis=1), 1.0, atol=1e-12)
    side = s.face_mask("side")
    n, p = s.normals[side], s.points_mm[side]
    taper = math.atan((D_TOP - D_BOTTOM) / 2 / LENGTH)
    # the cone normal leans towards the thin end (+x) by the taper angle
    np.testing.assert_allclose(n[:, 0], math.sin(taper), atol=1e-4)
    radial = np.column_stack([np.zeros(len(p)), p[:, 1], p[:, 2] - D_TOP / 2])
    radial /= np.linalg.norm(radial, axis=1)[:, None]
    in_plane = n.copy()
    in_plane[:, 0] = 0.0
    in_plane /= np.linalg.norm(in_plane, axis=1)[:, None]
    # smooth: well below the 3.75 deg between neighbouring facets
    assert angle_deg(in_plane, radial).max() < 0.5
    end = s.face_mask("end")
    np.testing.assert_allclose(np.abs(s.normals[end, 0]), 1.0, atol=1e-12)
    assert np.all(np.sign(s.normals[end, 0]) == np.where(s.points_mm[end, 0] > 1, 1, -1))


def test_sphere_normals_are_radial() -> None:
    sphere = MeshPart("ball", trimesh.creation.icosphere(subdivisions=2, radius=50.0))
    s = sphere.sample_surface(2.0)
    radial = s.points_mm / np.linalg.norm(s.points_mm, axis=1)[:, None]
    assert angle_deg(s.normals, radial).max() < 2.0
    # the facets alone are much further off: the test does see the interpolation
    facet = sphere.mesh.face_normals
    corner_dirs = sphere.mesh.vertices[sphere.mesh.faces[:, 0]] / 50.0
    assert angle_deg(facet, corner_dirs).max() > 5.0
    assert s.area_mm2.sum() == pytest.approx(sphere.mesh.area, rel=1e-9)


def test_compact_triangles_split_k_by_k() -> None:
    """Regular tetrahedron, edge 10 mm, spacing 2 mm: k = 5, 25 equal samples per face."""
    verts = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float)
    verts *= 10.0 / math.sqrt(8.0)
    tet = trimesh.Trimesh(verts, [[0, 1, 2], [0, 3, 1], [0, 2, 3], [1, 3, 2]])
    assert tet.volume > 0
    s = MeshPart("tet", tet).sample_surface(2.0)
    assert len(s) == 4 * 25
    np.testing.assert_allclose(s.area_mm2, math.sqrt(3) / 4 * 100 / 25, rtol=1e-12)
    face = np.argmax(s.points_mm @ tet.face_normals.T, axis=1)
    assert np.all(np.bincount(face) == 25)
    # edges at 109 deg are sharp: the facet normal is kept
    np.testing.assert_allclose(s.normals, tet.face_normals[face], atol=1e-12)
    # every sample is the centroid of its sub-triangle: mean over a face = face centroid
    for f in range(4):
        np.testing.assert_allclose(
            s.points_mm[face == f].mean(axis=0), tet.triangles_center[f], atol=1e-12
        )


def test_long_thin_facets_do_not_explode() -> None:
    """A 400 x 3 x 3 mm stick: 12 sliver facets must not give k^2 = 40,000 samples each."""
    stick = MeshPart("stick", trimesh.creation.box((400.0, 3.0, 3.0)))
    s = stick.sample_surface(2.0)
    assert s.area_mm2.sum() == pytest.approx(stick.mesh.area, rel=1e-9)
    assert len(s) < 10 * stick.mesh.area / 2.0**2
    # still dense along the stick: no gap longer than the spacing
    side = s.face_mask("side")
    xs = np.unique(np.round(s.points_mm[side, 0], 6))
    assert np.diff(xs).max() <= 2.0
    assert xs.min() < -199.0 and xs.max() > 199.0
    np.testing.assert_allclose(stick.principal_axis, [1.0, 0.0, 0.0], atol=1e-9)
    end = s.face_mask("end")
    assert s.area_mm2[end].sum() == pytest.approx(2 * 3.0 * 3.0, rel=1e-9)


def test_bad_spacing(leg: MeshPart) -> None:
    with pytest.raises(InvalidInputError) as info:
        leg.sample_surface(0.0)
    assert info.value.field == "spacing_mm"


# --- loading -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".stl", ".obj"])
def test_file_round_trip(tmp_path: Path, leg: MeshPart, suffix: str) -> None:
    path = tmp_path / f"leg{suffix}"
    leg.mesh.export(path)
    part = load_mesh(path)
    assert part.name == "leg"
    assert part.source == f"mesh:{path}"
    assert part.params["flipped_faces"] == 0
    assert len(part.mesh.faces) == len(leg.mesh.faces)
    assert len(part.mesh.vertices) == len(leg.mesh.vertices)
    assert part.mesh.is_watertight
    assert part.mesh.volume == pytest.approx(leg.mesh.volume, rel=1e-6)
    np.testing.assert_allclose(part.mesh.bounds, leg.mesh.bounds, atol=1e-4)
    s, ref = part.sample_surface(2.0), leg.sample_surface(2.0)
    assert len(s) == len(ref)
    assert s.area_mm2.sum() == pytest.approx(ref.area_mm2.sum(), rel=1e-6)


def test_units_are_scaled(tmp_path: Path, leg: MeshPart) -> None:
    path = tmp_path / "leg_cm.stl"
    leg.mesh.export(path)
    part = load_mesh(path, name="big", units="cm")
    assert part.name == "big"
    np.testing.assert_allclose(part.mesh.bounds, leg.mesh.bounds * 10.0, atol=1e-3)
    with pytest.raises(InvalidInputError) as info:
        load_mesh(path, units="furlong")
    assert info.value.field == "units"


def test_inward_facing_triangles_are_fixed(tmp_path: Path, leg: MeshPart) -> None:
    faces = leg.mesh.faces.copy()
    faces[:10] = faces[:10, ::-1]  # ten side facets turned inwards
    trimesh.Trimesh(leg.mesh.vertices, faces, process=False).export(tmp_path / "some.stl")
    part = load_mesh(tmp_path / "some.stl")
    assert part.params["flipped_faces"] == 10
    assert part.mesh.is_winding_consistent
    assert part.mesh.volume == pytest.approx(leg.mesh.volume, rel=1e-6)
    s = part.sample_surface(2.0)
    outward = s.points_mm - np.array([0.0, 0.0, D_TOP / 2])
    outward[:, 0] = 0.0
    side = s.face_mask("side")
    assert np.all(np.einsum("ij,ij->i", s.normals[side], outward[side]) > 0)


def test_inside_out_mesh_is_turned_round(tmp_path: Path, leg: MeshPart) -> None:
    inverted = leg.mesh.copy()
    inverted.invert()
    inverted.export(tmp_path / "inverted.obj")
    part = load_mesh(tmp_path / "inverted.obj")
    assert part.params["flipped_faces"] == len(leg.mesh.faces)
    assert part.mesh.volume == pytest.approx(leg.mesh.volume, rel=1e-6)


def test_open_mesh_is_refused(tmp_path: Path, leg: MeshPart) -> None:
    path = tmp_path / "open.stl"
    trimesh.Trimesh(leg.mesh.vertices, leg.mesh.faces[:-1], process=False).export(path)
    with pytest.raises(InvalidInputError) as info:
        load_mesh(path)
    err = info.value
    assert err.source == str(path)
    assert err.field == "mesh"
    assert "not watertight" in err.reason
    assert "the mesh must be closed so outward normals are defined" in err.reason


def write_obj(path: Path, vertices: list[tuple[float, float, float]], faces: list) -> Path:
    lines = [f"v {x} {y} {z}" for x, y, z in vertices]
    lines += [f"f {a} {b} {c}" for a, b, c in faces]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_invalid_meshes(tmp_path: Path) -> None:
    cases = {
        "empty mesh": write_obj(tmp_path / "empty.obj", [], []),
        "zero total area": write_obj(
            tmp_path / "flat.obj", [(0, 0, 0), (1, 0, 0), (2, 0, 0)], [(1, 2, 3), (1, 3, 2)]
        ),
        "degenerate faces only": write_obj(
            tmp_path / "thin.obj", [(0, 0, 0), (1, 0, 0), (2, 1e-12, 0)], [(1, 2, 3), (1, 3, 2)]
        ),
        "NaN or infinite coordinates": write_obj(
            tmp_path / "nan.obj",
            [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, float("nan"))],
            [(1, 3, 2), (1, 2, 4), (2, 3, 4), (3, 1, 4)],
        ),
    }
    for reason, path in cases.items():
        with pytest.raises(InvalidInputError) as info:
            load_mesh(path)
        assert reason in info.value.reason, path
        assert info.value.source == str(path)


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_mesh(tmp_path / "nope.stl")
    with pytest.raises(InvalidInputError) as info:
        load_mesh(tmp_path / "part.ply")
    assert info.value.field == "path"
