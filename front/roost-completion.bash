# bash completion for roost, pull, unpack and launch.
_roost_refs() {
        roost images -q 2>/dev/null
}

_roost_image_words() {
        local cur=$1
        COMPREPLY=($(compgen -W "$(_roost_refs) alpine alpine:edge alpine:latest-stable" -- "$cur"))
}

# Whether an export's command line before the cursor names its image
# already (an operand that is not an option or --format's argument).
_roost_export_has_image() {
        local j=$((i + 1)) w
        while [ "$j" -lt "$COMP_CWORD" ]; do
                w=${COMP_WORDS[j]}
                case $w in
                        --format|--store|--arch) j=$((j + 2)); continue ;;
                        -*) ;;
                        *) return 0 ;;
                esac
                j=$((j + 1))
        done
        return 1
}

_roost() {
        local cur prev cmd i
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        cmd=${COMP_WORDS[0]##*/}
        case $prev in
                --store|--to|-v|--volume|--cacert|--env-file|--authfile) COMPREPLY=($(compgen -f -- "$cur")); return ;;
                --arch) COMPREPLY=($(compgen -W "x86_64 aarch64 armv7 armhf x86 ppc64le s390x riscv64 loongarch64" -- "$cur")); return ;;
                --platform) COMPREPLY=($(compgen -W "linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v6 linux/386 linux/riscv64 linux/ppc64le linux/s390x linux/loong64" -- "$cur")); return ;;
                --net) COMPREPLY=($(compgen -W "none host" -- "$cur")); return ;;
                --format) COMPREPLY=($(compgen -W "oci rootfs bundle" -- "$cur")); return ;;
        esac
        if [ "$cmd" = roost ]; then
                # roost's global options may come before the command.
                i=1
                while [ "$i" -lt "$COMP_CWORD" ]; do
                        case ${COMP_WORDS[i]} in
                                --store|--arch) i=$((i + 2)) ;;
                                -*) i=$((i + 1)) ;;
                                *) break ;;
                        esac
                done
                if [ "$i" -ge "$COMP_CWORD" ]; then
                        COMPREPLY=($(compgen -W "pull unpack launch push images rm gc verify export import commit build containers tag inspect login logout --store --arch --quiet --help --version" -- "$cur"))
                        return
                fi
                cmd=${COMP_WORDS[i]}
        fi
        local opts="--store --arch --quiet --help"
        case $cmd in
                pull) opts="$opts --mirror --cacert --creds --creds-fd --authfile --plain-http --refresh --json --offline --retries --timeout" ;;
                push) opts="$opts --cacert --creds --plain-http --chunk-size --json --retries --timeout" ;;
                unpack) opts="$opts --to --force --keep-devices --keep-setid --max-size --max-entries" ;;
                launch) opts="$opts --platform --mirror --cacert --creds --authfile --plain-http --hostname -e --env-file -w -u -v --net --name --rm --read-only --layer-size --chroot --rootfs --privileged --cap-add --cap-drop --memory --pids --cpus --offline --retries --timeout -i -t -T --explain --step-times --seccomp" ;;
                images|containers|inspect) opts="$opts --json" ;;
                commit) opts="$opts --change --message -m" ;;
                build) opts="$opts --tag -t --file -f --build-arg --no-cache --network --creds --authfile --cacert --plain-http --json" ;;
                login) opts="$opts --username -u --password-stdin --authfile --cacert --plain-http --get-login" ;;
                logout) opts="$opts --all -a --authfile" ;;
                rm) opts="$opts --prune --container" ;;
                export) opts="$opts --format" ;;
                verify|import|gc) ;;
        esac
        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        elif [ "$cmd" = export ] && _roost_export_has_image; then
                # After the image: the file (or the bundle's directory).
                COMPREPLY=($(compgen -f -- "$cur"))
        elif [ "$cmd" = build ] && [ "$prev" = --network ]; then
                COMPREPLY=($(compgen -W "none host" -- "$cur"))
        elif [ "$cmd" = build ] && { [ "$prev" = -f ] || [ "$prev" = --file ]; }; then
                COMPREPLY=($(compgen -f -- "$cur"))
        elif [ "$cmd" = build ] && { [ "$prev" = -t ] || [ "$prev" = --tag ]; }; then
                _roost_image_words "$cur"
        elif [ "$cmd" = build ]; then
                COMPREPLY=($(compgen -d -- "$cur"))
        elif [ "$cmd" = import ]; then
                COMPREPLY=($(compgen -f -- "$cur"))
        elif [ "$cmd" = containers ]; then
                COMPREPLY=()
        elif [ "$cmd" = commit ] && [ "$prev" = commit ]; then
                COMPREPLY=($(compgen -W "$(roost containers -q 2>/dev/null)" -- "$cur"))
        else
                _roost_image_words "$cur"
        fi
}
complete -F _roost roost pull unpack launch
