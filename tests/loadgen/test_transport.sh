#!/usr/bin/env bash
# loadgen's transport options against a real nginx on loopback, with certificates made here by
# openssl (a CA, a server certificate for localhost, 127.0.0.1 and example.test, a client
# certificate; none is committed): TLS refused without trust, accepted with --cacert or
# --insecure; mutual TLS with --cert/--key; HTTP/2 over TLS by ALPN and cleartext h2c with
# prior knowledge, each named in the summary and the JSON and seen by nginx; streams multiplexed
# over fewer connections; --no-keepalive making one connection per request; --resolve and
# --connect-to reaching a name that has no DNS; a Unix socket on both request paths;
# --connect-timeout ending connects to a listener that never accepts. Then the task mix over
# h2 and TLS through nginx to a taskd, and its audit over the same transport, clean.
# Usage: tests/loadgen/test_transport.sh BUILD_DIR (from the repository root). Prints TAP.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:?usage: tests/loadgen/test_transport.sh BUILD_DIR}
loadgen="$build/bin/loadgen"
TASKD_BIN=${TASKD_BIN:-$build/bin/taskd}
tap_skip_without nginx openssl jq
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)

tap_workdir transport
if [ -n "${KEEP:-}" ]; then tap_keep="# kept"; fi
w=$tap_work

# ---- certificates ----------------------------------------------------------------------------
certs() {
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${ec[@]}" -keyout "$w/ca.key" -out "$w/ca.pem" -days 2 \
        -subj "/CN=taskbench test CA" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign &&
        openssl req "${ec[@]}" -keyout "$w/server.key" -out "$w/server.csr" -subj "/CN=localhost" &&
        printf 'subjectAltName=DNS:localhost,DNS:example.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
            >"$w/server.ext" &&
        openssl x509 -req -in "$w/server.csr" -CA "$w/ca.pem" -CAkey "$w/ca.key" -CAcreateserial \
            -out "$w/server.pem" -days 2 -extfile "$w/server.ext" &&
        openssl req "${ec[@]}" -keyout "$w/client.key" -out "$w/client.csr" -subj "/CN=loadgen" &&
        printf 'extendedKeyUsage=clientAuth\n' >"$w/client.ext" &&
        openssl x509 -req -in "$w/client.csr" -CA "$w/ca.pem" -CAkey "$w/ca.key" -CAcreateserial \
            -out "$w/client.pem" -days 2 -extfile "$w/client.ext"
}
certs >"$w/openssl.out" 2>&1 || tap_bail "openssl could not make the test certificates: $(tail -5 "$w/openssl.out")"

# ---- taskd behind nginx -------------------------------------------------------------------------
tap_start_taskd "$w/taskd" || tap_bail "taskd did not start: $(cat "$w/taskd/taskd.out")"
tls=$(tap_free_port) h2c=$(tap_free_port) plain=$(tap_free_port) h2c_churn=$(tap_free_port)
# Five servers: TLS with h2 (mutual TLS on /mtls, taskd behind /), h2c, h2c that ends each
# connection after 200 requests, plain HTTP/1.1, a Unix socket; each logs what nginx saw.
log="access_log $w/nginx/access.log seen;"
tap_start_nginx "$w/nginx" "http://127.0.0.1:$plain/" <<EOF ||
    log_format seen '\$server_port \$server_protocol \$connection \$connection_requests \$host \$uri \$status';
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$tls ssl http2;
        $log
        ssl_certificate $w/server.pem;
        ssl_certificate_key $w/server.key;
        ssl_client_certificate $w/ca.pem;
        ssl_verify_client optional;
        location = /hello { return 200 "hello\n"; }
        location = /mtls {
            if (\$ssl_client_verify != SUCCESS) { return 403 "no client certificate\n"; }
            return 200 "\$ssl_client_s_dn\n";
        }
        location / { proxy_pass http://127.0.0.1:$TASKD_PORT; }
    }
    server {
        listen 127.0.0.1:$h2c http2;
        $log
        location / { return 200 "h2c\n"; }
    }
    server {
        listen 127.0.0.1:$h2c_churn http2;
        $log
        keepalive_requests 200;
        location / { return 200 "h2c\n"; }
    }
    server {
        listen 127.0.0.1:$plain;
        $log
        location / { return 200 "plain\n"; }
    }
    server {
        listen unix:$w/nginx/nginx.sock;
        location / { return 200 "unix\n"; }
    }
EOF
    tap_bail "nginx did not start: $(cat "$w/nginx/stderr" "$w/nginx/error.log" 2>/dev/null)"
for _ in $(seq 100); do [ -S "$w/nginx/nginx.sock" ] && break; sleep 0.05; done

