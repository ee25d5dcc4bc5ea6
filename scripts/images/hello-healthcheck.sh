#!/bin/sh
# The container HEALTHCHECK of a hello instance: asks the instance's own
# grpc.health.v1 service whether hello.HelloService is SERVING, with a static
# Go binary (grpc-health-probe) rather than a Node process per check. Over
# mutual TLS when the instance serves TLS, showing the instance's own
# certificate (it carries client use too) and checking the server's against
# the service's name, not an address.
set -- -addr="127.0.0.1:${PORT:-50051}" -service=hello.HelloService -connect-timeout=2s -rpc-timeout=2s
if [ -n "${TLS_CA_FILE:-}" ]; then
  set -- "$@" -tls -tls-ca-cert="$TLS_CA_FILE" -tls-client-cert="$TLS_CERT_FILE" -tls-client-key="$TLS_KEY_FILE" \
    -tls-server-name="${TLS_SERVER_NAME:-${SERVICE_NAME:-HelloService}}"
fi
exec /usr/local/bin/grpc_health_probe "$@"
