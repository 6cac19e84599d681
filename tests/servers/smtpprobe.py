#!/usr/bin/python3
"""Readiness probe for the private Postfix + Dovecot instance (tests/servers/mailserver).

Retries until every listener behaves as the tests expect, or the deadline passes:
  --smtp PORT        220 greeting, EHLO offers STARTTLS and no AUTH before TLS
                     (smtpd_tls_auth_only), STARTTLS, then EHLO offers AUTH with
                     SCRAM-SHA-256 (Dovecot reachable through private/auth)
  --smtps PORT       implicit TLS (RFC 8314 3.3), 220 greeting, AUTH PLAIN succeeds (235)
  --submission PORT  220 greeting, STARTTLS, EHLO offers AUTH
Every TLS handshake verifies the server certificate against --ca for --name.
Only loopback is contacted, and every client gives an explicit EHLO name so nothing
resolves the machine's own name. Exit status 0 when ready, 1 otherwise (the last
problem seen is printed on stderr).
"""

import argparse
import smtplib
import socket
import ssl
import sys
import time

HOST = "127.0.0.1"
EHLO_NAME = "localhost"


class LoopbackSMTP(smtplib.SMTP):
    """smtplib client that connects to 127.0.0.1 whatever host name it is given, so the
    name (used for SNI and certificate checks on STARTTLS) is never resolved."""

    def _get_socket(self, host, port, timeout):
        return socket.create_connection((HOST, port), timeout)


class LoopbackSMTPS(smtplib.SMTP_SSL):
    """Implicit-TLS variant of LoopbackSMTP."""

    def _get_socket(self, host, port, timeout):
        sock = socket.create_connection((HOST, port), timeout)
        return self.context.wrap_socket(sock, server_hostname=self._host)


def tls_context(ca_file):
    # Verifies the chain and the host name (check_hostname is on by default).
    return ssl.create_default_context(cafile=ca_file)


def auth_mechanisms(client):
    return set((client.esmtp_features.get("auth") or "").upper().split())


def check_smtp(port, args, timeout):
    ctx = tls_context(args.ca)
    with LoopbackSMTP(timeout=timeout, local_hostname=EHLO_NAME) as c:
        # smtplib takes the TLS server name (SNI, certificate check) from _host, which
        # only its constructor sets; our _get_socket ignores the name it connects to.
        c._host = args.name
        code, _ = c.connect(args.name, port)
        if code != 220:
            raise RuntimeError(f"port {port}: greeting {code}")
        c.ehlo()
        if not c.has_extn("starttls"):
            raise RuntimeError(f"port {port}: no STARTTLS before TLS")
        if c.has_extn("auth"):
            raise RuntimeError(f"port {port}: AUTH offered before TLS")
        c.starttls(context=ctx)
        c.ehlo()
        mechs = auth_mechanisms(c)
        if "SCRAM-SHA-256" not in mechs:
            raise RuntimeError(f"port {port}: AUTH after TLS lacks SCRAM-SHA-256: {sorted(mechs)}")
        c.quit()


def check_smtps(port, args, timeout):
    ctx = tls_context(args.ca)
    with LoopbackSMTPS(timeout=timeout, local_hostname=EHLO_NAME, context=ctx) as c:
        # smtplib takes the TLS server name (SNI, certificate check) from _host, which
        # only its constructor sets; our _get_socket ignores the name it connects to.
        c._host = args.name
        code, _ = c.connect(args.name, port)
        if code != 220:
            raise RuntimeError(f"port {port}: greeting {code}")
        c.ehlo()
        c.user, c.password = args.user, args.password
        code, resp = c.auth("PLAIN", c.auth_plain)
        if code != 235:
            raise RuntimeError(f"port {port}: AUTH PLAIN gave {code} {resp!r}")
        c.quit()


def check_submission(port, args, timeout):
    ctx = tls_context(args.ca)
    with LoopbackSMTP(timeout=timeout, local_hostname=EHLO_NAME) as c:
        # smtplib takes the TLS server name (SNI, certificate check) from _host, which
        # only its constructor sets; our _get_socket ignores the name it connects to.
        c._host = args.name
        code, _ = c.connect(args.name, port)
        if code != 220:
            raise RuntimeError(f"port {port}: greeting {code}")
        c.ehlo()
        c.starttls(context=ctx)
        c.ehlo()
        if not auth_mechanisms(c):
            raise RuntimeError(f"port {port}: no AUTH after TLS")
        c.quit()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smtp", type=int, required=True)
    p.add_argument("--smtps", type=int, required=True)
    p.add_argument("--submission", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--name", default="smtp.test")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--timeout", type=float, default=20.0, help="overall deadline in seconds")
    args = p.parse_args()

    deadline = time.monotonic() + args.timeout
    checks = [(check_smtp, args.smtp), (check_smtps, args.smtps),
              (check_submission, args.submission)]
    last = None
    while checks:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            print(f"smtpprobe: not ready after {args.timeout:g} s: {last}", file=sys.stderr)
            return 1
        fn, port = checks[0]
        try:
            fn(port, args, min(5.0, remaining))
            checks.pop(0)
        except (OSError, smtplib.SMTPException, RuntimeError, ssl.SSLError) as e:
            last = f"{fn.__name__}({port}): {e!r}"
            time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
