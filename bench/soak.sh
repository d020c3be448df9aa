#!/bin/bash
# bench/soak.sh [SECONDS]: the long soak (default 300 s), tests/soak.sh run
# longer: launches, pulls, unpacks, gc, exports, imports and commits all at
# once on one store, then the checks (no failure, nothing left behind,
# memory flat) and the operations per second by kind. As root, from a
# built tree, with Alpine's mirror copy beside the source tree.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
export ROOST_SRCDIR=${ROOST_SRCDIR:-$here} ROOST_BUILDDIR=${ROOST_BUILDDIR:-$here}
export PATH=$ROOST_BUILDDIR/fetch:$ROOST_BUILDDIR/unpack:$ROOST_BUILDDIR/launch:$ROOST_BUILDDIR/front:$ROOST_BUILDDIR/tests:$PATH
export ROOST_SOAK_SECONDS=${1:-300}
exec bash "$ROOST_SRCDIR/tests/soak.sh"
