#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes a local Node base image from this machine's own `node`, for machines that cannot pull
# from any image registry. The image holds only the node binary, the shared libraries `ldd`
# lists for it, and an /etc/passwd naming the unprivileged user the hmx image runs as: no
# shell, no package manager. Usage: deploy/docker/make-base-image.sh [IMAGE] (default
# hmx-node-base:local). Then build hmx with --build-arg NODE_BASE=hmx-node-base:local.
set -euo pipefail
image="${1:-hmx-node-base:local}"
node_bin="$(command -v node)"
node_bin="$(readlink -f "$node_bin")"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/usr/bin" "$root/etc" "$root/tmp"
chmod 1777 "$root/tmp"
# node at /usr/bin/node, and every library it links against at the same path.
# shellcheck source=copy-with-libs.sh
. "$(dirname "$0")/copy-with-libs.sh"
copy_with_libs "$root" "$node_bin" /usr/bin/node
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
hmx:x:10001:10001:hmx:/app:/sbin/nologin
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
hmx:x:10001:
GROUP

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --message "hmx local node base from $("$node_bin" --version)" \
  - "$image" >/dev/null
echo "built $image ($("$node_bin" --version), $(du -sh "$root" | cut -f1))"
