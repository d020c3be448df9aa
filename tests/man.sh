#!/bin/bash
# The man pages render without warnings and document every option that
# each tool's --help names, and each roost command's --help.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
command -v groff >/dev/null || skip_all "groff is not installed (apt-get install groff-base)"
for tool in pull unpack launch push roost; do
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
for cmd in images rm gc verify export import commit containers tag inspect build login logout; do
        missing=""
        for opt in $(roost "$cmd" --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
                grep -qF -- "$opt" <<<"$text" || missing="$missing $opt"
        done
        is "$missing" "" "man/roost.1 documents every option of roost $cmd --help"
done

# The docs stand alone and say what the code does: no file of theirs sends
# the reader outside the repository, roost's own help says what verify
# checks, and no comment promises NO_COLOR handling the code lacks.
outside=$(grep -lE 'DESIGN\.md|STYLE\.md' "$ROOST_SRCDIR/README.md" "$ROOST_SRCDIR"/docs/*.md 2>/dev/null | tr '\n' ' ')
is "$outside" "" "README and docs/ cite no design file outside the repository"
like "$(roost --help | grep -E '^ +verify')" "trees" "roost --help: verify checks unpacked trees too"
like "$(groff -man -Tutf8 "$ROOST_SRCDIR/man/roost.1" 2>/dev/null | sed 's/.\x08//g' | tr -s ' \n' ' ')" \
        "checks each unpacked tree against the manifest" "man/roost.1: verify checks unpacked trees too"
if grep -q NO_COLOR "$ROOST_SRCDIR"/common/*.c; then ok 0 "NO_COLOR: handled"; else
        ok $(grep -rlq NO_COLOR "$ROOST_SRCDIR"/common "$ROOST_SRCDIR"/fetch "$ROOST_SRCDIR"/unpack \
                "$ROOST_SRCDIR"/launch "$ROOST_SRCDIR"/store; echo $((!$?))) "no comment claims NO_COLOR handling the code lacks"
fi
launch_links=$(grep -nE 'launch (links|calls fetch_pull|can call unpack_image)' "$ROOST_SRCDIR"/fetch/*.[ch] \
        "$ROOST_SRCDIR"/fetch/local.mk "$ROOST_SRCDIR"/docs/pull.md "$ROOST_SRCDIR"/docs/unpack.md 2>/dev/null)
is "$launch_links" "" "no doc says launch links fetch or unpack (it runs the tools)"
tap_done
