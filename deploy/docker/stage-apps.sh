#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Stages the programs of docker-compose.yml's `apps` profile in deploy/docker/.stage-apps, for
# Dockerfile.apps to COPY on top of the hmx image: this host's Debian redis-server, redis-cli
# and curl with the shared libraries they link against (no registry, no package manager in the
# image), the launcher that runs a program beside its tunnel (apps/beside.mjs), and a small
# HTTP server (apps/hello-server.mjs: node is already in the image, and a Debian web server
# would need its configuration and modules staged too). Needs: apt-get install redis-server
# redis-tools curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=deploy/docker/.stage-apps
missing=()
for program in redis-server redis-cli curl; do
  command -v "$program" >/dev/null || missing+=("$program")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "stage-apps: ${missing[*]} not on this host (apt-get install redis-server redis-tools curl)" >&2
  exit 1
fi
rm -rf "$root"
mkdir -p "$root/app/apps"
# shellcheck source=copy-with-libs.sh
. deploy/docker/copy-with-libs.sh
# redis-server is a symlink to redis-check-rdb, which picks its mode from argv[0]: the copy
# keeps the name.
copy_with_libs "$root" "$(command -v redis-server)" /usr/bin/redis-server
copy_with_libs "$root" "$(command -v redis-cli)" /usr/bin/redis-cli
copy_with_libs "$root" "$(command -v curl)" /usr/bin/curl
cp deploy/docker/apps/beside.mjs deploy/docker/apps/hello-server.mjs "$root/app/apps/"
echo "stage-apps: $(du -sh "$root" | cut -f1) in $root"
