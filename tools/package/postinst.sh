#!/bin/sh
# postinst of mastership's .deb: the system user the unit runs as, and
# the configuration directory it reads. The service is not enabled or
# started: it needs /etc/mastership/devices.yaml first (docs/install.md).
set -e
if [ "$1" = "configure" ]; then
  if ! getent passwd mastership >/dev/null; then
    adduser --system --group --home /var/lib/mastership --no-create-home \
      --shell /usr/sbin/nologin mastership
  fi
  install -d -o root -g mastership -m 0750 /etc/mastership
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
  fi
fi
exit 0
