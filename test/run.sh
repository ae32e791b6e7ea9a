#!/usr/bin/env bash
# The test command: installs what the tests need (Debian's Erlang/OTP and
# ejabberd) when missing, then runs every test. Usage: ./test/run.sh [go test flags]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: erl, erlc and epmd; mnesia and crypto for
# the fixtures; ssl and public_key for the nodes of TLS distribution (test/tls);
# a real ejabberd; PostgreSQL's server (test/pgtest runs its own); chromium for
# the dashboard's browser tests; prometheus for promtool (the alerting rules'
# check).
missing=()
for pkg in erlang-base erlang-mnesia erlang-crypto erlang-ssl erlang-public-key ejabberd postgresql chromium prometheus; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian starts ejabberd as a service where it can; the tests run their own.
  $SUDO service ejabberd stop >/dev/null 2>&1 || true
  $SUDO service postgresql stop >/dev/null 2>&1 || true
  $SUDO service prometheus stop >/dev/null 2>&1 || true
fi

go vet ./...
go test -count=1 -timeout 20m "$@" ./...
