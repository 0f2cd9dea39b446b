"""mcprod: GitOps for SNO+ Monte Carlo production."""

__version__ = "0.1.0"
