"""`make run`: the quickstart (placeholder until the site reconciler lands)."""

import sys


def main() -> int:
    print("mcprod quickstart: coming with the site reconciler.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