# ---- helpers -----------------------------------------------------------------------------------
# run NAME ARGS...: loadgen with ARGS for 300 ms (a later --duration wins), its JSON in
# $w/NAME.json, its output in $w/NAME.out; returns loadgen's exit status.
run() {
    local name=$1
    shift
    "$loadgen" --threads 1 --duration 300ms --json "$w/$name.json" "$@" >"$w/$name.out" 2>&1
}
q() { jq -r "$2" "$w/$1.json"; } # NAME FILTER
expect_eq() {                    # DESCRIPTION GOT WANT
    if [ "$2" = "$3" ]; then tap_ok "$1"; else tap_not_ok "$1" "got:  $2"$'\n'"want: $3"; fi
}
# seen PORT FIELD: the distinct values of one field (2 protocol, 3 connection, 4 requests on it,
# 5 host) in nginx's log lines for PORT, comma-separated.
seen() {
    awk -v p="$1" -v f="$2" '$1 == p { print $f }' "$w/nginx/access.log" | sort -u | paste -sd, -
}
count_lines() { awk -v p="$1" '$1 == p' "$w/nginx/access.log" | wc -l; }
reset_log() { : >"$w/nginx/access.log"; }
ok_all() { # NAME: every request completed with a 2xx
    [ "$(q "$1" '.totals.completed')" -gt 0 ] &&
        [ "$(q "$1" '.totals.classes["2xx"] // 0')" = "$(q "$1" '.totals.completed')" ]
}

# ---- TLS ---------------------------------------------------------------------------------------
url="https://localhost:$tls/hello"
run untrusted --raw --connections 1 "$url"
expect_eq "without trust in the server's certificate every request fails (TLS verification)" \
    "$(q untrusted '.totals.error_ratio')" "1"
run cacert --raw --connections 2 --cacert "$w/ca.pem" "$url"
tap_check "with --cacert every request is answered 200" ok_all cacert
expect_eq "over HTTP/1.1 when HTTP/2 is not asked for" "$(q cacert '.totals.protocols | keys | join(",")')" \
    "http/1.1"
tap_check "the summary names the protocol" grep -q '^  protocol  http/1.1 (every answer)$' "$w/cacert.out"
run insecure --raw --connections 1 --insecure "$url"
tap_check "--insecure skips verification" ok_all insecure
run nocert --raw --connections 1 --cacert "$w/ca.pem" "https://localhost:$tls/mtls"
expect_eq "mutual TLS: without a client certificate nginx answers 403" \
    "$(q nocert '.totals.codes | keys | join(",")')" "403"
run mtls --raw --connections 1 --cacert "$w/ca.pem" --cert "$w/client.pem" --key "$w/client.key" \
    "https://localhost:$tls/mtls"
tap_check "with --cert and --key it answers 200" ok_all mtls

# ---- HTTP/2 ------------------------------------------------------------------------------------
reset_log
run h2 --raw --connections 2 --http2 --cacert "$w/ca.pem" "$url"
tap_check "--http2 over TLS: every request answered" ok_all h2
expect_eq "negotiated h2 (ALPN), as the JSON says" "$(q h2 '.totals.protocols | keys | join(",")')" "h2"
tap_check "and the summary" grep -q '^  protocol  h2 (every answer)$' "$w/h2.out"
expect_eq "and nginx saw HTTP/2.0" "$(seen "$tls" 2)" "HTTP/2.0"
reset_log
run streams --raw --connections 2 --streams 8 --http2 --cacert "$w/ca.pem" "$url"
tap_check "--streams 8: 16 requests in flight" ok_all streams
expect_eq "the result says 2 connections" "$(q streams '.connections')" "2"
expect_eq "ride on 2 connections (multiplexed)" "$(seen "$tls" 3 | tr ',' '\n' | wc -l)" "2"
reset_log
run h2c --raw --connections 2 --http2-prior-knowledge "http://127.0.0.1:$h2c/"
tap_check "--http2-prior-knowledge on http:// speaks h2c" ok_all h2c
expect_eq "named h2c" "$(q h2c '.totals.protocols | keys | join(",")')" "h2c"
expect_eq "and nginx saw HTTP/2.0 in cleartext" "$(seen "$h2c" 2)" "HTTP/2.0"
expect_eq "over 2 connections" "$(seen "$h2c" 3 | tr ',' '\n' | wc -l)" "2"
reset_log
run h2c_streams --raw --connections 2 --streams 8 --http2-prior-knowledge "http://127.0.0.1:$h2c/"
tap_check "h2c with --streams 8: every request answered" ok_all h2c_streams
expect_eq "16 in flight on 2 connections" "$(seen "$h2c" 3 | tr ',' '\n' | wc -l)" "2"
# nginx ends an h2c connection every 200 requests (GOAWAY): loadgen opens the next one over h2c.
reset_log
run h2c_churn --raw --connections 2 --streams 4 --http2-prior-knowledge "http://127.0.0.1:$h2c_churn/"
tap_check "h2c across connections the server closes: no request fails" \
    test "$(q h2c_churn '.totals.error_ratio')" = 0
