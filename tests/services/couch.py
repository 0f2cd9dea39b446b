"""Session fixtures for the CouchDB-compatible test server (owner: store work)."""
