#!/usr/bin/env bash
# Check that every node sees the same files on the Bookstore NFS share.
set -euo pipefail

PROG=$(basename "$0")

usage() {
  cat <<EOF
Usage: $PROG [options] NODE...                 nodes reached by ssh (same as --ssh NODE...)
       $PROG [options] --local DIR1 DIR2 ...   several mount points on this machine
       $PROG [options] --nfs URL ...           NFS views read with libnfs (nfs-cp/nfs-cat/nfs-ls)
The three kinds can be mixed; give two views or more to compare, or one to check it alone.

What it does:
  1. writes a uniquely named marker file (.nfs-check-HOST-TIME-PID-RANDOM, random content) at the
     root of the share through the FIRST view given;
  2. reads the marker back through every view (retrying up to --timeout seconds: NFS clients may
     cache directory attributes) and compares its content;
  3. computes the sha256 of every file under --sub on every view and compares the lists with the
     first view's (the marker and NFS's .nfsXXXX files are left out);
  4. deletes the marker (through the first local or ssh view: libnfs has no rm);
  5. prints one line per view and exits 1 if any view is unreachable, misses the marker, or differs.

Options:
  --ssh HOST...        views on these hosts over ssh (BatchMode); the share is at --path there
  --path DIR           mount point of the share on ssh hosts (default: /mnt/bookstore-shared);
                       each ssh host must have it mounted as nfs4, or it fails
  --local DIR...       local directories (mount points, or the exported directory itself on the
                       server)
  --nfs URL...         libnfs URLs of the share root, e.g.
                       'nfs://10.0.0.10/srv/bookstore-shared?version=4'
  --sub REL            compare only this subdirectory (e.g. static); default: the whole share
  --timeout SECS       how long to wait for the marker to appear on a view (default: 10)
  -h, --help           this help

Environment: CHECK_SSH_OPTS adds ssh options (e.g. "-p 2222 -i ~/.ssh/ops").

Exit status: 0 every view agrees; 1 a mismatch or an unreachable view; 2 bad usage.

Examples:
  infra/nfs/check.sh --sub static node1 node2 node3
  infra/nfs/check.sh --local /mnt/bookstore-shared /srv/bookstore-shared
EOF
}

usage_error() { echo "$PROG: error: $*" >&2; echo "Try: $PROG --help" >&2; exit 2; }
log() { echo "$PROG: $*"; }

KINDS=()
SPECS=()
SSH_PATH=/mnt/bookstore-shared
SUB=''
TIMEOUT=10

add_views() { # kind, then values until the next option
  local kind=$1; shift
  local n=0
  while [[ $# -gt 0 && $1 != --* ]]; do KINDS+=("$kind"); SPECS+=("$1"); shift; n=$((n + 1)); done
  CONSUMED=$n
}

while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --ssh|--local|--nfs)
      opt=$1; shift; add_views "${opt#--}" "$@"
      [[ $CONSUMED -gt 0 ]] || usage_error "$opt needs at least one value"
      shift "$CONSUMED" ;;
    --path) [[ $# -ge 2 ]] || usage_error "--path needs a value"; SSH_PATH=${2%/}; shift 2 ;;
    --sub) [[ $# -ge 2 ]] || usage_error "--sub needs a value"; SUB=$2; shift 2 ;;
    --timeout) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage_error "--timeout needs a number of seconds"; TIMEOUT=$2; shift 2 ;;
    --*) usage_error "unknown option '$1'" ;;
    *) KINDS+=(ssh); SPECS+=("$1"); shift ;;
  esac
