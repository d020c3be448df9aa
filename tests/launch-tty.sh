#!/bin/bash
# launch with a terminal: a pseudo-terminal of the container's own devpts,
# relayed by launch, window size passed on; without one, pipes relayed in
# place of the caller's terminal; driven by script(1) and tmux.
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

# ---- Without a pseudo-terminal, a terminal on fd 0, 1 or 2 reaches the
# container as a pipe that launch relays: the caller's terminal is never
# the container's, to read what is typed at it or to resize it.
out=$(script -qec "stty cols 77 rows 21; $LAUNCH sh -c '[ -t 1 ] || echo not-t1; [ -t 2 ] || echo not-t2; stty cols 33 <&1; stty -F /proc/self/fd/2 cols 34; stty cols 35 <&2' </dev/null; stty size" /dev/null </dev/null | tr -d '\r')
like "$out" '^not-t1$' "stdin not a terminal: the container's stdout is no terminal, though launch's is"
like "$out" '^not-t2$' "... nor its stderr"
like "$out" '^21 77$' "... and TIOCSWINSZ on its fd 1 or 2 leaves the caller's terminal as it was"
# Nor does the container's PID 1 keep a copy, which a command allowed to
# ptrace it could open through /proc/1/fd: --explain's included (PID 1
# closes that one as the command starts: the command waits a little).
out=$(script -qec "$LAUNCH --explain --cap-add SYS_PTRACE sh -c 'sleep 0.1; ls -l /proc/1/fd' </dev/null" /dev/null </dev/null | tr -d '\r' | grep -- ' -> ')
check "PID 1's fds can be listed" test -n "$out"
is "$(grep -c /dev/pts <<<"$out")" 0 "... and none is the caller's terminal"
# -T on a terminal: stdin too is a pipe, fed with what is typed.
out=$(printf 'typed\n' | script -qec "stty cols 77 rows 21; $LAUNCH -T sh -c 'for i in 0 1 2; do [ -t \$i ] || echo not-t\$i; done; stty cols 33; stty cols 34 <&1; read -r x; echo got=\$x'; stty size" /dev/null | tr -d '\r')
like "$(grep '^not-t' <<<"$out" | tr '\n' ' ')" '^not-t0 not-t1 not-t2 $' "-T on a terminal: none of the container's fds 0-2 is a terminal"
like "$out" '^21 77$' "... TIOCSWINSZ on them leaves the caller's terminal as it was"
like "$out" '^got=typed$' "... and what is typed reaches the command's stdin"
# All of the output comes through, in order (stdout and stderr on one
# terminal share one pipe), and the exit status is the command's: whether
# launch leaves on init's report or waits for the init (a named layer).
for opt in "" "--name relayed"; do
        out=$(script -qec "$LAUNCH $opt sh -c 'stat -L -c %F /proc/self/fd/1; i=0; while [ \$i -lt 20000 ]; do echo out\$i; echo err\$i >&2; i=\$((i+1)); done; echo last; exit 3' </dev/null; echo rc=\$?" /dev/null </dev/null | tr -d '\r')
        is "$(head -n1 <<<"$out")" fifo "launch${opt:+ $opt}: the command's stdout is a pipe of launch's"
        is "$(grep -c '^out' <<<"$out"):$(grep -c '^err' <<<"$out"):$(grep -A1 '^last$' <<<"$out" | tr '\n' ' ')" \
                "20000:20000:last rc=3 " "... all of its 40000 lines come through, then its exit status 3"
        is "$(grep -E '^(out|err)' <<<"$out" | paste -d ' ' - - | grep -cv '^out\([0-9]*\) err\1$')" 0 \
                "... stdout and stderr in the order they were written"
done
# A process the command leaves behind holds the pipe; launch still leaves
# when the command ends (the container's end kills it).
out=$(timeout 20 script -qec "$LAUNCH sh -c 'sleep 30 & echo bg' </dev/null; echo rc=\$?" /dev/null </dev/null | tr -d '\r')
is "$(echo $out)" "bg rc=0" "a background process holding stdout does not keep launch waiting"

# ---- tmux: an interactive shell, a resize, ^C, and the terminal restored
command -v tmux >/dev/null || { tap_done; exit; }
SOCK=$TEST_TMP/tmux.sock
T() { tmux -S "$SOCK" -f /dev/null "$@"; }
tap_at_exit "tmux -S '$SOCK' kill-server 2>/dev/null"
wait_for() { # PATTERN [SESSION]: until the pane shows it (3 s at most)
        for _ in $(seq 60); do
                T capture-pane -p -t "${2:-s}" | grep -Eq -- "$1" && return 0
                sleep 0.05
        done
        return 1
}
# Without a pseudo-terminal: what is typed at the caller's terminal is the
# caller's shell's, not the container's (its fd 2 is a pipe, not the
# terminal), and with -T the command's end is launch's, its stdin open.
T new-session -d -s p -x 80 -y 24 "$LAUNCH sh -c 'echo ready; head -n1 <&2 | sed s/^/stolen=/' </dev/null; read -r x; echo host-got=\$x; sleep 30"
check "no pseudo-terminal: the command starts" wait_for '^ready' p
sleep 0.3
T send-keys -t p 'secret' Enter
check "a line typed meanwhile reaches the caller's shell..." wait_for '^host-got=secret$' p
T capture-pane -p -t p | grep -q '^stolen='
ok $((!$?)) "... not the container's head -n1 <&2"
T new-session -d -s q -x 80 -y 24 "$LAUNCH -T sh -c 'echo started; exit 4'; echo launch-rc=\$?; sleep 30"
check "-T on a terminal: launch ends with the command, its stdin still open" wait_for '^launch-rc=4$' q

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
