# What the crash and soak harnesses (tests/crash.sh, tests/soak.sh) check
# after many commands: only what this test made, so that other tests running
# beside it cannot disturb the count. Source after fixtures.sh.

# roost_cgroups: every launch's cgroup (roost/roost-PID) below this shell's
# own cgroups, in each hierarchy launch uses, one path a line.
roost_cgroups() {
        local c d
        for c in "" memory pids cpu devices; do
                d=$(caller_cgroup_dir $c)
                [ -n "$d" ] && [ -d "$d/roost" ] && find "$d/roost" -mindepth 1 -maxdepth 1 -type d -name 'roost-[0-9]*'
        done | sort -u
}

# cgroups_of PIDFILE: the cgroups of the launches whose pids PIDFILE lists
# (a launch's cgroup is named for its pid), one path a line. The names go
# to grep in a file: thousands of them are past what one argument may hold.
cgroups_of() {
        local pats rc
        pats=$(mktemp)
        sort -u "$1" | sed 's|^.*$|/roost-&$|' >"$pats"
        roost_cgroups | grep -f "$pats"
        rc=$?
        rm -f "$pats"
        # 1 is "none": only a failure of grep itself must not read as none.
        [ "$rc" -le 1 ] || echo "cgroups_of: grep failed ($rc)"
}

# mounts_below DIR: how many mounts of this mount namespace lie below DIR.
mounts_below() {
        awk -v d="$1/" 'index($5, d) == 1' /proc/self/mountinfo | wc -l
}

# procs_in DIR: the pids of processes whose root or working directory lies
# below DIR (a container, or a command, left behind).
procs_in() {
        local p r
        for p in /proc/[0-9]*; do
                for r in "$(readlink "$p/root" 2>/dev/null)" "$(readlink "$p/cwd" 2>/dev/null)"; do
                        case $r in "$1"/*) echo "${p#/proc/}" && break ;; esac
                done
        done
}