expect_eq "and (almost) every answer is h2c: at most one in a hundred came over HTTP/1.1" \
    "$(q h2c_churn '(.totals.protocols["http/1.1"] // 0) * 100 <= .totals.completed and .totals.protocols.h2c > 0')" "true"
tap_check "on more than one connection" test "$(seen "$h2c_churn" 3 | tr ',' '\n' | wc -l)" -gt 2

# ---- connections -------------------------------------------------------------------------------
reset_log
run keepalive --raw --connections 2 "http://127.0.0.1:$plain/"
tap_check "keep-alive (the default): many requests per connection" \
    test "$(seen "$plain" 3 | tr ',' '\n' | wc -l)" -le 2
for path in direct libcurl; do
    extra=()
    [ $path = libcurl ] && extra=(--libcurl)
    reset_log
    run "close_$path" --raw --connections 2 --no-keepalive "${extra[@]}" "http://127.0.0.1:$plain/"
    tap_check "--no-keepalive ($path path): every request answered" ok_all "close_$path"
    expect_eq "each on its own connection (nginx counts 1 request on every connection)" \
        "$(seen "$plain" 4)" "1"
    expect_eq "as many connections as requests" "$(seen "$plain" 3 | tr ',' '\n' | wc -l)" \
        "$(count_lines "$plain")"
done

reset_log
run resolve --raw --connections 1 --resolve "example.test:$plain:127.0.0.1" "http://example.test:$plain/"
tap_check "--resolve reaches a name with no DNS" ok_all resolve
expect_eq "and sends its Host" "$(seen "$plain" 5)" "example.test"
run connect_to --raw --connections 1 --connect-to "example.test:80:127.0.0.1:$plain" "http://example.test/"
tap_check "--connect-to sends example.test:80 to the real port" ok_all connect_to
run resolve_tls --raw --connections 1 --http2 --cacert "$w/ca.pem" \
    --resolve "example.test:$tls:127.0.0.1" "https://example.test:$tls/hello"
tap_check "--resolve with TLS: the certificate's name example.test verifies" ok_all resolve_tls

run unix_direct --raw --connections 2 --unix-socket "$w/nginx/nginx.sock" "http://localhost/"
tap_check "--unix-socket on the direct HTTP/1.1 path" ok_all unix_direct
run unix_curl --raw --connections 2 --libcurl --unix-socket "$w/nginx/nginx.sock" "http://localhost/"
tap_check "--unix-socket on libcurl's path" ok_all unix_curl

# A listener whose accept queue is full: connects hang until the connect timeout ends them.
"$py" - "$w/stuck.port" <<'EOF' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
held = []
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(s.getsockname())
    except BlockingIOError: pass
    held.append(c)
time.sleep(0.2)
with open(sys.argv[1] + ".tmp", "w") as f: f.write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(30)
EOF
stuck_pid=$!
tap_pids+=("$stuck_pid")
tap_wait_port_file "$w/stuck.port" "$stuck_pid" || tap_bail "the stuck listener did not start"
stuck="http://127.0.0.1:$(cat "$w/stuck.port")/"
for path in direct libcurl; do
    extra=()
    [ $path = libcurl ] && extra=(--libcurl)
    run "stuck_$path" --raw --connections 1 --connect-timeout 200ms --duration 500ms "${extra[@]}" "$stuck"
    expect_eq "--connect-timeout 200ms ends connects that hang ($path path): all timeouts" \
        "$(q "stuck_$path" '.totals.errors.timeout == .totals.completed and .totals.completed > 0')" "true"
    expect_eq "each after about 200 ms, not the default 5 s ($path path)" \
        "$(q "stuck_$path" '.latency.service.max > 0.19 and .latency.service.max < 1')" "true"
done
tap_stop "$stuck_pid"

# ---- the task mix and its audit over TLS and HTTP/2 -----------------------------------------------
tls_flags=(--http2 --cacert "$w/ca.pem")
"$loadgen" "${tls_flags[@]}" --rate 200 --max-inflight 32 --duration 500ms --ledger "$w/tls.ledger" --json "$w/mix.json" \
    "https://localhost:$tls" >"$w/mix.out" 2>&1
tap_check "the task mix over h2 and TLS through nginx to taskd" test $? -eq 0
expect_eq "every answer over h2" "$(q mix '.totals.protocols | keys | join(",")')" "h2"
expect_eq "without errors" "$(q mix '.totals.error_ratio')" "0"
"$loadgen" audit "${tls_flags[@]}" --ledger "$w/tls.ledger" --retry-for 0s "https://localhost:$tls" \
    >"$w/audit.out" 2>&1
tap_check "its audit over the same transport is clean" grep -q '^CLEAN: every acknowledged write' "$w/audit.out"
"$loadgen" audit --ledger "$w/tls.ledger" --retry-for 0s "https://localhost:$tls" >"$w/audit-untrusted.out" 2>&1
expect_eq "without the CA the audit cannot read it (exit 2)" "$?" "2"

tap_finish
