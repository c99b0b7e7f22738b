"""Alembic environment of the cloud database: runs on the connection it is handed."""

from alembic import context

from cloud_brain.db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
