#!/bin/sh
set -f
fail() { echo "error: $*" >&2; exit 1; }
root=/
cachedir=/var/cache/yum
boolean() {
  case "${1#*=}" in 0|1) ;; *) fail "Invalid boolean value \"${1#*=}\" in: $1" ;; esac
}
setopt() {
  case "$1" in *=*) ;; *) fail "Missing value in: $1" ;; esac
  case "${1%%=*}" in
    install_weak_deps|allow_vendor_change|keepcache) boolean "$1" ;;
    cachedir) cachedir="${1#*=}" ;;
    module_platform_id|reposdir|varsdir) ;;
    tsflags) case "${1#*=}" in nodocs|test) ;; *) fail "Unable to handle: $1" ;; esac ;;
    ?*.?*) ;;
    *) fail "Unable to handle: $1" ;;
  esac
}
installroot() {
  case "$1" in /*) root="$1" ;; *) fail "--installroot: Absolute path must be used." ;; esac
}
assume=
words=
copts=
while [ $# -gt 0 ]; do
  a="$1"
  shift
  case "$a" in
    -y|--assumeyes) assume=yes ;;
    --assumeno) assume=no ;;
    --best|--nobest|--nodocs|--noplugins|--refresh) ;;
    --config=*|--disablerepo=*|--enablerepo=*|--disableplugin=*|--enableplugin=*|--releasever=*) ;;
    --installroot=*) installroot "${a#*=}" ;;
    --setopt=*) setopt "${a#*=}" ;;
    --config|--disablerepo|--enablerepo|--disableplugin|--enableplugin|--releasever|--installroot|--setopt)
      [ $# -gt 0 ] || fail "Missing argument for $a"
      case "$a" in --setopt) setopt "$1" ;; --installroot) installroot "$1" ;; esac
      shift ;;
    -*) copts="$copts $a" ;;
    *) words="$words $a" ;;
  esac
done
set -- $words
[ $# -gt 0 ] || fail "No command specified"
cmd="$1"
shift
case "$cmd" in
  install|reinstall|remove|upgrade|update|distro-sync|dsync|clean|makecache) ;;
  repolist|repoquery|download|module) ;;
  *)
    echo "This is microdnf, which implements subset of \`dnf'."
    fail "Unknown command: '$cmd'" ;;
esac
case "$cmd" in
  repolist) allowed="--all --enabled --disabled" ;;
  repoquery) allowed="--available --installed --info --nevra" ;;
  download) allowed="--resolve --alldeps --source --archlist=*" ;;
  *) allowed= ;;
esac
for o in $copts; do
  ok=
  for p in $allowed; do
    case "$o" in $p) ok=1 ;; esac
  done
  [ -n "$ok" ] || fail "Unknown option $o"
done
confirm() {
  # No -y: microdnf asks, and a build has no terminal to answer.
  [ "$assume" = yes ] && return 0
  echo "Is this ok [y/N]: "
  echo "Operation aborted." >&2
  exit 1
}
packages() {
  [ $# -gt 0 ] || fail "Packages are not specified"
  for p in "$@"; do
    case "$p" in */*|*.rpm|@*|*://*) fail "No package matches '$p'" ;; esac
  done
}
db="${root%/}/var/lib/microdnf-standin/installed"
case "$cmd" in
  install|reinstall)
    packages "$@"
    confirm
    mkdir -p "$db" "$cachedir/metadata" || exit 1
    for p in "$@"; do
      echo "$p" > "$db/$p" && echo "repo metadata for $p" > "$cachedir/metadata/$p" || exit 1
      echo "Installing: $p (stand-in)"
    done ;;
  remove)
    packages "$@"
    confirm
    for p in "$@"; do
      [ -f "$db/$p" ] || fail "No package matches '$p'"
      rm -f "$db/$p"
    done ;;
  upgrade|update|distro-sync|dsync) confirm ;;
  clean)
    [ $# -gt 0 ] || fail "Clean requires argument: all"
    [ "$1" = all ] || fail "Invalid clean argument: '$1'"
    rm -rf "$cachedir/metadata" && mkdir -p "$cachedir/metadata" ;;
  makecache) mkdir -p "$cachedir/metadata" && echo repomd > "$cachedir/metadata/repomd.xml" ;;
  repolist|repoquery|download) ;;
  module)
    case "${1:-}" in
      enable|disable|reset) ;;
      *) fail "Unknown command: 'module ${1:-}'" ;;
    esac ;;
esac