done
[[ ${#SPECS[@]} -gt 0 ]] || usage_error "no view to check: give ssh nodes, --local DIR... or --nfs URL..."
[[ -z $SUB || ( $SUB != /* && $SUB != *..* ) ]] || usage_error "--sub must be a relative path inside the share, got '$SUB'"
SUB=${SUB%/}
for i in "${!SPECS[@]}"; do
  case ${KINDS[$i]} in
    local) [[ -d ${SPECS[$i]} ]] || usage_error "--local '${SPECS[$i]}' is not a directory" ;;
    nfs) [[ ${SPECS[$i]} == nfs://* ]] || usage_error "--nfs '${SPECS[$i]}' is not an nfs:// URL"
         command -v nfs-cat >/dev/null 2>&1 || usage_error "--nfs needs libnfs-utils (nfs-cp, nfs-cat, nfs-ls): apt-get install -y libnfs-utils" ;;
  esac
done

read -r -a SSH_EXTRA <<<"${CHECK_SSH_OPTS:-}"
sshq() { ssh -o BatchMode=yes -o ConnectTimeout=10 "${SSH_EXTRA[@]}" "$@"; }
q() { printf '%q' "$1"; }

# nfs://host/path?query + rel -> nfs://host/path/rel?query
nfs_url() {
  local url=$1 rel=$2 base query=''
  base=${url%%\?*}
  [[ $url == *\?* ]] && query="?${url#*\?}"
  if [[ -n $rel ]]; then base="${base%/}/$rel"; fi
  printf '%s%s' "$base" "$query"
}

# Print "sha256  path" for every regular file under the view's SUB, sorted by path (C locale).
# shellcheck disable=SC2016 # expanded by the bash that runs it, locally or over ssh
LOCAL_MANIFEST='cd "$1" && find . -type f ! -name ".nfs-check-*" ! -name ".nfs[0-9a-f]*" -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum | sed "s#  \./#  #"'
manifest() {
  local kind=$1 spec=$2 dir
  case $kind in
    local)
      dir=$spec${SUB:+/$SUB}
      [[ -d $dir ]] || { echo "no directory $dir" >&2; return 1; }
      bash -c "$LOCAL_MANIFEST" _ "$dir" ;;
    ssh)
      dir=$SSH_PATH${SUB:+/$SUB}
      sshq "$spec" "bash -c $(q "$LOCAL_MANIFEST") _ $(q "$dir")" ;;
    nfs)
      local listing line name sum
      listing=$(nfs-ls -R "$(nfs_url "$spec" "$SUB")") || return 1
      while IFS= read -r line; do
        # -rw-rw----  1 10001 10001           10 sub/name with spaces
        [[ $line =~ ^-[^\ ]*\ +[0-9]+\ +[0-9]+\ +[0-9]+\ +[0-9]+\ (.*)$ ]] || continue
        name=${BASH_REMATCH[1]}
        base=${name##*/}
        [[ $base == .nfs-check-* || $base =~ ^\.nfs[0-9a-f] ]] && continue
        printf '%s\n' "$name"
      done <<<"$listing" | LC_ALL=C sort | while IFS= read -r name; do
        sum=$(nfs-cat "$(nfs_url "$spec" "${SUB:+$SUB/}$name")" | sha256sum) || return 1
        printf '%s  %s\n' "${sum%% *}" "$name"
      done ;;
  esac
}

write_marker() {
  local kind=$1 spec=$2 name=$3 content=$4 tmp
  case $kind in
    local) printf '%s' "$content" >"$spec/$name" ;;
    ssh) sshq "$spec" "printf %s $(q "$content") > $(q "$SSH_PATH/$name")" ;;
    nfs) tmp=$(mktemp); printf '%s' "$content" >"$tmp"
         nfs-cp "$tmp" "$(nfs_url "$spec" "$name")" >/dev/null || { rm -f "$tmp"; return 1; }
         rm -f "$tmp" ;;
  esac
}

read_marker() {
  local kind=$1 spec=$2 name=$3
  case $kind in
    local) cat "$spec/$name" ;;
    ssh) sshq "$spec" "cat $(q "$SSH_PATH/$name")" ;;
    nfs) nfs-cat "$(nfs_url "$spec" "$name")" ;;
  esac
}

remove_marker() {
  local kind=$1 spec=$2 name=$3
  case $kind in
    local) rm -f "$spec/$name" ;;
    ssh) sshq "$spec" "rm -f $(q "$SSH_PATH/$name")" ;;
    nfs) return 1 ;;
  esac
}

label() { printf '%s:%s' "$1" "$2"; }

