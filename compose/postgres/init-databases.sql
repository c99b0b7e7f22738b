-- Runs once, when the data volume is created: POSTGRES_DB makes the edge's database ("edge"),
-- this adds the cloud brain's. Each service migrates its own schema at start (Alembic).
CREATE DATABASE cloud;
