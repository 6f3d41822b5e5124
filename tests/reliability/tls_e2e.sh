#!/usr/bin/env bash
# tls_e2e.sh DOJO SOURCE_DIR: exporters behind TLS. `dojo capacity serve`
# listens on 127.0.0.1 with HTTP basic auth; nginx (the shipped
# configs/nginx/dojo-exporters-tls.conf) terminates TLS in front of it; the
# real Prometheus scrapes through it with the shipped
# configs/prometheus/scrape-tls.yml, checking the certificate against a CA
# made here. Checks: refused without credentials and served with them
# (directly and through TLS); Prometheus's target is up with the right CA and
# down, with a certificate error, with another CA. Skipped (77) without nginx.
set -euo pipefail
dojo=$1
src=$2
command -v nginx >/dev/null || { echo "tls_e2e: nginx is not installed; skipped"; exit 77; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "tls_e2e: FAIL: $*" >&2
  for f in nginx.err prometheus.log serve.out; do [ -f "$work/$f" ] && tail -15 "$work/$f" >&2; done
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA.
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dojo test CA" -keyout ca.key -out ca.crt 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" -keyout other.key -out other.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=dojo-exporter" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt 2>/dev/null
printf 's3cret-pw\n' >exporter.password
printf 'prometheus:s3cret-pw\n' >basic-auth

"$dojo" capacity serve --config "$src/configs/capacity/tesla-2024.yaml" --as-of 2024-06-30 \
  --state-dir "$work/state" --listen 127.0.0.1:0 --basic-auth-file "$work/basic-auth" >serve.out 2>&1 &
pids+=($!)
target=
for _ in $(seq 100); do
  target=$(grep -o 'http://[^ ]*/metrics' serve.out | sed 's|http://||; s|/metrics||' || true)
  [ -n "$target" ] && break
  sleep 0.1
done
[ -n "$target" ] || fail "the exporter did not start"
case $target in 127.0.0.1:*) ;; *) fail "the exporter listens on $target, not 127.0.0.1" ;; esac

# nginx with the shipped server block (ports and paths substituted).
tls_port=$(free_port)
sed -e "s|listen 9443 ssl;|listen 127.0.0.1:$tls_port ssl;|" \
  -e "s|/etc/dojo/tls/|$work/|g" -e "s|127.0.0.1:9400|$target|" \
  "$src/configs/nginx/dojo-exporters-tls.conf" >server.conf
grep -q "$target" server.conf || fail "the shipped nginx config has no upstream to substitute"
cat >nginx.conf <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.err;
$( [ "$(id -u)" -eq 0 ] && echo "user root;" )
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi; uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  include $work/server.conf;
}
NGINX
nginx -t -c "$work/nginx.conf" -p "$work" >nginx.test 2>&1 || { cat nginx.test; fail "nginx -t"; }
nginx -c "$work/nginx.conf" -p "$work" -g 'daemon off;' 2>>nginx.err &
pids+=($!)

python3 - "$target" "$tls_port" "$work/ca.crt" <<'PY' || fail "basic auth or TLS through nginx"
import base64, ssl, sys, time, urllib.error, urllib.request
target, tls_port, ca = sys.argv[1], sys.argv[2], sys.argv[3]
auth = {"Authorization": "Basic " + base64.b64encode(b"prometheus:s3cret-pw").decode()}
def get(url, headers=None, context=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5, context=context) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
assert get(f"http://{target}/metrics")[0] == 401, "served without credentials"
bad = {"Authorization": "Basic " + base64.b64encode(b"prometheus:wrong").decode()}
assert get(f"http://{target}/metrics", bad)[0] == 401, "served with a wrong password"
code, body = get(f"http://{target}/metrics", auth)
assert code == 200 and "dojo_capacity_" in body, code
ctx = ssl.create_default_context(cafile=ca)
for _ in range(50):
    try:
        code, body = get(f"https://127.0.0.1:{tls_port}/metrics", auth, ctx)
        break
    except OSError:
        time.sleep(0.1)
assert code == 200 and "dojo_capacity_" in body, f"through TLS: {code}"
assert get(f"https://127.0.0.1:{tls_port}/metrics", None, ctx)[0] == 401, "TLS without credentials served"
assert get(f"https://127.0.0.1:{tls_port}/other", auth, ctx)[0] == 404
try:
    get(f"https://127.0.0.1:{tls_port}/metrics", auth, ssl.create_default_context())
    raise SystemExit("a client without the CA accepted the certificate")
except urllib.error.URLError as e:
    assert "CERTIFICATE_VERIFY_FAILED" in str(e), e
print("basic auth: 401 without or with wrong credentials, 200 with them; TLS verified against the CA")
PY

# Prometheus with the shipped TLS scrape job, plus the same job with another CA.
sed -e "s|/etc/dojo/tls/|$work/|g" -e "s|127.0.0.1:9443|127.0.0.1:$tls_port|" \
  -e "s|^scrape_configs:|global: {scrape_interval: 1s}\nscrape_configs:|" \
  "$src/configs/prometheus/scrape-tls.yml" >prometheus.yml
sed -n '/^  - job_name/,$p' prometheus.yml | sed -e "s|dojo-capacity-tls|wrong-ca|" -e "s|$work/ca.crt|$work/other.crt|" >>prometheus.yml
promtool check config prometheus.yml >/dev/null || { cat prometheus.yml; fail "promtool check config"; }
port=$(free_port)
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$port" >prometheus.log 2>&1 &
pids+=($!)
python3 - "$port" <<'PY' || fail "Prometheus did not scrape through TLS"
import json, sys, time, urllib.request
port = sys.argv[1]
deadline = time.time() + 60
while time.time() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets", timeout=5) as r:
            targets = {t["labels"]["job"]: t for t in json.load(r)["data"]["activeTargets"]}
    except OSError:
        time.sleep(0.5)
        continue
    good, wrong = targets.get("dojo-capacity-tls"), targets.get("wrong-ca")
    if good and wrong and good["health"] != "unknown" and wrong["health"] != "unknown":
        assert good["health"] == "up", good
        assert wrong["health"] == "down" and "certificate" in wrong["lastError"], wrong
        print("Prometheus: up through TLS with the CA;", "another CA refused:", wrong["lastError"][:100])
        sys.exit(0)
    time.sleep(0.5)
sys.exit("no scrape result in 60 s")
PY
echo "tls_e2e: ok"
