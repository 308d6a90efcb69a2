#!/usr/bin/env bash
# `make engine`: build the real Pulumi CLI at the version pinned in go.mod from the Go module proxy
# into a cache outside the repository, once per machine (docs/engine.md). Later runs find it there
# and return at once. Prints the directory holding `pulumi` on its last line.
#
#   KMSGUARD_ENGINE_HOME   the cache (default: ${XDG_CACHE_HOME:-~/.cache}/kmsguard-engine)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's|^[[:space:]]*github.com/pulumi/pulumi/pkg/v3 \(v[0-9.]*\).*$|\1|p' "$here/go.mod")"
if [ -z "$version" ]; then
  echo "build.sh: no github.com/pulumi/pulumi/pkg/v3 version in $here/go.mod" >&2
  exit 2
fi
home="${KMSGUARD_ENGINE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/kmsguard-engine}"
bin="$home/$version/bin"
exec_script=pulumi-language-python-exec
if [ -x "$bin/pulumi" ] && [ -f "$bin/$exec_script" ] && [ "$("$bin/pulumi" version 2>/dev/null)" = "$version" ]; then
  echo "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: the Go toolchain is needed to build the Pulumi CLI (go 1.24 or newer)" >&2
  exit 2
fi
mkdir -p "$bin"
began=$(date +%s)
cd "$here"
# -mod=readonly: go.sum is committed; a module the proxy no longer serves fails here, by name.
CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
  -o "$bin/" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
# The script the Python language host runs programs through; it is in the sdk/v3 module, not in the
# pulumi wheel. kmsguard's language host (kmsguard/engine/pulumi_cli/langhost) runs it like Pulumi's.
sdk_dir="$(go list -mod=readonly -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
install -m 0644 "$sdk_dir/python/cmd/$exec_script" "$bin/$exec_script"
echo "build.sh: built pulumi $version in $(( $(date +%s) - began )) s" >&2
echo "$bin"
