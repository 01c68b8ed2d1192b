"""Alembic schema migrations of the service's database (feedback, JWT replay cache, audit).

``cds_service.storage`` applies them at start (``CRS_CDS_DB_UPGRADE=auto``) or through
``crs-cds db upgrade``. A new migration is a new file in ``versions/`` whose ``down_revision``
is the previous head; ``storage.SCHEMA_HEAD`` names the head and a test checks that the
migrations build exactly the tables of ``storage.metadata``.
"""
