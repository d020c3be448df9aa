# bash completion for roost, pull, unpack and launch.
_roost_refs() {
        roost images -q 2>/dev/null
}

_roost_image_words() {
        local cur=$1
        COMPREPLY=($(compgen -W "$(_roost_refs) alpine alpine:edge alpine:latest-stable" -- "$cur"))
}

_roost() {
        local cur prev cmd
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        cmd=${COMP_WORDS[0]##*/}
        if [ "$cmd" = roost ]; then
                if [ "$COMP_CWORD" -eq 1 ]; then
                        COMPREPLY=($(compgen -W "pull unpack launch images rm gc verify export import --help --version" -- "$cur"))
                        return
                fi
                cmd=${COMP_WORDS[1]}
        fi
        case $prev in
                --store|--to|-v|--volume|--cacert) COMPREPLY=($(compgen -f -- "$cur")); return ;;
                --arch) COMPREPLY=($(compgen -W "x86_64 aarch64 armv7 armhf x86 ppc64le s390x riscv64" -- "$cur")); return ;;
                --net) COMPREPLY=($(compgen -W "none host" -- "$cur")); return ;;
        esac
        local opts="--store --help"
        case $cmd in
                pull) opts="$opts --arch --mirror --cacert --quiet --refresh --json --offline --retries --timeout" ;;
                unpack) opts="$opts --arch --to --quiet --max-size --max-entries" ;;
                launch) opts="$opts --arch --mirror --cacert --hostname -e -w -u -v --net --name --read-only --chroot --rootfs --privileged --cap-add --cap-drop --memory --pids --cpus --offline --retries --timeout" ;;
                images) opts="$opts --json -q" ;;
                rm) opts="$opts --prune --arch --container" ;;
                verify|export) opts="$opts --arch" ;;
                import|gc) ;;
        esac
        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        elif [ "$cmd" = import ]; then
                COMPREPLY=($(compgen -f -- "$cur"))
        else
                _roost_image_words "$cur"
        fi
}
complete -F _roost roost pull unpack launch
