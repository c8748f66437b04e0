#!/usr/bin/env bash
# Page benchmark: the farmer app's page weights (gzip bytes of each first view) and the
# catalog (/find) and product (/p/{id}) pages rendered by the server, next to the GraphQL
# catalog query, at 32 connections with wrk. Loopback only, bounded (10 s a run).
#
#   cargo build --release -p nongzi && tests/bench/pages.sh            # SQLite (embedded default)
#   PG=postgres://postgres@127.0.0.1:5432/test tests/bench/pages.sh    # a fresh PostgreSQL database
#
# Needs wrk (Debian package `wrk`) and curl. Prints a table; changes nothing outside a temp dir
# (and, with PG, one database it creates and drops).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${NONGZI_BIN:-target/release/nongzi}
SECS=${SECS:-10}
CONNS=${CONNS:-32}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "$BIN is missing: cargo build --release -p nongzi" >&2; exit 1; }

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
db_name=""
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  if [ -n "$db_name" ]; then psql "$PG" -qc "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)" >/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
if [ -n "${PG:-}" ]; then
  db_name="nongzi_bench_pages_$$"
  psql "$PG" -qc "CREATE DATABASE \"$db_name\"" >/dev/null
  export DATABASE_URL="${PG%/*}/$db_name"
  export NONGZI_JWT_SECRET=bench-secret-bench-secret-bench-secret
  backend="PostgreSQL"
else
  unset DATABASE_URL
  backend="SQLite"
fi
# The sign-in limit would stop the benchmark's own sign-ins; nothing else is changed.
(cd "$dir" && exec "$OLDPWD/$BIN" serve --demo --bind "127.0.0.1:$port" >"$dir/server.log" 2>&1) &
pid=$!
B="http://127.0.0.1:$port"
for _ in $(seq 1 60); do curl -sf "$B/healthz" >/dev/null && break; sleep 0.5; done

# Sign in as the demo farmer through the sign-in page.
jar="$dir/jar"
csrf=$(curl -s -c "$jar" -b "$jar" "$B/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
curl -s -c "$jar" -b "$jar" -o /dev/null -X POST "$B/login" \
  --data-urlencode "csrf=$csrf" --data-urlencode phone=13800000006 --data-urlencode password=demo-farmer-2026
cookie=$(awk '$6=="nz_session"{print "nz_session="$7}' "$jar")
[ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }
pid_p=$(curl -s -H "Cookie: $cookie" "$B/find?q=%E7%A8%BB%E9%A3%9E%E8%99%B1" | grep -o 'href="/p/[0-9]*"' | head -1 | grep -o '[0-9]*')
field=$(curl -s -H "Cookie: $cookie" "$B/fields" | grep -o 'href="/fields/[0-9]*"' | head -1 | grep -o '[0-9]*' || true)

echo "== $backend, $(nproc) cores, release build, load generator on the same cores"
echo
echo "page weight: gzip bytes of the first view (HTML with its CSS inlined; the script loads deferred)"
printf '  %-26s %8s %8s\n' page gzip raw
weigh() { # page, cookie
  local gz raw
  gz=$(curl -s -H "Cookie: $2" -H 'Accept-Encoding: gzip' "$B$1" | wc -c)
  raw=$(curl -s -H "Cookie: $2" "$B$1" | wc -c)
  printf '  %-26s %8s %8s\n' "$1" "$gz" "$raw"
}
for p in / /find "/find?q=%E7%A8%BB%E9%A3%9E%E8%99%B1" "/p/$pid_p" /cart /orders /fields ${field:+/fields/$field} /me /scan /offline; do
  weigh "$p" "$cookie"
done
for p in /login /signup; do weigh "$p" ""; done  # signed out
js=$(curl -s "$B/" -H "Cookie: $cookie" | grep -o '/assets/app\.[0-9a-f]*\.js' | head -1)
printf '  %-26s %8s %8s\n' "$js (deferred)" "$(curl -s -H 'Accept-Encoding: gzip' "$B$js" | wc -c)" "$(curl -s "$B$js" | wc -c)"
echo

cat >"$dir/gql.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query":"{ products(first: 20) { edges { node { name registrationNo producer { name } skus { label offers { price dealer { name } } } } } } }"}'
LUA
run() { # label, wrk args...
  local label=$1; shift
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$@" 2>&1)
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/{print $NF}' <<<"$out")
  printf '  %-44s %10s %9s %9s %s\n' "$label" "$rps" "$p50" "$p99" "${non2xx:+(non-2xx: $non2xx)}"
}
echo "throughput at $CONNS connections, ${SECS} s each (wrk -t2)"
printf '  %-44s %10s %9s %9s\n' what req/s p50 p99
run "page /find (catalog, 20 products, signed in)" -H "Cookie: $cookie" -H 'Accept-Encoding: gzip' "$B/find"
run "page /p/$pid_p (product, signed in)" -H "Cookie: $cookie" -H 'Accept-Encoding: gzip' "$B/p/$pid_p"
run "GraphQL products(first: 20) + packs, offers" -s "$dir/gql.lua" "$B/graphql"
echo
echo "(the public trace page is rate limited per client address, so it is not measured here)"
