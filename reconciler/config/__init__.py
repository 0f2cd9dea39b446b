"""The declared configuration: YAML with positions, schemas, typed records, cross-file checks."""
