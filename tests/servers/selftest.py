#!/usr/bin/python3
"""Self-test of the test servers in tests/servers (no C++ involved).

    /usr/bin/python3 tests/servers/selftest.py [-v] [HostileTest.test_name ...]
    SELFTEST_MAILSERVER=1 ... also starts the Postfix + Dovecot instance (needs root)

Each case starts hostile_smtpd.py with a scenario, talks to it with a raw socket client
(and Python's ssl for TLS), and checks both what the client received and what the
server recorded. Every wait has a timeout; only loopback is used.
"""

import base64
import glob
import hashlib
import hmac
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
HOSTILE = os.path.join(HERE, "hostile_smtpd.py")
TIMEOUT = 5.0
CERTS = None  # set in setUpModule


def setUpModule():
    global CERTS, _tmp
    _tmp = tempfile.mkdtemp(prefix="smtpscope-selftest-")
    CERTS = os.path.join(_tmp, "certs")
    subprocess.run([os.path.join(HERE, "make-certs"), CERTS], check=True, timeout=60)


def tearDownModule():
    shutil.rmtree(_tmp, ignore_errors=True)


def cert(name):
    return os.path.join(CERTS, name)


class Server:
    """hostile_smtpd.py in a child process; stdin is a pipe, so closing it stops it."""

    def __init__(self, *scenarios, options=(), tls=False, implicit=False, certname="smtp.test"):
        fd, self.record = tempfile.mkstemp(prefix="rec-", suffix=".jsonl", dir=_tmp)
        os.close(fd)
        cmd = [PY, HOSTILE, "--record", self.record]
        for s in scenarios:
            cmd += ["--scenario", s]
        for o in options:
            cmd += ["--option", o]
        if tls or implicit:
            cmd += ["--cert", cert(certname + ".pem"), "--key", cert(certname + ".key")]
        if implicit:
            cmd.append("--implicit-tls")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        r, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        if not r:
            self.stop()
            raise RuntimeError("hostile_smtpd.py printed no port")
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            err = self.proc.stderr.read().decode()
            self.stop()
            raise RuntimeError(f"unexpected first line {line!r}: {err}")
        self.port = int(line.split()[1])

    def records(self, settle=0.2):
        time.sleep(settle)  # the server thread writes right after the client's last action
        with open(self.record, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]

    def lines(self, phase=None):
        return [r["line"] for r in self.records() if "line" in r and (phase is None or r["phase"] == phase)]

    def events(self, name):
        return [r for r in self.records() if r.get("event") == name]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


class Client:
    """A minimal SMTP client over a raw socket that keeps every received byte."""

    def __init__(self, port, implicit=False, cafile=None):
        self.cafile = cafile or cert("ca.pem")
        self.sock = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.recvs = []  # size of every recv, to check how replies were written
        if implicit:
            self.sock = self.ctx().wrap_socket(self.sock, server_hostname="smtp.test")

    def ctx(self):
        return ssl.create_default_context(cafile=self.cafile)

    def fill(self, timeout=TIMEOUT):
        self.sock.settimeout(timeout)
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("server closed")
        self.recvs.append(len(data))
        self.buf += data

    def reply(self, timeout=TIMEOUT):
        """One whole reply (all lines up to the one with a space after the code)."""
        lines = []
        deadline = time.monotonic() + timeout
        while True:
            while b"\r\n" not in self.buf:
                self.fill(max(0.01, deadline - time.monotonic()))
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return lines

    def code(self, timeout=TIMEOUT):
        return int(self.reply(timeout)[-1][:3])

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, line, timeout=TIMEOUT):
        self.send(line.encode() + b"\r\n")
        return self.reply(timeout)

    def starttls(self):
        lines = self.cmd("STARTTLS")
        assert lines[-1].startswith(b"220"), lines
        self.sock = self.ctx().wrap_socket(self.sock, server_hostname="smtp.test")
        return lines

    def closed(self, timeout=TIMEOUT):
        """True when the server closes (EOF or reset) within timeout with nothing sent."""
        try:
            self.sock.settimeout(timeout)
            data = self.sock.recv(65536)
            return data == b""
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def b64(s):
    return base64.b64encode(s.encode()).decode()


