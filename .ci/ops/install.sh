#!/usr/bin/env bash
# Installs the operators' tools the tests check the agent against, from
# Debian's packages: promtool (prometheus), Alertmanager and amtool
# (prometheus-alertmanager) and Icinga 2 (icinga2). They are required:
# a missing one fails CI rather than letting its tests skip.
#
# Services are never started: Debian's postinst scripts would start the
# Prometheus server, Alertmanager and Icinga on the CI machine, so
# invoke-rc.d is told not to (policy-rc.d exit 101) while installing; the
# tests run each program themselves, on loopback, with their own files.
set -euo pipefail

have_all() {
  command -v promtool >/dev/null 2>&1 &&
    command -v prometheus-alertmanager >/dev/null 2>&1 &&
    command -v amtool >/dev/null 2>&1 &&
    command -v icinga2 >/dev/null 2>&1
}

if ! have_all; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  policy=/usr/sbin/policy-rc.d
  made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    made_policy=1
  fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    prometheus prometheus-alertmanager icinga2 >/dev/null
  [ -z "$made_policy" ] || $sudo rm -f "$policy"
fi

if ! have_all; then
  echo "ops tools: promtool, prometheus-alertmanager, amtool or icinga2 still missing after install" >&2
  exit 1
fi
echo "promtool: $(promtool --version 2>&1 | head -1)"
echo "alertmanager: $(prometheus-alertmanager --version 2>&1 | head -1)"
echo "icinga2: $(icinga2 --version 2>&1 | head -1)"
