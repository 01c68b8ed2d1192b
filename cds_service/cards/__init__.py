"""CDS cards: an Assessment and its treatment plan -> CDS Hooks cards and FHIR orders."""
