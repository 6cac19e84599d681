#!/usr/bin/python3
"""A loopback HTTPS server for MTA-STS policies (RFC 8461 3.3), for the discovery tests.

    mtasts_https.py --address 127.0.0.1 [--port 443] --certs DIR
                    --policy HOST=FILE [--policy HOST=FILE ...] [--redirect HOST=URL ...]
                    [--name HOST ...]

The certificate is made at start from the test CA in DIR (tests/servers/make-certs
output: ca.pem, ca.key) with the openssl CLI, with every HOST of --policy and
--redirect and --name as a DNS SAN, so a client verifying the name mta-sts.<domain> against
that CA succeeds. GET /.well-known/mta-sts.txt with "Host: HOST" answers 200 with
the FILE as text/plain; a --redirect HOST answers 301 to URL; anything else (a
--name HOST included) 404.

Prints "PORT <n>" (flushed) once it listens. Exits when stdin is closed if stdin is
a pipe (as started by QProcess), so it cannot outlive the test; otherwise on a signal.
Loopback only, no DNS.
"""

import argparse
import http.server
import ipaddress
import os
import ssl
import stat
import subprocess
import sys
import tempfile
import threading


def make_leaf(certs, names, work):
    key = os.path.join(work, "leaf.key")
    csr = os.path.join(work, "leaf.csr")
    pem = os.path.join(work, "leaf.pem")
    ext = os.path.join(work, "ext.cnf")
    with open(ext, "w") as f:
        f.write("basicConstraints = critical, CA:FALSE\n")
        f.write("keyUsage = critical, digitalSignature\n")
        f.write("extendedKeyUsage = serverAuth\n")
        f.write("subjectAltName = " + ", ".join("DNS:" + n for n in names) + "\n")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, timeout=30)
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    run("openssl", "req", "-new", "-key", key, "-subj", "/CN=" + names[0], "-out", csr)
    run("openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(certs, "ca.pem"),
        "-CAkey", os.path.join(certs, "ca.key"), "-set_serial",
        str(int.from_bytes(os.urandom(8), "big")), "-days", "2", "-sha256",
        "-extfile", ext, "-out", pem)
    return pem, key


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", required=True)
    ap.add_argument("--port", type=int, default=443)
    ap.add_argument("--certs", required=True)
    ap.add_argument("--policy", action="append", default=[])
    ap.add_argument("--redirect", action="append", default=[])
    ap.add_argument("--name", action="append", default=[])
    args = ap.parse_args()
    if not ipaddress.ip_address(args.address).is_loopback:
        ap.error("--address must be a loopback address")

    policies, redirects = {}, {}
    for item in args.policy:
        host, _, path = item.partition("=")
        with open(path, "rb") as f:
            policies[host.lower()] = f.read()
    for item in args.redirect:
        host, _, url = item.partition("=")
        redirects[host.lower()] = url
    names = list(policies) + list(redirects) + [n.lower() for n in args.name]
    if not names:
        ap.error("give at least one --policy or --redirect")

    work = tempfile.mkdtemp(prefix="mtasts-")
    pem, key = make_leaf(args.certs, names, work)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("mtasts_https: " + (fmt % a) + "\n")

        def do_GET(self):
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            if self.path == "/.well-known/mta-sts.txt" and host in redirects:
                self.send_response(301)
                self.send_header("Location", redirects[host])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path == "/.well-known/mta-sts.txt" and host in policies:
                body = policies[host]
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
            else:
                body = b"not found\n"
                self.send_response(404)
                self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer((args.address, args.port), Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    os.rmdir(work)

    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("PORT %d" % server.server_address[1], flush=True)

    mode = os.fstat(0).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        while sys.stdin.buffer.read(4096):
            pass
    else:
        threading.Event().wait()
    server.shutdown()


if __name__ == "__main__":
    main()
