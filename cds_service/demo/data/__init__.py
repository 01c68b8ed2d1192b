"""Package data: the demo Bundles generated for day 0 = 2026-01-05 (do not edit by hand).

Regenerate with ``python -m cds_service.demo``; a test checks these files equal a fresh
generation.
"""
