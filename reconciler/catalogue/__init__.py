"""The module catalogue (production_information) of a RAT release.

`naming` and `macro` are pure (names from paths, facts from macro text);
`generate` scans a release tree and classifies its macros; `render` turns a
catalogue into its canonical JSON, the legacy Python module, and back.
"""
