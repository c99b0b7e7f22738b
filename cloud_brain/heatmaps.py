"""Heat maps of recipe versions for the approval queue: the predicted dry film.

The film is predicted again from the stored document (``recipes.recipe.simulate_recipe``:
the part from its reference, the program, gun and finish) and drawn by
``recipes.heatmap``; pictures are kept by content hash (a version's content never
changes), the most recent few in memory.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict

from recipes.document import loads
from recipes.errors import InvalidInputError
from recipes.heatmap import render_heatmap
from recipes.recipe import simulate_recipe

_KEEP = 32
_cache: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()
#: matplotlib's pyplot keeps global state: one picture at a time (the page asks for a
#: picture per queued version at once, and the API serves requests on a thread pool)
_drawing = threading.Lock()


def heatmap_png(document: str, content_hash: str) -> bytes:
    """PNG of the predicted dry film of the recipe ``document``.

    Raises
    ------
    InvalidInputError
        When the part is a file the cloud does not hold (DXF, mesh).
    """
    with _lock:
        if content_hash in _cache:
            _cache.move_to_end(content_hash)
            return _cache[content_hash]
    doc = loads(document, "document")
    if doc.part.kind != "template":
        raise InvalidInputError(
            "part.kind", f"{doc.part.kind} parts are drawn where their file is (not in the cloud)"
        )
    _, prediction = simulate_recipe(doc)
    out = io.BytesIO()
    title = f"{doc.id} v{doc.version}"
    with _drawing:
        render_heatmap(prediction, doc.program.to_program(), doc.finish, out, title)
    png = out.getvalue()
    with _lock:
        _cache[content_hash] = png
        while len(_cache) > _KEEP:
            _cache.popitem(last=False)
    return png


__all__ = ["heatmap_png"]
