#!/usr/bin/env bash
# Fetches Debian's kernel for the VM tests into OUT (no install): the
# package that linux-image-amd64 depends on, unpacked with dpkg -x.
#   OUT/vmlinuz   the kernel
#   OUT/tun.ko    its tun module
#   OUT/version   the package it came from
set -euo pipefail
out=$1
mkdir -p "$out"
cd "$out"
package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(package)
if [ -z "$pkg" ]; then
    apt-get update -qq
    pkg=$(package)
fi
[ -n "$pkg" ] || { echo "no package behind linux-image-amd64" >&2; exit 1; }
if [ -f version ] && [ "$(cat version)" = "$pkg" ] && [ -f vmlinuz ] && [ -f tun.ko ]; then
    exit 0
fi
rm -rf deb root ./*.deb
# A stale package list names a version the mirror no longer has.
if ! apt-get download -q "$pkg" > download.log 2>&1; then
    apt-get update -qq
    apt-get download -q "$pkg"
fi
dpkg -x ./"$pkg"_*.deb root
cp root/boot/vmlinuz-* vmlinuz
find root/lib/modules -name tun.ko -exec cp {} tun.ko \;
[ -f tun.ko ] || { echo "no tun.ko in $pkg" >&2; exit 1; }
rm -rf root ./*.deb download.log
echo "$pkg" > version
