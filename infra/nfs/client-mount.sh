#!/usr/bin/env bash
# Mount the Bookstore NFS share on a Swarm node (NFS 4.1) and keep it in /etc/fstab. Safe to re-run.
set -euo pipefail

PROG=$(basename "$0")
MARK='# bookstore-nfs: managed by infra/nfs/client-mount.sh'
DEFAULT_OPTS='nfsvers=4.1,proto=tcp,hard,timeo=600,retrans=2,noatime,rsize=1048576,wsize=1048576,_netdev,nofail'

usage() {
  cat <<EOF
Usage: $PROG --server ADDR [options]

On one Swarm node:
  1. checks the NFS client is installed (mount.nfs4, from nfs-common);
  2. writes one /etc/fstab line for the mount point (other lines untouched; an existing line for
     the mount point is replaced only if this script wrote it, or with --force);
  3. mounts the share unless it is already mounted from the same source, then checks that it is
     NFS 4.1 and writable.
Re-running with the same arguments changes nothing.

The stack's Docker volumes (infra/nfs/volume.yml) mount the share into containers by themselves;
this host mount is what operators, infra/nfs/check.sh and backups use, and it proves the node
can reach the server with the same options before any task is scheduled there.

Options:
  --server ADDR        NFS server address (IP or host name; required)
  --export PATH        path exported by the server (default: /srv/bookstore-shared)
  --mountpoint DIR     where to mount it on this node (default: /mnt/bookstore-shared)
  --options OPTS       mount options (default: $DEFAULT_OPTS)
  --fstab FILE         fstab to edit (default: /etc/fstab)
  --no-mount           edit the fstab only (staging or tests)
  --force              replace an existing fstab line for the mount point not written by this script
  --dry-run            print what would change, change nothing
  -h, --help           this help

Why these options: infra/nfs/README.md ("Mount options").

Example:
  sudo infra/nfs/client-mount.sh --server 10.0.0.10
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*"; }

SERVER=''
EXPORT=/srv/bookstore-shared
MP=/mnt/bookstore-shared
OPTS=$DEFAULT_OPTS
FSTAB=/etc/fstab
MOUNT=1
FORCE=0
DRY=0

need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --server) need_arg "$@"; SERVER=$2; shift 2 ;;
    --export) need_arg "$@"; EXPORT=$2; shift 2 ;;
    --mountpoint) need_arg "$@"; MP=$2; shift 2 ;;
    --options) need_arg "$@"; OPTS=$2; shift 2 ;;
    --fstab) need_arg "$@"; FSTAB=$2; shift 2 ;;
    --no-mount) MOUNT=0; shift ;;
    --force) FORCE=1; shift ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

