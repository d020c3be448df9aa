#!/bin/bash
# The man pages render without warnings and document every option that
# each tool's --help names, and each roost command's --help.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
command -v groff >/dev/null || skip_all "groff is not installed (apt-get install groff-base)"
for tool in pull unpack launch roost; do
        page=$ROOST_SRCDIR/man/$tool.1
        test -f "$page"; ok $? "man/$tool.1 exists"
        warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
        is "$warnings" "" "man/$tool.1 renders without warnings"
        text=$(groff -man -Tutf8 "$page" 2>/dev/null | sed 's/.\x08//g')
        missing=""
        for opt in $("$tool" --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
                grep -qF -- "$opt" <<<"$text" || missing="$missing $opt"
        done
        is "$missing" "" "man/$tool.1 documents every option of $tool --help"
        like "$text" "EXIT STATUS" "man/$tool.1 has an EXIT STATUS section"
done
text=$(groff -man -Tutf8 "$ROOST_SRCDIR/man/roost.1" 2>/dev/null | sed 's/.\x08//g')
for cmd in images rm gc verify export import; do
        missing=""
        for opt in $(roost "$cmd" --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
                grep -qF -- "$opt" <<<"$text" || missing="$missing $opt"
        done
        is "$missing" "" "man/roost.1 documents every option of roost $cmd --help"
done
tap_done
