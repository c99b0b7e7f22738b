"""The edge gateway's HTTP service: firms, quotes, bookings and the job queue.

See ``app.py`` for the routes and ``docs/edge_gateway.md`` for the decisions.
"""

from edge_gateway.service.app import create_app
from edge_gateway.service.auth import add_firm, add_principal, ensure_operator

__all__ = ["add_firm", "add_principal", "create_app", "ensure_operator"]
