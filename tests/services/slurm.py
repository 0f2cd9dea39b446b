"""Session fixtures for the single-node Slurm (owner: backend work)."""
