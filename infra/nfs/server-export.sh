#!/usr/bin/env bash
# Export the Bookstore shared directory (static files + uploaded covers) over NFS 4.1 from the
# storage host, with the kernel server (Debian/Ubuntu: nfs-kernel-server). Safe to re-run.
set -euo pipefail

PROG=$(basename "$0")
MARK='# bookstore-nfs: managed by infra/nfs/server-export.sh'

usage() {
  cat <<EOF
Usage: $PROG --clients NET[,NET...] [options]

Sets up the NFS export that every Swarm node mounts (web's STATIC_DIR, catalog's UPLOADS_DIR):
  1. creates DIR, DIR/static and DIR/uploads, owned by UID:GID (the user the app containers run
     as), mode 2775 (setgid: new files keep the group);
  2. optionally copies the web front's static files (favicon, css) into DIR/static;
  3. writes one line per client network for DIR into the exports file (other lines untouched; an
     existing line for DIR is replaced only if this script wrote it, or with --force);
  4. enables the kernel NFS server and runs 'exportfs -ra', then checks the export is live and
     that NFS 4.1 is enabled.
Re-running with the same arguments changes nothing.

Options:
  --dir DIR            directory to export (default: /srv/bookstore-shared)
  --clients NET        who may mount it: CIDR (10.0.0.0/24), address or host name; repeat the
                       option or separate with commas for several (required; never '*')
  --uid UID            uid the app containers run as (default: 10001, the Bookstore convention)
  --gid GID            gid the app containers run as (default: 10001)
  --seed-static SRC    copy the files of SRC (e.g. web/static of this repo) into DIR/static,
                       overwriting same-named files, deleting nothing
  --exports-file FILE  exports file to edit (default: /etc/exports)
  --no-reload          edit the exports file and the directories only; do not touch the NFS
                       server (no systemctl, no exportfs) -- for staging or tests
  --force              replace an existing line for DIR that this script did not write
  --dry-run            print what would change, change nothing
  -h, --help           this help

Export options written (see infra/nfs/README.md for why):
  rw,sync,no_subtree_check,sec=sys,all_squash,anonuid=UID,anongid=GID
  all_squash maps every client user -- root on a node or in a container included -- to UID:GID,
  so every file on the share belongs to the app user and no client can act as root on it.

Example (storage host 10.0.0.10, Swarm nodes on 10.0.0.0/24):
  sudo infra/nfs/server-export.sh --clients 10.0.0.0/24 --seed-static web/static
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*"; }

DIR=/srv/bookstore-shared
CLIENTS=()
UID_=10001
GID_=10001
SEED=''
EXPORTS=/etc/exports
RELOAD=1
FORCE=0
DRY=0

need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --dir) need_arg "$@"; DIR=$2; shift 2 ;;
    --clients) need_arg "$@"; IFS=',' read -r -a more <<<"$2"; CLIENTS+=("${more[@]}"); shift 2 ;;
    --uid) need_arg "$@"; UID_=$2; shift 2 ;;
    --gid) need_arg "$@"; GID_=$2; shift 2 ;;
    --seed-static) need_arg "$@"; SEED=$2; shift 2 ;;
    --exports-file) need_arg "$@"; EXPORTS=$2; shift 2 ;;
    --no-reload) RELOAD=0; shift ;;
    --force) FORCE=1; shift ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

