#!/bin/sh
# The gateway container's command: each /etc/nginx/templates/*.template rendered into conf.d/
# with the variables of the environment (only those: nginx's own $variables stay), as the
# official nginx image's entrypoint does, then nginx in the foreground.
set -eu
# GATEWAY_TRUSTED_PROXIES (addresses or networks, separated by spaces or commas) becomes the
# template's set_real_ip_from lines, as devstack/gateway.py renders them.
GATEWAY_REAL_IP_FROM=""
for proxy in $(printf '%s' "${GATEWAY_TRUSTED_PROXIES:-}" | tr ',' ' '); do
  GATEWAY_REAL_IP_FROM="${GATEWAY_REAL_IP_FROM}set_real_ip_from ${proxy}; "
done
export GATEWAY_REAL_IP_FROM
variables=$(env | cut -d= -f1 | sed 's/.*/${&}/' | tr '\n' ' ')
for template in /etc/nginx/templates/*.template; do
  name=$(basename "$template" .template)
  envsubst "$variables" <"$template" >"/etc/nginx/conf.d/$name.conf"
done
exec nginx -g 'daemon off;'
