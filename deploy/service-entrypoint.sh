#!/bin/sh
# Entry point of the Hearth image: runs the service HEARTH_SERVICE names
# (api, placement, instance-manager, router, agent or scaler).
#
# `exec` replaces this shell with node, so the SIGTERM of `docker stop` reaches the
# service's own handler (health NOT_SERVING, drain in-flight calls, exit 0) instead of
# a shell that would not pass it on. Node flags go in NODE_OPTIONS.
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
main="$root/services/${HEARTH_SERVICE:-}/dist/main.js"

if [ -z "${HEARTH_SERVICE:-}" ] || [ ! -f "$main" ]; then
  echo "service-entrypoint: HEARTH_SERVICE='${HEARTH_SERVICE:-}' is not one of: $(ls "$root/services" | tr '\n' ' ')" >&2
  exit 1
fi

exec node "$main"
