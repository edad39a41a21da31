#!/bin/sh
# The gateway container's command: each /etc/nginx/templates/*.template rendered into conf.d/
# with the variables of the environment (only those: nginx's own $variables stay), as the
# official nginx image's entrypoint does, then nginx in the foreground.
set -eu
variables=$(env | cut -d= -f1 | sed 's/.*/${&}/' | tr '\n' ' ')
for template in /etc/nginx/templates/*.template; do
  name=$(basename "$template" .template)
  envsubst "$variables" <"$template" >"/etc/nginx/conf.d/$name.conf"
done
exec nginx -g 'daemon off;'
