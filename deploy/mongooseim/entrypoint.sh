#!/bin/sh
# Starts the mongooseim image with the cookie from the compose secret and a
# config whose built-in system metrics service does not report (mim-metrics
# reports instead, so reports are not doubled).
set -eu
cookie=$(cat /run/secrets/erlang_cookie)
mkdir -p /member
sed "s/@ERLANG_COOKIE@/${cookie}/" /deploy/vm.args > /member/vm.args
cp /deploy/mongooseim.toml /member/mongooseim.toml
exec /start.sh "$@"
