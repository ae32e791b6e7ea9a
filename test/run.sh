#!/usr/bin/env bash
# The test command: installs what the tests need (Debian's Erlang/OTP and
# ejabberd) when missing, then runs every test. Usage: ./test/run.sh [go test flags]
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v erl >/dev/null 2>&1 || missing+=(erlang-base)
command -v erlc >/dev/null 2>&1 || missing+=(erlang-base)
[ -x /usr/sbin/ejabberdctl ] || command -v ejabberdctl >/dev/null 2>&1 || missing+=(ejabberd)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian starts ejabberd as a service where it can; the tests run their own.
  $SUDO service ejabberd stop >/dev/null 2>&1 || true
fi

go vet ./...
go test -count=1 -timeout 20m "$@" ./...
