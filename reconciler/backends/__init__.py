"""Batch-system backends: the protocol and value types (`base`), the implementations
(`local`, `slurm`, `dirac`) and the registry of named implementations (`registry`)."""
