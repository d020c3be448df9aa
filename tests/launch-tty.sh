#!/bin/bash
# launch with a terminal: a pseudo-terminal of the container's own devpts,
# relayed by launch, window size passed on; driven by script(1) and tmux.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root
command -v script >/dev/null || skip_all "script (util-linux) not installed"

ROOTFS=$TEST_TMP/rootfs
STORE=$TEST_TMP/store
make_rootfs "$ROOTFS" 3.99.0 || skip_all "cannot build the fixture rootfs"
LAUNCH="launch --store $STORE --rootfs $ROOTFS"

# ---- script(1): launch's stdin is a terminal. script turns the EOF of its
# own stdin into a byte that the container's terminal echoes as "^@".
out=$(script -qec "stty cols 77 rows 21; $LAUNCH sh -c 'tty; test -t 0 && test -t 1 && echo TTY; stty size; exit 6'; echo rc=\$?" /dev/null </dev/null | tr -d '\r' | sed 's/^\^@//')
like "$out" '^/dev/pts/0$' "the command's terminal is pts 0 of the container's own devpts"
like "$out" '^TTY$' "stdin and stdout are that terminal"
like "$out" '^21 77$' "the window size is passed on"
like "$out" '^rc=6$' "the exit status comes through the terminal session"
out=$(script -qec "$LAUNCH -T sh -c 'ls /dev/pts | tr \"\\n\" \" \"'" /dev/null </dev/null | tr -d '\r')
like "$out" '^ptmx $' "-T: no pseudo-terminal is made even on a terminal"
# A reader that goes away (launch -t | head) must leave the caller's
# terminal as it was, not raw.
out=$(script -qec "$LAUNCH -t sh -c 'yes | head -c 2000000' | head -c 3; echo; stty -a | grep -o -- '-\\?icanon'" /dev/null </dev/null | tr -d '\r')
like "$out" '^icanon$' "the terminal is restored when launch's reader goes away"
# ...and a command that would write for ever is hung up on (SIGHUP, or EIO
# when it ignores that), not fed to /dev/null for ever.
out=$(timeout 20 script -qec "$LAUNCH -t sh -c 'while echo y; do :; done' | head -c 3 >/dev/null; echo rc=\${PIPESTATUS[0]}; $LAUNCH -t sh -c 'trap \"\" HUP; while echo y; do :; done' | head -c 3 >/dev/null; echo rc=\${PIPESTATUS[0]}" /dev/null </dev/null | tr -d '\r')
like "$(echo $out)" "^rc=129 rc=[0-9]+$" "... the command is hung up on: SIGHUP (129), or EIO on its writes; both end"
run_cmd launch --store "$STORE" --rootfs "$ROOTFS" -t true </dev/null
is "$rc:$(wc -l <<<"$err")" "125:1" "-t without a terminal: 125 and one line"

# ---- tmux: an interactive shell, a resize, ^C, and the terminal restored
command -v tmux >/dev/null || { tap_done; exit; }
SOCK=$TEST_TMP/tmux.sock
T() { tmux -S "$SOCK" -f /dev/null "$@"; }
tap_at_exit "tmux -S '$SOCK' kill-server 2>/dev/null"
wait_for() { # PATTERN: until the pane shows it (3 s at most)
        for _ in $(seq 60); do
                T capture-pane -p -t s | grep -Eq -- "$1" && return 0
                sleep 0.05
        done
        return 1
}
T new-session -d -s s -x 80 -y 24 "$LAUNCH --hostname ttybox sh; echo launch-rc=\$?; stty -a | grep -o -- '-\\?icanon'; sleep 30"
check "an interactive shell starts" wait_for '#'
T send-keys -t s 'hostname; stty size' Enter
check "it runs commands and sees the pane's size" wait_for '^24 80'
T resize-window -t s -x 100 -y 30 2>/dev/null || T resize-pane -t s -x 100 -y 30
sleep 0.2
T send-keys -t s 'stty size' Enter
check "a window size change reaches the container" wait_for '^30 100'
T send-keys -t s 'sleep 20; echo after-sleep' Enter
sleep 0.3
T send-keys -t s C-c
T send-keys -t s 'echo interrupted' Enter
check "^C interrupts the container's foreground job, not launch" wait_for '^interrupted'
T capture-pane -p -t s | grep -q '^after-sleep'
ok $((!$?)) "... the interrupted command did not finish"
T send-keys -t s 'exit 9' Enter
check "exiting the shell ends launch with its status" wait_for '^launch-rc=9'
check "the caller's terminal is back in canonical mode" wait_for '^icanon'

tap_done