# ---- validation -------------------------------------------------------------------------------
[[ -n $SERVER ]] || die "--server is required (the NFS server's address, e.g. 10.0.0.10)"
[[ $SERVER =~ ^[A-Za-z0-9.:_-]+$ ]] || die "--server '$SERVER' is not an address or host name"
[[ $EXPORT == /* && $EXPORT =~ ^[A-Za-z0-9._/-]+$ ]] || die "--export must be an absolute path of [A-Za-z0-9._/-], got '$EXPORT'"
[[ $MP == /* && $MP =~ ^[A-Za-z0-9._/-]+$ && $MP != / ]] || die "--mountpoint must be an absolute path of [A-Za-z0-9._/-] other than /, got '$MP'"
EXPORT=${EXPORT%/}; [[ -n $EXPORT ]] || EXPORT=/
MP=${MP%/}
[[ $OPTS =~ ^[A-Za-z0-9=.,_:-]+$ ]] || die "--options '$OPTS' has unexpected characters"
[[ ,$OPTS, == *,nfsvers=4.1,* || ,$OPTS, == *,vers=4.1,* ]] \
  || echo "$PROG: warning: --options without nfsvers=4.1; the share is meant to be mounted as NFS 4.1" >&2
[[ ,$OPTS, == *,hard,* ]] \
  || echo "$PROG: warning: --options without 'hard': a soft mount can silently lose uploaded covers on a server hiccup" >&2
if [[ $DRY -eq 0 && $EUID -ne 0 ]]; then
  die "must run as root (it edits $FSTAB and mounts $MP); try: sudo $0 ..."
fi
if [[ $MOUNT -eq 1 ]]; then
  command -v mount.nfs4 >/dev/null 2>&1 || [[ -x /sbin/mount.nfs4 || -x /usr/sbin/mount.nfs4 ]] \
    || die "mount.nfs4 not found: install the NFS client first: apt-get install -y nfs-common"
fi

SRC="$SERVER:$EXPORT"
LINE="$SRC $MP nfs $OPTS 0 0"

[[ ! -e $FSTAB || -f $FSTAB ]] || die "$FSTAB is not a regular file"
existing=$(awk -v m="$MP" '$1 !~ /^#/ && $2 == m' "$FSTAB" 2>/dev/null || true)
count=$(awk -v m="$MP" '$1 !~ /^#/ && $2 == m { n++ } END { print n + 0 }' "$FSTAB" 2>/dev/null || echo 0)
ours=$(awk -v m="$MP" -v k="$MARK" 'prev == k && $2 == m { n++ } { prev = $0 } END { print n + 0 }' "$FSTAB" 2>/dev/null || echo 0)
if [[ $count -gt 0 && $ours -ne $count && $FORCE -ne 1 ]]; then
  die "$FSTAB already has a line for $MP that this script did not write:
$existing
Remove it, or re-run with --force to replace it."
fi

run() {
  if [[ $DRY -eq 1 ]]; then echo "would run: $*"; else "$@"; fi
}

# ---- 1. fstab ---------------------------------------------------------------------------------
if [[ $count -eq 1 && $existing == "$LINE" && $ours -eq 1 ]]; then
  log "$FSTAB already mounts $SRC on $MP with these options (unchanged)"
else
  if [[ $DRY -eq 1 ]]; then tmp=$(mktemp); else tmp=$(mktemp "$FSTAB.XXXXXX"); fi
  trap 'rm -f "$tmp"' EXIT
  if [[ -e $FSTAB ]]; then
    awk -v m="$MP" -v k="$MARK" '
      { lines[NR] = $0; second[NR] = ($1 ~ /^#/ ? "" : $2) }
      END {
        for (i = 1; i <= NR; i++) {
          if (lines[i] == k && second[i + 1] == m) continue
          if (second[i] == m) continue
          print lines[i]
        }
      }' "$FSTAB" >"$tmp"
  fi
  printf '%s\n%s\n' "$MARK" "$LINE" >>"$tmp"
  if [[ $DRY -eq 1 ]]; then
    log "would write to $FSTAB:"
    if [[ -e $FSTAB ]]; then diff -u "$FSTAB" "$tmp" || true; else cat "$tmp"; fi
    rm -f "$tmp"
  else
    if [[ -e $FSTAB ]]; then
      cp -p "$FSTAB" "$FSTAB.bak"
      chmod --reference="$FSTAB" "$tmp"
    else
      chmod 644 "$tmp"
    fi
    mv -f "$tmp" "$FSTAB"
    log "wrote $FSTAB: $LINE"
  fi
  trap - EXIT
fi

# ---- 2. mount ---------------------------------------------------------------------------------
if [[ $MOUNT -eq 0 ]]; then
  log "--no-mount: $MP not mounted"
  exit 0
fi
current=$(findmnt -n -o SOURCE --mountpoint "$MP" 2>/dev/null | tail -n1 || true)
if [[ -n $current ]]; then
  # The kernel may show the source with a trailing slash or a resolved address.
  if [[ ${current%/} != "$SRC" && $current != "$SERVER:$EXPORT/" ]]; then
    die "$MP is already mounted from '$current', not $SRC; unmount it first (umount $MP)"
  fi
  log "$MP already mounted from $current (to apply changed options: umount $MP && $0 ...)"
else
  if [[ -d $MP ]] && [[ -n $(ls -A "$MP" 2>/dev/null) ]]; then
    echo "$PROG: warning: $MP is not empty; its files will be hidden under the mount" >&2
  fi
  [[ -d $MP ]] || { log "creating $MP"; run mkdir -p "$MP"; }
  # _netdev and nofail are for boot ordering only; leave them out of a mount made by hand.
  now_opts=$(tr ',' '\n' <<<"$OPTS" | grep -v -x -e _netdev -e nofail | paste -sd, -)
  log "mount -t nfs -o $now_opts $SRC $MP"
  run mount -t nfs -o "$now_opts" "$SRC" "$MP" \
    || die "mounting $SRC on $MP failed: is the server up, is this node in its --clients network (infra/nfs/server-export.sh), is TCP 2049 open between them?"
fi
[[ $DRY -eq 1 ]] && exit 0

# ---- 3. checks --------------------------------------------------------------------------------
fstype=$(findmnt -n -o FSTYPE --mountpoint "$MP" | tail -n1)
options=$(findmnt -n -o OPTIONS --mountpoint "$MP" | tail -n1)
[[ $fstype == nfs4 ]] || die "$MP is mounted as '$fstype', expected nfs4"
[[ ,$options, == *,vers=4.1,* ]] || die "$MP is not NFS 4.1 (mount options: $options); does the server offer 4.1?"
probe="$MP/.nfs-mount-check-$(hostname -s 2>/dev/null || echo node)-$$"
if ! (echo ok >"$probe") 2>/dev/null; then
  die "$MP is mounted but not writable ($probe); check the export is rw and $EXPORT is owned by the app uid (10001) on the server"
fi
rm -f "$probe"
log "$SRC mounted on $MP (nfs4, vers=4.1, writable)"
