#!/usr/bin/env bash
# Installs the real peers the tests of make test talk to (Debian packages):
# libwebsockets' C test apps, Python websockets, Node ws, Chromium, and
# prlimit (util-linux).
exec "$(dirname "$0")/apt-install.sh" install-peers \
  libwebsockets-test-server python3-websockets node-ws nodejs chromium util-linux
