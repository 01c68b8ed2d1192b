"""The web layer: blueprints (``cds``, ``ops``) and CORS. The only code that handles HTTP."""
