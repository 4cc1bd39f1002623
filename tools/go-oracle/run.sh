#!/bin/sh
# Regenerates test/templates/golden.jsonl from test/templates/corpus.jsonl with the
# real Go text/template + Sprig. Needs only Debian packages, no network:
#   apt-get install -y golang-go golang-github-masterminds-sprig-dev
# The build uses GOPATH mode against /usr/share/gocode, where Debian installs
# Go library sources (no module proxy, no vendoring).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus=${1:-$root/test/templates/corpus.jsonl}
golden=${2:-$root/test/templates/golden.jsonl}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/go-oracle"
cp "$here/main.go" "$work/src/go-oracle/main.go"
export GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local
export GOPATH="$work:/usr/share/gocode" GOCACHE="$work/cache"
(cd "$work/src/go-oracle" && go build -o "$work/go-oracle" .)
"$work/go-oracle" < "$corpus" > "$golden.tmp"
mv "$golden.tmp" "$golden"
echo "wrote $(wc -l < "$golden") goldens to $golden ($(go version))"
