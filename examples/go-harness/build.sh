#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the Go example harness from hmx's .proto files with Debian's Go toolchain, offline:
#   apt-get install golang-go golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev \
#     protoc-gen-go protoc-gen-go-grpc protobuf-compiler
#   examples/go-harness/build.sh /tmp/go-harness        # writes the binary there
# The stubs are generated into a throwaway GOPATH (GOPATH mode: Debian's Go libraries live in
# /usr/share/gocode), with import paths set by -M flags so the .proto files need no go_package.
set -eu
out=${1:?usage: build.sh OUTPUT_BINARY}
case $out in /*) ;; *) out="$PWD/$out" ;; esac
here=$(cd "$(dirname "$0")" && pwd)
protos=$(cd "$here/../../proto" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/hmx/harness"
maps="Mhmx/argo/v1/hypervisor.proto=hmx/gen/argov1,Mhmx/toolstack/v1/toolstack.proto=hmx/gen/toolstackv1"
protoc -I "$protos" --go_out="$maps:$work/src" --go-grpc_out="$maps:$work/src" \
  hmx/argo/v1/hypervisor.proto hmx/toolstack/v1/toolstack.proto
cp "$here/main.go" "$work/src/hmx/harness/"
cd "$work/src/hmx/harness"
GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOCACHE="${GOCACHE:-$work/cache}" go build -o "$out" .
