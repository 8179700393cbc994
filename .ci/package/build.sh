#!/usr/bin/env bash
# Builds mastership's .deb (issue 18) and checks it without installing it:
# the binary, man pages and completions are built into a staging
# directory, tools/package (nfpm's library, in its own module) makes the
# .deb, dpkg -x unpacks it into a throwaway root, and that root's
# mastership --version runs, its file list is compared with the expected
# one, and its unit goes through systemd-analyze verify where that works.
# Nothing is installed on the machine; everything lives under one temp dir.
#
#   .ci/package/build.sh            build and check; the .deb is removed
#   .ci/package/build.sh OUTDIR     ... and keep the .deb in OUTDIR
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
keep="${1:-}"
work=$(mktemp -d "${TMPDIR:-/tmp}/mastership-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage root=$work/root
mkdir -p "$stage" "$root"

# Debian versions must start with a digit: a tag v1.2.3 gives 1.2.3,
# an untagged tree 0.0.0~git<commit date>.<short commit>.
if tag=$(git describe --tags --exact-match 2>/dev/null); then
  version=${tag#v}
else
  version="0.0.0~git$(git log -1 --format=%cd --date=format:%Y%m%d).$(git rev-parse --short HEAD)"
fi
arch=$(go env GOARCH)
# Man page dates and the package's timestamps follow the commit, so two
# builds of one commit give the same pages.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"

t0=$(date +%s)
echo "-- building the binary"
CGO_ENABLED=0 go build -trimpath -o "$stage/mastership" ./cmd/mastership
echo "-- man pages and completions (mastership generate-docs)"
"$stage/mastership" generate-docs --man "$stage/man" --completions "$stage/completions"
gzip -9n "$stage"/man/*.1

echo "-- the .deb (nfpm, tools/package)"
# nfpm comes from the Go module proxy into the tools module only: -mod=mod
# there overrides the -mod=readonly .ci/run sets for the product.
(cd tools/package && GOFLAGS=-mod=mod go build -o "$work/package" .)
deb=$work/mastership_${version}_${arch}.deb
MASTERSHIP_STAGE=$stage MASTERSHIP_VERSION=$version MASTERSHIP_ARCH=$arch \
  "$work/package" -config tools/package/nfpm.yaml -target "$deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'

echo "-- unpacked into a throwaway root"
dpkg-deb -x "$deb" "$root"
out=$("$root/usr/bin/mastership" --version)
echo "$out"
case "$out" in
  "mastership "*) ;;
  *) echo "FAIL: the packaged mastership --version printed: $out" >&2; exit 1 ;;
esac

echo "-- file list"
# Fixed files, plus one man page per command generate-docs wrote (so a new
# command needs no edit here); the main pages must be among them.
for page in mastership.1.gz mastership-run.1.gz mastership-check.1.gz; do
  [ -f "$stage/man/$page" ] || { echo "FAIL: no man page $page" >&2; exit 1; }
done
{
  printf '%s\n' \
    ./usr/bin/mastership \
    ./lib/systemd/system/mastership.service \
    ./etc/mastership/devices.example.yaml \
    ./usr/share/mastership/icinga2/mastership.conf \
    ./usr/share/bash-completion/completions/mastership \
    ./usr/share/zsh/vendor-completions/_mastership \
    ./usr/share/fish/vendor_completions.d/mastership.fish
  for f in "$stage"/man/*.1.gz; do echo "./usr/share/man/man1/${f##*/}"; done
} | sort >"$work/want"
(cd "$root" && find . -type f -o -type l) | sort >"$work/got"
if ! diff -u "$work/want" "$work/got"; then
  echo "FAIL: the package's files differ from the expected list (- expected, + in the package)" >&2
  exit 1
fi
cat "$work/got"
# The Icinga CheckCommand and the example inventory are the repository's.
cmp "$root/usr/share/mastership/icinga2/mastership.conf" deploy/icinga2/mastership.conf
cmp "$root/etc/mastership/devices.example.yaml" devices.example.yaml
dpkg-deb --ctrl-tarfile "$deb" | tar -tf - | grep -qx './conffiles' || {
  echo "FAIL: no conffiles in the package (devices.example.yaml must be one)" >&2; exit 1; }

echo "-- systemd-analyze verify"
unit=$root/lib/systemd/system/mastership.service
grep -q '^ExecStart=/usr/bin/mastership ' "$unit" || {
  echo "FAIL: the packaged unit does not start /usr/bin/mastership" >&2; exit 1; }
if ! command -v systemd-analyze >/dev/null 2>&1 || ! systemd-analyze --version >/dev/null 2>&1; then
  echo "skipped: no working systemd-analyze on this machine"
else
  # --root on the unpacked tree fails in a container (no sysinit.target,
  # no /bin/kill there), so a copy of the unit is verified against this
  # machine with ExecStart pointing at the unpacked binary. Bad lines are
  # only warnings to systemd-analyze (exit 0): any output fails the check.
  mkdir -p "$work/units"
  sed "s#/usr/bin/mastership#$root/usr/bin/mastership#" "$unit" >"$work/units/mastership.service"
  if log=$(systemd-analyze verify "$work/units/mastership.service" 2>&1) && [ -z "$log" ]; then
    echo "ok: systemd-analyze verify has no complaints"
  else
    echo "$log" >&2
    echo "FAIL: systemd-analyze verify rejects mastership.service" >&2
    exit 1
  fi
fi

if [ -n "$keep" ]; then
  mkdir -p "$keep" && cp "$deb" "$keep/" && echo "kept: $keep/${deb##*/}"
fi
echo "ok: ${deb##*/} built and checked in $(( $(date +%s) - t0 ))s"
