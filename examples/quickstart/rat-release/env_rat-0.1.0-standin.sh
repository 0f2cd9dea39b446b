# Environment of the stand-in RAT release: puts its `rat` on PATH (see bin/rat).
export RATROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="$RATROOT/bin:$PATH"
