#!/usr/bin/env bash
# Installs what make bench needs beyond make test: the C toolchain and
# libwebsockets-dev for the libwebsockets (C) echo server of the benchmarks
# (without them the C server is left out).
exec "$(dirname "$0")/apt-install.sh" install-bench gcc pkg-config libwebsockets-dev
