#!/bin/bash
# bench/crash.sh [KILLS [SEED]]: the long crash-consistency run (default 500
# kills), tests/crash.sh with more kills: pull, unpack, import, gc, launch
# --name and commit each killed with SIGKILL at random moments, the same
# command run again after each, and the store checked at the end. As root,
# from a built tree. Prints the TAP lines and the seed.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
export ROOST_SRCDIR=${ROOST_SRCDIR:-$here} ROOST_BUILDDIR=${ROOST_BUILDDIR:-$here}
export PATH=$ROOST_BUILDDIR/fetch:$ROOST_BUILDDIR/unpack:$ROOST_BUILDDIR/launch:$ROOST_BUILDDIR/front:$ROOST_BUILDDIR/tests:$PATH
export ROOST_CRASH_KILLS=${1:-500}
[ -n "${2:-}" ] && export ROOST_CRASH_SEED=$2
exec bash "$ROOST_SRCDIR/tests/crash.sh"