# ---- validation -------------------------------------------------------------------------------
[[ $DIR == /* ]] || die "--dir must be an absolute path, got '$DIR'"
[[ $DIR != / ]] || die "refusing to export /"
[[ $DIR =~ ^[A-Za-z0-9._/-]+$ ]] || die "--dir '$DIR' has characters /etc/exports would need quoted; use [A-Za-z0-9._/-] only"
DIR=${DIR%/}
[[ ${#CLIENTS[@]} -gt 0 ]] || die "--clients is required (the Swarm nodes' network, e.g. 10.0.0.0/24)"
for c in "${CLIENTS[@]}"; do
  [[ -n $c ]] || die "empty entry in --clients"
  [[ $c != '*' ]] || die "--clients '*' would export to the whole world; name the nodes' network"
  [[ $c =~ ^[A-Za-z0-9.:/_-]+$ ]] || die "--clients entry '$c' is not an address, CIDR or host name"
  if [[ $c == */* ]]; then
    bits=${c##*/}
    [[ $bits =~ ^[0-9]+$ && $bits -le 128 ]] || die "--clients entry '$c': bad prefix length"
  fi
done
[[ $UID_ =~ ^[0-9]+$ && $UID_ -gt 0 ]] || die "--uid must be a positive number (not root), got '$UID_'"
[[ $GID_ =~ ^[0-9]+$ && $GID_ -gt 0 ]] || die "--gid must be a positive number (not root), got '$GID_'"
if [[ -n $SEED ]]; then
  [[ -d $SEED ]] || die "--seed-static '$SEED' is not a directory"
fi
if [[ $DRY -eq 0 && $EUID -ne 0 ]]; then
  die "must run as root (it creates $DIR, chowns it to $UID_:$GID_ and edits $EXPORTS); try: sudo $0 ..."
fi
if [[ $RELOAD -eq 1 ]]; then
  command -v exportfs >/dev/null 2>&1 \
    || die "exportfs not found: install the kernel NFS server first: apt-get install -y nfs-kernel-server"
fi

OPTS="rw,sync,no_subtree_check,sec=sys,all_squash,anonuid=$UID_,anongid=$GID_"
LINE="$DIR"
for c in "${CLIENTS[@]}"; do LINE+=" $c($OPTS)"; done

# An existing line for DIR that this script did not write stops everything before any change.
[[ ! -e $EXPORTS || -f $EXPORTS ]] || die "$EXPORTS is not a regular file"
existing=$(awk -v d="$DIR" '$1 == d' "$EXPORTS" 2>/dev/null || true)
count=$(awk -v d="$DIR" '$1 == d { n++ } END { print n + 0 }' "$EXPORTS" 2>/dev/null || echo 0)
ours=$(awk -v d="$DIR" -v m="$MARK" 'prev == m && $1 == d { n++ } { prev = $0 } END { print n + 0 }' "$EXPORTS" 2>/dev/null || echo 0)
if [[ $count -gt 0 && $ours -ne $count && $FORCE -ne 1 ]]; then
  die "$EXPORTS already has a line for $DIR that this script did not write:
$existing
Remove it, or re-run with --force to replace it."
fi

run() {
  if [[ $DRY -eq 1 ]]; then echo "would run: $*"; else "$@"; fi
}

# ---- 1. directories ---------------------------------------------------------------------------
for d in "$DIR" "$DIR/static" "$DIR/uploads"; do
  if [[ -e $d && ! -d $d ]]; then die "$d exists and is not a directory"; fi
  if [[ ! -d $d ]]; then log "creating $d"; run mkdir -p "$d"; fi
  if [[ $DRY -eq 1 && ! -d $d ]]; then continue; fi
  owner=$(stat -c '%u:%g' "$d"); mode=$(stat -c '%a' "$d")
  if [[ $owner != "$UID_:$GID_" ]]; then log "chown $UID_:$GID_ $d (was $owner)"; run chown "$UID_:$GID_" "$d"; fi
  if [[ $mode != 2775 ]]; then log "chmod 2775 $d (was $mode)"; run chmod 2775 "$d"; fi
done

# ---- 2. static files --------------------------------------------------------------------------
if [[ -n $SEED ]]; then
  log "copying $SEED/ into $DIR/static/"
  run cp -R --no-preserve=ownership,mode "$SEED/." "$DIR/static/"
  run chown -R "$UID_:$GID_" "$DIR/static"
  run find "$DIR/static" -type d -exec chmod 2775 {} +
  run find "$DIR/static" -type f -exec chmod 0664 {} +
fi
if [[ -d $DIR ]]; then
  stray=$(find "$DIR" -xdev \( ! -uid "$UID_" -o ! -gid "$GID_" \) -print -quit 2>/dev/null || true)
  if [[ -n $stray ]]; then
    echo "$PROG: warning: files under $DIR not owned by $UID_:$GID_ (first: $stray);" \
      "the app may fail to replace them. Fix with: chown -R $UID_:$GID_ $DIR" >&2
  fi
fi

# ---- 3. exports file --------------------------------------------------------------------------
[[ -e $EXPORTS ]] || { log "creating $EXPORTS"; [[ $DRY -eq 1 ]] || : >"$EXPORTS"; }

changed=0
if [[ $count -eq 1 && $existing == "$LINE" && $ours -eq 1 ]]; then
  log "$EXPORTS already exports $DIR with these options (unchanged)"
else
  if [[ $DRY -eq 1 ]]; then tmp=$(mktemp); else tmp=$(mktemp "$EXPORTS.XXXXXX"); fi
  trap 'rm -f "$tmp"' EXIT
  # Drop our marker lines for DIR and every line for DIR, then append ours.
  awk -v d="$DIR" -v m="$MARK" '
    { lines[NR] = $0; first[NR] = $1 }
    END {
      for (i = 1; i <= NR; i++) {
        if (lines[i] == m && first[i + 1] == d) continue
        if (first[i] == d) continue
        print lines[i]
      }
    }' "$EXPORTS" >"$tmp"
  printf '%s\n%s\n' "$MARK" "$LINE" >>"$tmp"
  if [[ $DRY -eq 1 ]]; then
    log "would write to $EXPORTS:"
    if [[ -e $EXPORTS ]]; then diff -u "$EXPORTS" "$tmp" || true; else cat "$tmp"; fi
    rm -f "$tmp"
  else
    [[ ! -s $EXPORTS ]] || cp -p "$EXPORTS" "$EXPORTS.bak"
    chmod --reference="$EXPORTS" "$tmp" 2>/dev/null || chmod 644 "$tmp"
    mv -f "$tmp" "$EXPORTS"
    log "wrote $EXPORTS: $LINE"
  fi
  trap - EXIT
  changed=1
fi

# ---- 4. server --------------------------------------------------------------------------------
if [[ $RELOAD -eq 0 ]]; then
  log "--no-reload: NFS server left alone"
  exit 0
fi
if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
  if ! systemctl is-active --quiet nfs-server; then
    log "starting nfs-server"
    run systemctl enable --now nfs-server
  fi
else
  echo "$PROG: warning: no systemd here; make sure the kernel NFS server (nfsd) runs" >&2
fi
log "exportfs -ra"
run exportfs -ra || die "exportfs -ra failed; check $EXPORTS (the line for $DIR: $LINE)"
[[ $DRY -eq 1 ]] && exit 0

live=$(exportfs -v 2>/dev/null | tr -s ' \t\n' ' ' || true)
[[ $live == *"$DIR "* ]] || die "exportfs -v does not list $DIR after exportfs -ra: $live"
if [[ -r /proc/fs/nfsd/versions ]]; then
  versions=$(cat /proc/fs/nfsd/versions)
  [[ $versions == *+4.1* ]] || die "the NFS server does not offer NFS 4.1 ($versions); set vers4.1=y in the [nfsd] section of /etc/nfs.conf and restart nfs-server"
fi
log "exported $DIR to ${CLIENTS[*]} as $UID_:$GID_ (changed: $([[ $changed -eq 1 ]] && echo yes || echo no))"