WORK=$(mktemp -d)
MARKER=''
cleanup() {
  local i
  if [[ -n $MARKER ]]; then
    local removed=0
    for i in "${!SPECS[@]}"; do
      if remove_marker "${KINDS[$i]}" "${SPECS[$i]}" "$MARKER" 2>/dev/null; then removed=1; break; fi
    done
    [[ $removed -eq 1 ]] || echo "$PROG: warning: marker $MARKER left on the share (no local or ssh view to delete it)" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- ssh views must be NFS 4 mounts ----------------------------------------------------------
FAILED=()
declare -A BROKEN=()
for i in "${!SPECS[@]}"; do
  [[ ${KINDS[$i]} == ssh ]] || continue
  if ! fstype=$(sshq "${SPECS[$i]}" "findmnt -n -o FSTYPE --mountpoint $(q "$SSH_PATH")" 2>"$WORK/err"); then
    BROKEN[$i]="not reachable or $SSH_PATH not mounted: $(tr '\n' ' ' <"$WORK/err")${fstype:-}"
  elif [[ $fstype != nfs4* ]]; then
    BROKEN[$i]="$SSH_PATH is '$fstype', not an nfs4 mount"
  fi
done

# ---- 1. marker through the first view ---------------------------------------------------------
host=$(hostname -s 2>/dev/null || echo host)
MARKER_NAME=".nfs-check-$host-$(date -u +%Y%m%dT%H%M%SZ)-$$-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
TOKEN="bookstore nfs check $(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
first_label=$(label "${KINDS[0]}" "${SPECS[0]}")
if [[ -n ${BROKEN[0]:-} ]]; then
  echo "$PROG: cannot write the marker through $first_label: ${BROKEN[0]}" >&2
  exit 1
fi
if ! write_marker "${KINDS[0]}" "${SPECS[0]}" "$MARKER_NAME" "$TOKEN" 2>"$WORK/err"; then
  echo "$PROG: cannot write the marker $MARKER_NAME through $first_label: $(cat "$WORK/err")" >&2
  exit 1
fi
MARKER=$MARKER_NAME
log "marker $MARKER written through $first_label"

# ---- 2. and 3. every view ---------------------------------------------------------------------
ref_manifest=''
for i in "${!SPECS[@]}"; do
  kind=${KINDS[$i]} spec=${SPECS[$i]} name=$(label "${KINDS[$i]}" "${SPECS[$i]}")
  if [[ -n ${BROKEN[$i]:-} ]]; then
    printf '  %-50s FAIL  %s\n' "$name" "${BROKEN[$i]}"; FAILED+=("$name"); continue
  fi
  # marker, with retries
  got='' deadline=$((SECONDS + TIMEOUT))
  while :; do
    got=$(read_marker "$kind" "$spec" "$MARKER" 2>"$WORK/err") || got=''
    [[ $got == "$TOKEN" || $SECONDS -ge $deadline ]] && break
    sleep 1
  done
  marker_ok=1 why=''
  if [[ $got != "$TOKEN" ]]; then
    marker_ok=0
    if [[ -z $got ]]; then why="marker not visible after ${TIMEOUT}s ($(tr '\n' ' ' <"$WORK/err" | sed 's/ *$//'))"; else why='marker content differs'; fi
  fi
  # checksums
  if ! manifest "$kind" "$spec" >"$WORK/m$i" 2>"$WORK/err"; then
    printf '  %-50s FAIL  %scannot list files: %s\n' "$name" "${why:+$why; }" "$(tr '\n' ' ' <"$WORK/err")"; FAILED+=("$name"); continue
  fi
  files=$(wc -l <"$WORK/m$i" | tr -d ' ')
  digest=$(sha256sum <"$WORK/m$i" | cut -c1-12)
  summary="$files files, digest $digest"
  same=1
  if [[ -z $ref_manifest ]]; then
    ref_manifest="$WORK/m$i"; ref_name=$name; summary+=' (reference)'
  elif ! cmp -s "$ref_manifest" "$WORK/m$i"; then
    same=0; summary+=", differs from $ref_name"
  fi
  if [[ $marker_ok -eq 1 && $same -eq 1 ]]; then
    printf '  %-50s OK    marker read, %s\n' "$name" "$summary"
  else
    printf '  %-50s FAIL  %s, %s\n' "$name" "${why:-marker read}" "$summary"
    FAILED+=("$name")
  fi
  if [[ $same -eq 0 ]]; then
    diff "$ref_manifest" "$WORK/m$i" | grep '^[<>]' | sed -e "s/^< /    reference: /" -e "s/^> /    this view: /" | head -n 20 || true
  fi
done

what=${SUB:-the whole share}
if [[ ${#FAILED[@]} -gt 0 ]]; then
  log "FAIL: ${#FAILED[@]} of ${#SPECS[@]} views do not see the same files ($what): ${FAILED[*]}"
  exit 1
fi
log "OK: all ${#SPECS[@]} views see the same files ($what, $(wc -l <"$ref_manifest" | tr -d ' ') files) and the marker"
