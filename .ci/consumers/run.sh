#!/usr/bin/env bash
# One consumer test: a copy of .ci/consumers/<app> installs the packed library with a plain
# `npm install <tarball>` (its other dependencies from its committed lockfile), type-checks with
# skipLibCheck: false, builds, boots, and answers check.mjs's requests. With
# npm_config_better_sqlite3_local_prebuilds set (.ci/run sets it), better-sqlite3's install uses the addon
# another install on the same Node already built, instead of compiling SQLite again.
#
#   bash .ci/consumers/run.sh <app> <tarball> <work dir> <report.json>
set -uo pipefail
app="$1" tarball="$2" work="$3" report="$4"
here="$(cd "$(dirname "$0")" && pwd)"
dir="$work/$app"
rm -rf "$dir" && mkdir -p "$dir"
(cd "$here/$app" && tar cf - --exclude=node_modules --exclude=dist --exclude='*.tsbuildinfo' .) | (cd "$dir" && tar xf -)
cd "$dir" || exit 1
fail() { echo "consumer $app: $1"; exit 1; }
echo "consumer $app: npm install $(basename "$tarball") on Node $(node --version)"
npm install --no-audit --no-fund --loglevel=error "$tarball" || fail "npm install failed"
# One compile both type-checks (every source file, and every .d.ts it reaches, ours included) and builds:
# tsconfig.build.json compiles the same files as tsconfig.json (src/).
echo "consumer $app: type check and build (skipLibCheck: false)"
npx tsc -p tsconfig.build.json --skipLibCheck false || fail "type check or build failed"
node "$here/check.mjs" "$dir" "$report"
