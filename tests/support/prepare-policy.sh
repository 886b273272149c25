#!/usr/bin/env bash
# Prepares what the toolchain tests compile against, in OUT_DIR:
#   modules/*.cil      every module of Debian's default policy as CIL
#   container/container.pp, container.cil
#                      the reference policy's container module (container_t,
#                      container_domain, container_net_domain), which Debian
#                      does not ship built
#   fedora_attrs.cil   a module declaring Fedora container-selinux's
#                      svirt_sandbox_domain and sandbox_net_domain, to model a
#                      Fedora node
set -euo pipefail
out=$1
mkdir -p "$out/modules" "$out/container"
for f in /usr/share/selinux/default/*.pp.bz2; do
    n=$(basename "$f" .pp.bz2)
    bzcat "$f" | /usr/libexec/selinux/hll/pp > "$out/modules/$n.cil"
done
tar --zstd -xf /usr/src/selinux-policy-src.tar.zst -C "$out/container" --strip-components=4 \
    selinux-policy-src/policy/modules/services/container.te \
    selinux-policy-src/policy/modules/services/container.fc
(cd "$out/container" && make -s -f /usr/share/selinux/devel/Makefile container.pp > make.log 2>&1)
/usr/libexec/selinux/hll/pp < "$out/container/container.pp" > "$out/container.cil"
cat > "$out/fedora_attrs.cil" <<'CIL'
; What Fedora's container-selinux adds that Debian lacks, for the tests: the
; two container attributes, each used by a rule (as container-selinux does)
; and kept unexpanded, so they stay in the binary policy where seinfo shows
; them even with a single member.
(typeattribute svirt_sandbox_domain)
(typeattribute sandbox_net_domain)
(expandtypeattribute (svirt_sandbox_domain sandbox_net_domain) false)
(allow svirt_sandbox_domain self (process (getattr)))
(allow sandbox_net_domain self (process (getattr)))
CIL
touch "$out/ready"
