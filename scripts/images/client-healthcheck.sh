#!/bin/bash
# The container HEALTHCHECK of the client: GET /healthz on its stats port with
# bash's own /dev/tcp, so a check starts no Node process (the image has
# neither curl nor wget, and its build has no network to add one).
exec 3<>"/dev/tcp/127.0.0.1/${STATS_PORT:-9464}" || exit 1
printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
IFS= read -r -t 2 status <&3 || status='no answer within 2 s'
case "$status" in
  'HTTP/1.1 200'*) exit 0 ;;
  *) echo "client /healthz: $status"; exit 1 ;;
esac
