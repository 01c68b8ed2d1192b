"""The CDS Hooks service: web, hooks, FHIR I/O, cards and configuration."""
