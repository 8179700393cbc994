#!/usr/bin/env bash
# Installs the third-party NETCONF software the interop tests run against:
#   - netconfd (yuma123) behind OpenSSH's sshd, for netconf/interop_netconfd_test.go
#   - python3-ncclient, for devices/junos/junossim/interop_ncclient_test.go
# Idempotent and quiet (silent when everything is already there). It fails
# soft: when the packages cannot be installed (no root, no apt, no network)
# it says so on stderr and exits 0, and the interop tests then skip. With
# MASTERSHIP_REQUIRE_INTEROP=1 it exits 1 instead, as the tests then fail.
#
# Services are never started: sshd and netconfd are run by the tests
# themselves, on loopback, with their own configuration in a temp dir.
set -u

pkgs=(netconfd openssh-server python3-ncclient)

have_all() {
  [ -x /usr/sbin/netconfd ] && [ -x /usr/sbin/netconf-subsystem ] &&
    [ -x /usr/sbin/sshd ] && /usr/bin/python3 -c 'import ncclient' >/dev/null 2>&1
}

if have_all; then
  exit 0
fi

soft_fail() {
  if [ "${MASTERSHIP_REQUIRE_INTEROP:-}" = 1 ]; then
    echo "interop: $* (MASTERSHIP_REQUIRE_INTEROP=1)" >&2
    exit 1
  fi
  echo "interop: $* -- the interop tests will skip" >&2
  exit 0
}

command -v apt-get >/dev/null 2>&1 || soft_fail "apt-get not found; install ${pkgs[*]} by hand"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    soft_fail "not root and no passwordless sudo; install ${pkgs[*]} by hand"
  fi
fi

# Keep maintainer scripts from starting sshd/netconfd system services: when no
# policy-rc.d exists, put one in place for the duration of the install.
policy=/usr/sbin/policy-rc.d
added_policy=""
if [ ! -e "$policy" ]; then
  if $sudo sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"; then
    added_policy=1
  fi
fi
cleanup() { if [ -n "$added_policy" ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get update -qq >/dev/null 2>&1; then
  soft_fail "apt-get update failed"
fi
if ! $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1; then
  soft_fail "apt-get install ${pkgs[*]} failed"
fi
have_all || soft_fail "packages installed but a binary or the ncclient module is still missing"
echo "interop: installed ${pkgs[*]}"
