#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds hmx on the host and stages what the image needs in deploy/docker/.stage/app: compiled
# JavaScript (no tests), the .proto files, and production-only node_modules — plus the empty
# directories the containers write to (a shell-less base cannot mkdir them). The Dockerfile then
# only COPYs, so it works on the official Node image and on a shell-less local base alike.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=deploy/docker/.stage
stage="$root/app"
rm -rf "$root"
mkdir -p "$stage" "$root/run/hmx" "$root/var/lib/hmx"
# A placeholder in each: some build-context packers (testcontainers') drop empty directories.
touch "$root/run/hmx/.keep" "$root/var/lib/hmx/.keep"

echo "stage: building TypeScript"
npx tsc -b

cp package.json package-lock.json "$stage/"
# npm ci needs every workspace's package.json; only the runtime packages carry code.
for ws in proto client virtio hypervisor guest-agent cli testkit bench tests; do
  mkdir -p "$stage/$ws"
  cp "$ws/package.json" "$stage/$ws/"
done
for ws in proto client virtio hypervisor guest-agent cli; do
  cp -r "$ws/dist" "$stage/$ws/dist"
done
cp -r proto/hmx "$stage/proto/hmx"
cp -r cli/bin "$stage/cli/bin"
cp deploy/docker/healthcheck.mjs "$stage/healthcheck.mjs"
find "$stage" \( -name '*.test.js' -o -name '*.test.js.map' -o -name '*.test.d.ts' -o -name '*.tsbuildinfo' \) -delete
find "$stage" -type d -name test-utils -prune -exec rm -rf {} +

echo "stage: installing production dependencies"
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
echo "stage: $(du -sh "$root" | cut -f1) in $root"
