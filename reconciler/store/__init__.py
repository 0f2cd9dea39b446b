"""State stores: CouchDB over HTTP (production) and SQLite (embedded default)."""