def b64url(data):
    """RFC 7515 2: base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_part(text):
    """The JSON of a JWT header or claims segment."""
    return json.loads(b64url_decode(text))


def caps(lines):
    """The keywords of an EHLO reply (text after "250-" / "250 "), first line excluded."""
    return [l[4:] for l in lines[1:]]


class HostileTest(unittest.TestCase):

    def server(self, *a, **kw):
        s = Server(*a, **kw)
        self.addCleanup(s.stop)
        return s

    def client(self, server, **kw):
        c = Client(server.port, **kw)
        self.addCleanup(c.close)
        return c

    # --- baseline ------------------------------------------------------------------------

    def test_ok_plain_transaction(self):
        s = self.server("ok")
        c = self.client(s)
        self.assertEqual(c.reply(), [b"220 smtp.test ESMTP hostile_smtpd"])
        ehlo = c.cmd("EHLO localhost")
        self.assertIn(b"250-PIPELINING", ehlo)
        self.assertIn(b"250-SIZE 10485760", ehlo)
        self.assertFalse(any(b"STARTTLS" in l or b"AUTH" in l for l in ehlo), ehlo)
        self.assertEqual(c.cmd("MAIL FROM:<a@x.test>")[-1][:3], b"250")
        self.assertEqual(c.cmd("RCPT TO:<b@y.test>")[-1][:3], b"250")
        self.assertEqual(c.cmd("DATA")[-1][:3], b"354")
        body = b"Subject: t\r\n\r\n..leading dot\r\nline\r\n"
        c.send(body + b".\r\n")
        self.assertEqual(c.reply()[-1][:3], b"250")
        self.assertEqual(c.cmd("QUIT")[-1][:3], b"221")
        self.assertTrue(c.closed())
        unstuffed = body.replace(b"\r\n..", b"\r\n.")
        d = s.events("data-bytes")
        self.assertEqual(len(d), 1)
        self.assertEqual(d[0]["n"], len(unstuffed))
        self.assertEqual(d[0]["raw_n"], len(body))
        self.assertEqual(d[0]["sha256"], hashlib.sha256(unstuffed).hexdigest())
        self.assertEqual((d[0]["bare_lf"], d[0]["bare_cr"]), (0, 0))
        self.assertEqual(s.lines(), ["EHLO localhost", "MAIL FROM:<a@x.test>", "RCPT TO:<b@y.test>",
                                     "DATA", "QUIT"])
        self.assertEqual(s.events("close")[0]["by"], "server")

    def test_starttls_then_auth_plain(self):
        s = self.server("ok", tls=True)
        c = self.client(s)
        c.reply()
        self.assertIn(b"STARTTLS", caps(c.cmd("EHLO localhost")))
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0tester\0s3cret-pass"))[-1][:3], b"530")
        c.starttls()
        # RFC 3207 4.2: the server forgot the EHLO.
        self.assertEqual(c.cmd("MAIL FROM:<a@x.test>")[-1][:3], b"503")
        ehlo = c.cmd("EHLO localhost")
        self.assertIn(b"AUTH PLAIN LOGIN", caps(ehlo))
        self.assertNotIn(b"STARTTLS", caps(ehlo))
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0tester\0s3cret-pass")), [b"235 2.7.0 Authentication successful"])
        tls = s.events("tls-start")
        self.assertEqual(len(tls), 1)
        self.assertEqual(tls[0]["sni"], "smtp.test")
        recs = s.records()
        phases = {r["line"].split()[0]: r["phase"] for r in recs if "line" in r}
        self.assertEqual(phases["STARTTLS"], "plain")
        self.assertEqual(phases["MAIL"], "tls")
        self.assertEqual([r["phase"] for r in recs if "line" in r and r["line"].startswith("AUTH")],
                         ["plain", "tls"])

    def test_auth_mechanisms(self):
        s = self.server("ok", tls=True, options=["auth=PLAIN LOGIN CRAM-MD5"])

        def session():
            c = self.client(s)
            c.reply()
            c.cmd("EHLO localhost")
            c.starttls()
            self.assertIn(b"250 AUTH PLAIN LOGIN CRAM-MD5", c.cmd("EHLO localhost"))
            return c

        c = session()
        self.assertEqual(c.cmd("AUTH LOGIN"), [b"334 VXNlcm5hbWU6"])
        self.assertEqual(c.cmd(b64("tester")), [b"334 UGFzc3dvcmQ6"])
        self.assertEqual(c.cmd(b64("s3cret-pass"))[-1][:3], b"235")
        c = session()
        ch = c.cmd("AUTH CRAM-MD5")[-1]
        challenge = base64.b64decode(ch[4:])
        digest = hmac.new(b"s3cret-pass", challenge, hashlib.md5).hexdigest()
        self.assertEqual(c.cmd(b64("tester " + digest))[-1][:3], b"235")
        c = session()
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0tester\0wrong"))[-1][:3], b"535")
        self.assertEqual(c.cmd("AUTH PLAIN"), [b"334 "])
        self.assertEqual(c.cmd("*")[-1][:3], b"501")  # RFC 4954 4: cancelled
        self.assertEqual(c.cmd("AUTH XOAUTH2 abc")[-1][:3], b"504")

    def test_auth_plain_before_tls_when_asked(self):
        s = self.server("ok", options=["auth_plain=1"])
        c = self.client(s)
        c.reply()
        self.assertIn(b"AUTH PLAIN LOGIN", caps(c.cmd("EHLO localhost")))
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0tester\0s3cret-pass"))[-1][:3], b"235")

    def test_implicit_tls(self):
        s = self.server("ok", implicit=True)
        c = self.client(s, implicit=True)
        self.assertEqual(c.code(), 220)
        ehlo = c.cmd("EHLO localhost")
        self.assertIn(b"AUTH PLAIN LOGIN", caps(ehlo))
        self.assertNotIn(b"STARTTLS", caps(ehlo))
        self.assertEqual(s.events("tls-start")[0]["sni"], "smtp.test")
        self.assertEqual(s.lines("tls"), ["EHLO localhost"])

    def test_wrong_cert_fails_verification(self):
        s = self.server("wrong-cert", implicit=True, certname="other.test")
        with self.assertRaises(ssl.SSLCertVerificationError):
            Client(s.port, implicit=True)
        self.assertEqual(len(s.events("tls-failed")), 1)

    def test_bdat(self):
        s = self.server("ok", options=["chunking=1"])
        c = self.client(s)
        c.reply()
        self.assertIn(b"250 CHUNKING", c.cmd("EHLO localhost"))
        a, b = b"Subject: b\r\n\r\n", b"binary\x00\r\n.\r\n"
        c.send(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"
               + b"BDAT %d\r\n" % len(a) + a + b"BDAT %d LAST\r\n" % len(b) + b)
        self.assertEqual([c.code() for _ in range(4)], [250, 250, 250, 250])
        d = s.events("data-bytes")[0]
        self.assertEqual(d["n"], len(a + b))
        self.assertEqual(d["sha256"], hashlib.sha256(a + b).hexdigest())
        self.assertEqual(s.events("early-bytes"), [])

    def test_bare_lf_is_counted_and_never_ends_data(self):
        s = self.server("ok", options=["record_data=1"])
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        c.send(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n")
        self.assertEqual([c.code() for _ in range(3)], [250, 250, 354])
        smuggle = b"a\n.\nMAIL FROM:<evil@x.test>\r\nb\rc\r\n"
        c.send(smuggle)
        self.assertFalse(c.closed(0.3))  # still in DATA: no reply yet
        c.send(b".\r\n")
        self.assertEqual(c.code(), 250)
        d = s.events("data-bytes")[0]
        self.assertEqual((d["bare_lf"], d["bare_cr"]), (2, 1))
        self.assertEqual(base64.b64decode(d["data_b64"]), smuggle)
        self.assertNotIn("MAIL FROM:<evil@x.test>", s.lines())

    # --- STARTTLS attacks (docs/security.md, section A) ----------------------------------------------------

    def injected(self, scenario):
        s = self.server(scenario, tls=True)
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        c.send(b"STARTTLS\r\n")
        c.fill()
        return s, c

    def test_inject_after_starttls_in_one_write(self):
        s, c = self.injected("inject-after-starttls")
        # Both parts came in the first recv: the server wrote them in one write.
        self.assertEqual(c.buf, b"220 2.0.0 Ready to start TLS\r\n250-x\r\n250 AUTH PLAIN\r\n")
        c.buf = b""
        c.sock = c.ctx().wrap_socket(c.sock, server_hostname="smtp.test")
        self.assertIn(b"AUTH PLAIN LOGIN", caps(c.cmd("EHLO localhost")))
        self.assertEqual(len(s.events("tls-start")), 1)

    def test_inject_partial(self):
        _, c = self.injected("inject-partial")
        self.assertEqual(c.buf, b"220 2.0.0 Ready to start TLS\r\n250-AUTH PLAIN INJ")

    def test_inject_late(self):
        _, c = self.injected("inject-late")
        self.assertEqual(c.buf, b"220 2.0.0 Ready to start TLS\r\n")
        c.fill()
        self.assertEqual(c.buf, b"220 2.0.0 Ready to start TLS\r\n250 X\r\n")

    def test_plaintext_after_starttls_is_flagged(self):
        s = self.server("ok", tls=True)
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        c.send(b"STARTTLS\r\nAUTH PLAIN AHRlc3Rlcg==\r\n")
        self.assertEqual(c.code(), 220)
        self.assertTrue(c.closed())
        self.assertEqual(s.events("plain-after-starttls")[0]["bytes"], "AUTH PLAIN AHRlc3Rlcg==\r\n")
        self.assertEqual(len(s.events("tls-failed")), 1)
        self.assertEqual(s.events("early-bytes")[0]["after"], "STARTTLS")

    def test_no_starttls(self):
        s = self.server("no-starttls", tls=True)
        c = self.client(s)
        c.reply()
        self.assertFalse(any(b"STARTTLS" in l for l in c.cmd("EHLO localhost")))
        self.assertEqual(c.cmd("STARTTLS")[-1][:3], b"502")

    def test_starttls_codes(self):
        for code in ("454", "502", "501", "354", "250", "421"):
            with self.subTest(code=code):
                s = self.server(f"starttls-{code}", tls=True)
                c = self.client(s)
                c.reply()
                self.assertIn(b"STARTTLS", caps(c.cmd("EHLO localhost")))
                self.assertEqual(c.cmd("STARTTLS")[-1][:3], code.encode())
                if code == "421":
                    self.assertTrue(c.closed())
                else:
                    # Still plaintext: the server did not start TLS.
                    self.assertEqual(c.cmd("NOOP")[-1][:3], b"250")
                    self.assertEqual(s.events("tls-start"), [])

    def test_plaintext_on_tls_port(self):
        s = self.server("plaintext-on-tls", implicit=True)
        c = self.client(s)
        self.assertEqual(c.code(), 220)
        with self.assertRaises(ssl.SSLError):
            Client(s.port, implicit=True)

    def test_tls_max_1_1(self):
        s = self.server("ok", implicit=True, options=["tls_max=1.1"])
        with self.assertRaises(ssl.SSLError):
            Client(s.port, implicit=True)  # the default client context wants TLS >= 1.2

    # --- replies (docs/security.md, section E) -------------------------------------------------------------

    def test_ehlo_502_then_helo(self):
        s = self.server("ehlo-502")
        c = self.client(s)
        c.reply()
        self.assertEqual(c.cmd("EHLO localhost")[-1][:3], b"502")
        self.assertEqual(c.cmd("HELO localhost"), [b"250 smtp.test"])
        self.assertEqual(c.cmd("MAIL FROM:<a@x.test>")[-1][:3], b"250")

    def test_mismatched_multiline(self):
        s = self.server("mismatched-multiline")
        c = self.client(s)
        c.reply()
        self.assertEqual(c.cmd("EHLO localhost"), [b"250-first", b"550 second"])

    def test_reply_at_with_escapes_and_occurrence(self):
        s = self.server("reply-at=EHLO2:250-smtp.test\\r\\n250 AUTH CRAM-MD5", "reply-at=DOT:451 4.3.0 try later",
                        "reply-at=NOOP:250 a\\x1bb\\c", tls=True)
        c = self.client(s)
        c.reply()
        self.assertIn(b"STARTTLS", caps(c.cmd("EHLO localhost")))
        c.starttls()
        self.assertEqual(c.cmd("EHLO localhost"), [b"250-smtp.test", b"250 AUTH CRAM-MD5"])
        c.send(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n")
        self.assertEqual([c.code() for _ in range(3)], [250, 250, 354])
        c.send(b"x\r\n.\r\n")
        self.assertEqual(c.reply(), [b"451 4.3.0 try later"])
        c.send(b"NOOP\r\n")
        time.sleep(0.3)
        c.fill()
        self.assertEqual(c.buf, b"250 a\x1bb")  # no terminator: \c

    def test_long_line(self):
        s = self.server("long-line")
        c = self.client(s)
        c.reply()
        ehlo = c.cmd("EHLO localhost")
        self.assertGreaterEqual(max(len(l) for l in ehlo), 200 * 1024)

    def test_huge_ehlo(self):
        s = self.server("huge-ehlo")
        c = self.client(s)
        c.reply()
        ehlo = c.cmd("EHLO localhost", timeout=30)
        self.assertEqual(sum(1 for l in ehlo if l.startswith(b"250-X-CAP-")), 200000)

    def test_flood_at_ehlo(self):
        # Lines that never end, until the client goes; then the record says how much.
        s = self.server("flood-at=EHLO", options=["flood_cap=4194304"])
        c = self.client(s)
        c.reply()
        c.send(b"EHLO localhost\r\n")
        while len(c.buf) < 512 * 1024:
            c.fill()
        self.assertTrue(c.buf.startswith(b"250-FLOOD 0000000000 "))
        self.assertNotIn(b"\r\n250 ", c.buf)
        c.sock.close()
        deadline = time.monotonic() + TIMEOUT
        while not s.events("flood") and time.monotonic() < deadline:
            time.sleep(0.05)
        flood = s.events("flood")
        self.assertEqual(len(flood), 1)
        self.assertEqual((flood[0]["at"], flood[0]["ended"]), ("EHLO", "client"))
        self.assertGreaterEqual(flood[0]["bytes"], 512 * 1024)

    def test_flood_cap(self):
        s = self.server("flood-at=MAIL", options=["flood_cap=100000"])
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        c.send(b"MAIL FROM:<a@x.test>\r\n")
        with self.assertRaises(EOFError):
            while True:
                c.fill()
        self.assertGreaterEqual(len(c.buf), 100000)
        self.assertEqual(s.events("flood")[0]["ended"], "cap")

    def test_junk_during_data(self):
        s = self.server("junk-during-data", options=["flood_cap=2097152"])
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        c.send(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n")
        self.assertEqual([c.code() for _ in range(3)], [250, 250, 354])
        # The junk comes while the message is still being sent; the message is
        # read all the same.
        c.send(b"Subject: x\r\n\r\n" + b"y" * 1000 + b"\r\n")
        while len(c.buf) < 1024 * 1024:
            c.fill()
        self.assertTrue(c.buf.startswith(b"250-FLOOD "))
        c.sock.close()
        deadline = time.monotonic() + TIMEOUT
        while not s.events("flood") and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(s.events("flood")[0]["at"], "DATA")

    def test_early_data(self):
        s = self.server("early-data")
        c = self.client(s)
        c.fill()
        self.assertEqual(c.buf, b"220 smtp.test ESMTP hostile_smtpd\r\n250 extra\r\n")

    def test_fragmented_replies(self):
        s = self.server("ok", options=["chunk=3", "chunk_delay=0.02"])
        c = self.client(s)
        self.assertEqual(c.reply(), [b"220 smtp.test ESMTP hostile_smtpd"])
        self.assertGreater(len(c.recvs), 5)

    # --- timeouts and connection loss (docs/security.md, section F) ------------------------------------------

    def test_silent_greeting(self):
        s = self.server("silent-greeting")
        c = self.client(s)
        with self.assertRaises(socket.timeout):
            c.fill(1.0)
        c.send(b"QUIT\r\n")
        self.assertFalse(c.closed(0.5))
        self.assertEqual(s.lines(), ["QUIT"])

    def test_silent_at_rcpt(self):
        s = self.server("silent-at=RCPT")
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        c.cmd("MAIL FROM:<a@x.test>")
        c.send(b"RCPT TO:<b@y.test>\r\n")
        with self.assertRaises(socket.timeout):
            c.fill(1.0)

    def test_trickle_greeting(self):
        s = self.server("trickle-greeting")
        c = self.client(s)
        deadline = time.monotonic() + 1.3
        while time.monotonic() < deadline:
            try:
                c.fill(max(0.01, deadline - time.monotonic()))
            except socket.timeout:
                break
        self.assertTrue(1 <= len(c.buf) <= 4, c.buf)
        self.assertNotIn(b"\n", c.buf)

    def test_close_mid_data(self):
        s = self.server("close-mid-data")
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        c.send(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n")
        self.assertEqual([c.code() for _ in range(3)], [250, 250, 354])
        try:
            c.send((b"x" * 78 + b"\r\n") * 20)
        except OSError:
            pass
        self.assertTrue(c.closed())
        self.assertEqual(s.events("data-bytes"), [])

    def test_close_after_dot(self):
        s = self.server("close-after-dot")
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        c.send(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n")
        self.assertEqual([c.code() for _ in range(3)], [250, 250, 354])
        c.send(b"x\r\n.\r\n")
        self.assertTrue(c.closed())
        self.assertEqual(c.buf, b"")
        self.assertEqual(len(s.events("data-bytes")), 1)

    def test_421_at_each_step(self):
        script = [("EHLO", "EHLO localhost"), ("AUTH", "AUTH PLAIN " + b64("\0tester\0s3cret-pass")),
                  ("MAIL", "MAIL FROM:<a@x.test>"), ("RCPT", "RCPT TO:<b@y.test>"),
                  ("RCPT2", "RCPT TO:<c@y.test>"), ("DATA", "DATA"), ("DOT", "x\r\n.")]
        for i, (step, _) in enumerate([("GREETING", None)] + script):
            with self.subTest(step=step):
                s = self.server(f"421-at={step}", options=["auth_plain=1"])
                c = self.client(s)
                if step == "GREETING":
                    self.assertEqual(c.reply(), [b"421 4.3.2 Shutting down"])
                    self.assertTrue(c.closed())
                    continue
                c.reply()
                for _, line in script[:i - 1]:
                    self.assertLess(c.cmd(line)[-1][:1], b"4")
                self.assertEqual(c.cmd(script[i - 1][1]), [b"421 4.3.2 Shutting down"])
                self.assertTrue(c.closed())

    def test_slow_dot_with_refused_rcpt(self):
        s = self.server("slow-dot=1", "refuse-rcpt=Refused@Example.test")
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        c.send(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<refused@example.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n")
        self.assertEqual([c.code() for _ in range(4)], [250, 550, 250, 354])
        c.send(b"x\r\n.\r\n")
        t0 = time.monotonic()
        self.assertEqual(c.code(), 250)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)

    def test_max_rcpt(self):
        s = self.server("max-rcpt=2")
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        c.cmd("MAIL FROM:<a@x.test>")
        self.assertEqual([c.cmd(f"RCPT TO:<r{i}@y.test>")[-1][:3] for i in range(3)], [b"250", b"250", b"452"])

    def test_reject_during_data(self):
        s = self.server("reject-during-data=1000")
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        c.send(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n")
        self.assertEqual([c.code() for _ in range(3)], [250, 250, 354])
        c.send((b"y" * 78 + b"\r\n") * 20)
        self.assertEqual(c.reply(), [b"552 5.3.4 Message too big"])

    def test_idle_421(self):
        s = self.server("idle-421=0.5")
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        self.assertEqual(c.reply(2.0), [b"421 4.4.2 Idle timeout"])
        self.assertTrue(c.closed())

    # --- AUTH (docs/security.md, section H) ------------------------------------------------------------------

    def test_auth_loop(self):
        s = self.server("auth-loop", options=["auth_plain=1"])
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        self.assertEqual(c.cmd("AUTH LOGIN"), [b"334 QnVHZ1liVWdHeQ=="])
        for _ in range(5):
            self.assertEqual(c.cmd("*"), [b"334 QnVHZ1liVWdHeQ=="])

    def test_bad_challenge(self):
        s = self.server("bad-challenge", options=["auth_plain=1"])
        c = self.client(s)
        c.reply()
        c.cmd("EHLO localhost")
        self.assertEqual(c.cmd("AUTH PLAIN"), [b"334 !!!notbase64"])
        self.assertEqual(c.cmd("*")[-1][:3], b"501")

    # --- recording what the client must not do ------------------------------------------------

    def test_early_bytes_without_pipelining(self):
        s = self.server("ok", options=["pipelining=0"])
        c = self.client(s)
        c.reply()
        self.assertNotIn(b"250-PIPELINING", c.cmd("EHLO localhost"))
        c.send(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n")
        self.assertEqual([c.code(), c.code()], [250, 250])
        self.assertEqual([e["after"] for e in s.events("early-bytes")], ["MAIL"])

    def test_bytes_before_greeting(self):
        s = self.server("delay-at=GREETING:0.5")
        c = self.client(s)
        c.send(b"EHLO localhost\r\n")
        self.assertEqual(c.code(), 220)
        self.assertEqual(s.events("early-bytes")[0]["before"], "GREETING")

    def test_stdin_close_stops_the_server(self):
        s = Server("ok")
        s.proc.stdin.close()
        self.assertEqual(s.proc.wait(TIMEOUT), 0)
        s.stop()

    def test_unknown_scenario_is_refused(self):
        r = subprocess.run([PY, HOSTILE, "--scenario", "no-such-thing"], capture_output=True,
                           timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([PY, HOSTILE, "--scenario", "421-at=BOGUS"], capture_output=True,
                           timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2)


@unittest.skipUnless(os.environ.get("SELFTEST_MAILSERVER") == "1" and os.geteuid() == 0,
                     "set SELFTEST_MAILSERVER=1 (as root) to test the Postfix + Dovecot instance")
class MailserverTest(unittest.TestCase):
    """Starts the real instance once and checks the facts the integration tests rely on."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ms-", dir="/tmp")
        r = subprocess.run([os.path.join(HERE, "mailserver"), "start", cls.dir], capture_output=True,
                           text=True, timeout=90)
        if r.returncode != 0:
            # tearDownClass does not run after a failed setUpClass; a failed start has
            # already stopped everything it started.
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise RuntimeError(r.stderr)
        cls.env = dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)

    @classmethod
    def tearDownClass(cls):
        subprocess.run([os.path.join(HERE, "mailserver"), "stop", cls.dir], timeout=60, check=True)
        r = subprocess.run([os.path.join(HERE, "mailserver"), "status", cls.dir], capture_output=True, timeout=30)
        assert r.returncode == 3, r.stdout
        shutil.rmtree(cls.dir, ignore_errors=True)

    def client(self, port_key, implicit=False):
        c = Client(int(self.env[port_key]), implicit=implicit, cafile=self.env["CA_FILE"])
        self.addCleanup(c.close)
        self.assertEqual(c.code(), 220)
        return c

    def test_env_keys(self):
        for k in ("SMTP_PORT", "SMTPS_PORT", "SUBMISSION_PORT", "MAILDIR", "CA_FILE", "CERT_NAME",
                  "SMTP_USER", "SMTP_PASSWORD", "REFUSED_RCPT", "POSTFIX_CONFIG_DIR",
                  "OAUTH_TOKEN", "OAUTH_BAD_TOKEN"):
            self.assertIn(k, self.env)
        self.assertEqual(self.env["CERT_NAME"], "smtp.test")

    def test_oauth_tokens_in_env(self):
        # Both are HS256 JWTs (RFC 7519) for SMTP_USER, valid for 24 h from now, with the
        # same header and claims: only the signature (the key) differs.
        good, bad = self.env["OAUTH_TOKEN"].split("."), self.env["OAUTH_BAD_TOKEN"].split(".")
        self.assertEqual(len(good), 3)
        self.assertEqual(good[:2], bad[:2])
        self.assertNotEqual(good[2], bad[2])
        self.assertEqual(jwt_part(good[0]), {"alg": "HS256", "typ": "JWT"})
        claims = jwt_part(good[1])
        self.assertEqual(claims["sub"], self.env["SMTP_USER"])
        self.assertEqual(claims["exp"] - claims["iat"], 24 * 3600)
        self.assertLessEqual(abs(claims["iat"] - time.time()), 600)
        self.assertEqual(len(b64url_decode(good[2])), 32)  # HMAC-SHA-256 (RFC 7518 3.2)

    def test_extensions_and_auth_after_tls(self):
        c = self.client("SMTP_PORT")
        ehlo = b"\n".join(c.cmd("EHLO localhost"))
        for kw in (b"PIPELINING", b"SIZE 52428800", b"8BITMIME", b"SMTPUTF8", b"CHUNKING", b"DSN",
                   b"ENHANCEDSTATUSCODES", b"STARTTLS"):
            self.assertIn(kw, ehlo)
        self.assertNotIn(b"AUTH", ehlo)
        c.starttls()
        ehlo = c.cmd("EHLO localhost")
        self.assertIn(b"AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER", caps(ehlo))
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0tester\0s3cret-pass"))[-1][:3], b"235")

    # --- bearer tokens: XOAUTH2 and RFC 7628 OAUTHBEARER through Dovecot's oauth2 passdb --

    def xoauth2(self, token, user=None):
        # Google's XOAUTH2: "user=" user ^A "auth=Bearer " token ^A ^A.
        return b64(f"user={user or self.env['SMTP_USER']}\x01auth=Bearer {token}\x01\x01")

    def oauthbearer(self, token, user=None):
        # RFC 7628 3.1: GS2 header "n,a=<authzid>," then ^A-separated key=value pairs,
        # ending with ^A ^A.
        return b64(f"n,a={user or self.env['SMTP_USER']},\x01host=smtp.test\x01"
                   f"port={self.env['SMTPS_PORT']}\x01auth=Bearer {token}\x01\x01")

    def token_auth(self, c, mechanism, token, user=None):
        """AUTH with an initial response. Returns (decoded 334 challenge or None, final
        reply line). After a 334 error challenge the client sends what ends the exchange:
        the RFC 7628 3.2.3 dummy response "AQ==" (^A) for OAUTHBEARER, an empty line for
        XOAUTH2."""
        ir = (self.oauthbearer if mechanism == "OAUTHBEARER" else self.xoauth2)(token, user)
        reply = c.cmd(f"AUTH {mechanism} {ir}")[-1]
        if not reply.startswith(b"334 "):
            return None, reply
        challenge = base64.b64decode(reply[4:], validate=True)
        return challenge, c.cmd("AQ==" if mechanism == "OAUTHBEARER" else "")[-1]

    def test_oauth_mechanisms_offered_after_tls(self):
        # (SMTP_PORT: test_extensions_and_auth_after_tls.) Dovecot's auth_mechanisms
        # order, as Postfix relays it.
        expected = [b"AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER"]
        c = self.client("SUBMISSION_PORT")
        self.assertNotIn(b"AUTH", b"\n".join(c.cmd("EHLO localhost")))
        c.starttls()
        self.assertEqual([l for l in caps(c.cmd("EHLO localhost")) if l.startswith(b"AUTH ")], expected)
        c = self.client("SMTPS_PORT", implicit=True)
        self.assertEqual([l for l in caps(c.cmd("EHLO localhost")) if l.startswith(b"AUTH ")], expected)

    def test_oauth_valid_token(self):
        for mechanism in ("XOAUTH2", "OAUTHBEARER"):
            with self.subTest(mechanism=mechanism):
                # The submission port refuses RCPT without AUTH (554): a 250 proves the
                # token authenticated the session, not just that AUTH answered 235.
                c = self.client("SUBMISSION_PORT")
                c.cmd("EHLO localhost")
                c.starttls()
                c.cmd("EHLO localhost")
                challenge, reply = self.token_auth(c, mechanism, self.env["OAUTH_TOKEN"])
                self.assertIsNone(challenge)
                self.assertEqual(reply, b"235 2.7.0 Authentication successful")
                self.assertEqual(c.cmd("MAIL FROM:<a@x.test>")[-1][:3], b"250")
                self.assertEqual(c.cmd("RCPT TO:<b@y.test>")[-1][:3], b"250")

    def test_oauth_valid_token_without_initial_response(self):
        # RFC 4954 4: no initial response, so the server sends an empty 334 challenge.
        for mechanism, make in (("XOAUTH2", self.xoauth2), ("OAUTHBEARER", self.oauthbearer)):
            with self.subTest(mechanism=mechanism):
                c = self.client("SMTPS_PORT", implicit=True)
                c.cmd("EHLO localhost")
                self.assertEqual(c.cmd(f"AUTH {mechanism}"), [b"334 "])
                self.assertEqual(c.cmd(make(self.env["OAUTH_TOKEN"]))[-1][:4], b"235 ")

    def dovecot_log_size(self):
        return os.path.getsize(self.env["DOVECOT_LOG"])

    def assert_dovecot_logged(self, offset, text):
        """text appears in the Dovecot log after offset (the log process writes it a
        moment after the auth process decided)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            with open(self.env["DOVECOT_LOG"], errors="replace") as f:
                f.seek(offset)
                new = f.read()
            if text in new:
                return
            if time.monotonic() > deadline:
                self.fail(f"{text!r} not in the Dovecot log; it got: {new[-1500:]!r}")
            time.sleep(0.05)

    def test_oauth_bad_token(self):
        # What a client sees for a token with a wrong signature: a 334 carrying a JSON
        # error (base64), then 535 once the client ends the exchange. The session goes
        # on: NOOP works and the good token then authenticates.
        expected = {"XOAUTH2": {"status": "401", "schemes": "bearer", "scope": "mail"},
                    "OAUTHBEARER": {"status": "invalid_token"}}
        for mechanism, error in expected.items():
            with self.subTest(mechanism=mechanism):
                c = self.client("SMTPS_PORT", implicit=True)
                c.cmd("EHLO localhost")
                offset = self.dovecot_log_size()
                challenge, reply = self.token_auth(c, mechanism, self.env["OAUTH_BAD_TOKEN"])
                self.assertIsNotNone(challenge, reply)
                self.assertEqual(json.loads(challenge), error)
                self.assertEqual(reply, b"535 5.7.8 Error: authentication failed: (reason unavailable)")
                self.assert_dovecot_logged(offset, "Local validation failed: Incorrect JWT signature")
                self.assertEqual(c.cmd("NOOP")[-1][:3], b"250")
                self.assertEqual(self.token_auth(c, mechanism, self.env["OAUTH_TOKEN"]),
                                 (None, b"235 2.7.0 Authentication successful"))

    def test_oauth_bad_token_cancelled(self):
        # RFC 4954 4: "*" instead of the dummy response cancels with 501.
        for mechanism, make in (("XOAUTH2", self.xoauth2), ("OAUTHBEARER", self.oauthbearer)):
            with self.subTest(mechanism=mechanism):
                c = self.client("SMTPS_PORT", implicit=True)
                c.cmd("EHLO localhost")
                self.assertEqual(c.cmd(f"AUTH {mechanism} {make(self.env['OAUTH_BAD_TOKEN'])}")[-1][:4], b"334 ")
                self.assertEqual(c.cmd("*")[-1], b"501 5.7.0 Authentication aborted")

    def signed_token(self, claims, alg="HS256"):
        """A JWT signed with the instance's real key (root reads the key file). Dovecot
        2.3.19 refuses a header without "typ"."""
        with open(os.path.join(self.dir, "dovecot", "oauth2-keys", "default", "HS256", "default")) as f:
            key = base64.b64decode(f.read(), validate=True)
        head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        body = b64url(json.dumps(claims).encode())
        mac = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64url(mac)}"

    def test_oauth_refusals(self):
        now = int(time.time())
        user, password = self.env["SMTP_USER"], self.env["SMTP_PASSWORD"]
        good = self.env["OAUTH_TOKEN"]
        # A token the test signs itself with the instance's key is accepted: the key file
        # layout is the one Dovecot reads, so the refusals below are about the claims.
        c = self.client("SMTPS_PORT", implicit=True)
        c.cmd("EHLO localhost")
        self.assertEqual(self.token_auth(c, "XOAUTH2", self.signed_token({"sub": user, "exp": now + 60}))[1][:4],
                         b"235 ")
        # Each refused for its own reason, as Dovecot logs it (auth_verbose).
        cases = [
            ("password as bearer token", "XOAUTH2", password, None, "Not a JWT token"),
            ("token for another user", "OAUTHBEARER", good, "other", "Username 'other' did not match 'tester'"),
            ("token for another user", "XOAUTH2", good, "other", "Username 'other' did not match 'tester'"),
            ("expired", "XOAUTH2", self.signed_token({"sub": user, "iat": now - 7200, "exp": now - 3600}), None,
             "Token has expired"),
            ("not yet valid", "OAUTHBEARER", self.signed_token({"sub": user, "nbf": now + 3600, "exp": now + 7200}),
             None, "Token is not valid yet"),
            ("no exp", "XOAUTH2", self.signed_token({"sub": user}), None, "Missing 'exp' field"),
            ("sub of another user", "XOAUTH2", self.signed_token({"sub": "other", "exp": now + 60}), None,
             "Username 'tester' did not match 'other'"),
            ("alg none", "XOAUTH2", b64url(b'{"alg":"none","typ":"JWT"}') + "." + good.split(".")[1] + ".", None,
             "Unsupported algorithm 'NONE'"),
            ("signature cut off", "OAUTHBEARER", good.rsplit(".", 1)[0] + ".", None, "Incorrect JWT signature"),
        ]
        for name, mechanism, token, as_user, reason in cases:
            with self.subTest(name, mechanism=mechanism):
                c = self.client("SMTPS_PORT", implicit=True)
                c.cmd("EHLO localhost")
                offset = self.dovecot_log_size()
                self.assertEqual(self.token_auth(c, mechanism, token, as_user)[1][:4], b"535 ")
                self.assert_dovecot_logged(offset, "oauth2 failed: Local validation failed: " + reason)
        with self.subTest("token as PLAIN password"):
            c = self.client("SMTPS_PORT", implicit=True)
            c.cmd("EHLO localhost")
            offset = self.dovecot_log_size()
            self.assertEqual(c.cmd("AUTH PLAIN " + b64(f"\0{user}\0{good}"))[-1][:4], b"535 ")
            self.assert_dovecot_logged(offset, f"passwd-file({user},127.0.0.1): Password mismatch")

    def test_failures_are_not_delayed(self):
        # No Dovecot auth penalty: repeated failures from 127.0.0.1 are answered within
        # Dovecot's 0.5 s failure timer, never after the 2-15 s penalty (or Postfix's 454).
        for i in range(4):
            c = self.client("SMTPS_PORT", implicit=True)
            c.cmd("EHLO localhost")
            t = time.monotonic()
            self.assertEqual(c.cmd("AUTH PLAIN " + b64(f"\0tester\0wrong-{i}"))[-1][:4], b"535 ")
            self.assertLess(time.monotonic() - t, 1.5)

    def auth_process(self):
        """Pid of this instance's Dovecot auth process (its working folder is in DIR)."""
        run = os.path.join(os.path.realpath(self.dir), "dovecot", "run")
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.readlink(f"/proc/{pid}/cwd") != run:
                    continue
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[0].endswith(b"/auth"):
                        return int(pid)
            except OSError:
                continue
        return None

    def test_oauth_validation_stays_local(self):
        # The rendered settings name no URL: nothing to fetch, no fallback to HTTP.
        with open(os.path.join(self.dir, "dovecot", "oauth2.conf.ext")) as f:
            settings = dict(l.split("=", 1) for l in f.read().splitlines() if l.strip() and not l.startswith("#"))
        settings = {k.strip(): v.strip() for k, v in settings.items()}
        self.assertEqual(settings["introspection_mode"], "local")
        self.assertEqual([k for k, v in settings.items() if k.endswith("_url") and v], [])
        pid = self.auth_process()
        self.assertIsNotNone(pid, "no Dovecot auth process of this instance")

        def token_sessions():
            # A good and a bad JWT, and a token that is not a JWT at all (the case where
            # Dovecot would fall back to HTTP introspection if it had a URL).
            for mechanism in ("XOAUTH2", "OAUTHBEARER"):
                for token in (self.env["OAUTH_TOKEN"], self.env["OAUTH_BAD_TOKEN"], "opaque-token"):
                    c = self.client("SMTPS_PORT", implicit=True)
                    c.cmd("EHLO localhost")
                    self.token_auth(c, mechanism, token)
                    c.close()

        strace = shutil.which("strace")
        if strace is None:
            token_sessions()
        else:
            # Every socket, connect, send and file open of the auth process while it checks
            # tokens: no AF_INET/AF_INET6 socket (no HTTP, no DNS over UDP) and no resolver
            # file. The reads show the AUTH requests from Postfix, so the trace is real.
            trace = os.path.join(tempfile.mkdtemp(dir=_tmp), "trace")
            proc = subprocess.Popen([strace, "-f", "-s", "64", "-p", str(pid), "-o", trace,
                                     "-e", "trace=socket,connect,sendto,sendmsg,bind,openat,open,read"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            try:
                r, _, _ = select.select([proc.stderr], [], [], TIMEOUT)
                self.assertTrue(r and b"attached" in proc.stderr.readline(), "strace did not attach")
                token_sessions()  # each waits for its final reply: the auth work is done
            finally:
                proc.send_signal(signal.SIGINT)
                proc.wait(TIMEOUT)
                proc.stderr.close()
            with open(trace, errors="replace") as f:
                text = f.read()
            self.assertGreaterEqual(text.count("XOAUTH2"), 3, text[-2000:])
            self.assertGreaterEqual(text.count("OAUTHBEARER"), 3, text[-2000:])
            self.assertIsNone(re.search(r"AF_INET|resolv\.conf|/etc/hosts|nsswitch|gai\.conf", text), text)
        # Afterwards, every socket the auth process holds is a unix socket.
        unix = set()
        with open(f"/proc/{pid}/net/unix") as f:
            for line in f.readlines()[1:]:
                unix.add(line.split()[6])
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            m = re.fullmatch(r"socket:\[(\d+)\]", target)
            if m:
                self.assertIn(m.group(1), unix, f"fd {fd} of the auth process is not a unix socket")

    def test_submission_requires_tls_and_auth(self):
        c = self.client("SUBMISSION_PORT")
        c.cmd("EHLO localhost")
        self.assertEqual(c.cmd("MAIL FROM:<a@x.test>")[-1][:3], b"530")
        c.starttls()
        c.cmd("EHLO localhost")
        c.cmd("MAIL FROM:<a@x.test>")
        self.assertEqual(c.cmd("RCPT TO:<b@y.test>")[-1][:3], b"554")

    def test_delivery_and_refused_recipient(self):
        c = self.client("SMTPS_PORT", implicit=True)
        c.cmd("EHLO localhost")
        tag = f"selftest-{time.time_ns()}"
        c.send(b"MAIL FROM:<s@x.test>\r\nRCPT TO:<refused@example.test>\r\nRCPT TO:<"
               + tag.encode() + b"@y.test>\r\nDATA\r\n")
        self.assertEqual([c.code() for _ in range(4)], [250, 550, 250, 354])
        c.send(b"Subject: " + tag.encode() + b"\r\n\r\nbody\r\n..dot\r\n.\r\n")
        self.assertEqual(c.code(), 250)
        deadline = time.monotonic() + 10
        found = []
        while time.monotonic() < deadline and not found:
            for f in glob.glob(os.path.join(self.env["MAILDIR"], "new", "*")):
                with open(f, "rb") as fh:
                    data = fh.read()
                if tag.encode() in data:
                    found.append(data)
            time.sleep(0.1)
        self.assertEqual(len(found), 1)
        msg = found[0]
        self.assertTrue(msg.startswith(b"Return-Path: <s@x.test>\nX-Original-To: " + tag.encode()), msg)
        self.assertIn(b"Delivered-To: " + tag.encode() + b"@y.test\n", msg)
        self.assertTrue(msg.endswith(b"\n\nbody\n.dot\n"), msg)


if __name__ == "__main__":
    unittest.main()
