# SPDX-License-Identifier: Apache-2.0
# Sourced by the image scripts: copy_with_libs ROOT BINARY [DEST] copies BINARY (symlinks
# resolved) to ROOT/DEST (default: its own path) and every shared library `ldd` lists for it,
# plus the dynamic loader, at the same paths under ROOT — what a registry-free image needs to
# run a host program with no package manager inside.
copy_with_libs() {
  local root="$1" bin dest
  bin="$(readlink -f "$2")"
  dest="${3:-$2}"
  mkdir -p "$root$(dirname "$dest")"
  cp "$bin" "$root$dest"
  ldd "$bin" | awk '/=>/ { print $3; next } $1 ~ /^\// { print $1 }' | sort -u | while read -r lib; do
    [ -f "$lib" ] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}
