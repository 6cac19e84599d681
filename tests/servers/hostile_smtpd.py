#!/usr/bin/python3
"""hostile_smtpd.py: a scripted SMTP server that misbehaves on purpose (tests only).

    hostile_smtpd.py --scenario NAME [--scenario NAME ...] [--cert PEM --key KEY]
                     [--implicit-tls] [--record FILE] [--option KEY=VALUE ...]
                     [--host 127.0.0.1|::1] [--verbose]

It binds HOST port 0 (loopback only), prints "PORT <n>" on stdout, and serves each
connection in its own thread until it is killed, or until its standard input is closed
when that is a pipe or a socket (so a test that dies leaves nothing behind; with a
terminal or /dev/null as stdin it runs until killed).

Plain sockets and ssl.MemoryBIO are used instead of aiosmtpd or asyncio streams so that
every byte is under control: bytes the client sends right after STARTTLS reach the TLS
layer untouched, and a scenario decides exactly which bytes go out in which write.

--record FILE appends one JSON object per line:
  {"conn": n, "phase": "plain"|"tls", "line": "..."}   every client command line and
        AUTH response line (terminator removed; invalid UTF-8 as \\xNN escapes);
        message content is not recorded as lines, see data-bytes
  {"conn": n, "event": "connect"}
  {"conn": n, "event": "tls-start", "version", "cipher", "sni"}
  {"conn": n, "event": "tls-failed", "error"}
  {"conn": n, "event": "data-bytes", "n", "raw_n", "sha256", "bare_lf", "bare_cr"
        [, "data_b64"]}  one per message: n and sha256 are for the content after
        dot-unstuffing (DATA) or the concatenated chunks (BDAT); raw_n is the bytes on
        the wire before the terminator; bare_lf/bare_cr count line ends that are not
        CRLF (RFC 5321 2.3.8); data_b64 (the raw bytes) only with record_data=1
  {"conn": n, "event": "early-bytes", "after": VERB}  the client had already sent more
        bytes when VERB was read, although VERB must end a pipelined group (RFC 2920
        3.1) or PIPELINING was not offered; "before": "GREETING" for bytes that came
        before the greeting (see delay-at=GREETING:s). A positive signal only: bytes
        still in flight are not seen.
  {"conn": n, "event": "plain-after-starttls", "bytes": "..."}  the first bytes after
        the STARTTLS reply are not a TLS record (RFC 3207 4: the client must start TLS)
  {"conn": n, "event": "flood", "at": VERB, "bytes": n, "ended": "client"|"cap"}  how much
        a flood scenario wrote before the client went away (or the cap was reached)
  {"conn": n, "event": "close", "by": "client"|"server"|"timeout"|"error"[, "error"]}

Baseline (scenario "ok"): greeting "220 smtp.test ESMTP", EHLO (PIPELINING, SIZE,
8BITMIME, STARTTLS when a certificate is given and TLS is not up yet, AUTH PLAIN LOGIN
after TLS or with auth_plain=1), HELO, STARTTLS, AUTH PLAIN/LOGIN/CRAM-MD5 (user
tester, password s3cret-pass), MAIL, RCPT, DATA, BDAT, RSET, NOOP, VRFY, QUIT.

Steps: the hooks below name a step by verb: GREETING, EHLO, HELO, STARTTLS, AUTH, MAIL,
RCPT, DATA, DOT (end of data: the final "." of DATA or BDAT ... LAST), BDAT (a chunk
that is not LAST), RSET, NOOP, VRFY, QUIT. VERB alone matches every occurrence in the
connection; VERB<n> only the n-th (RCPT2 = the second RCPT, EHLO2 = the EHLO after TLS).

Scenarios (several may be given; later ones win on conflicts):
  ok                      the well-behaved baseline
  wrong-cert              the baseline (the test passes the other.test certificate)
  inject-after-starttls   "220 Ready" and "250-x\\r\\n250 AUTH PLAIN\\r\\n" in ONE write, then TLS (A.1)
  inject-partial          the same with "250-AUTH PLAIN INJ" and no CRLF (A.2)
  inject-late             "220 Ready", 0.3 s later "250 X\\r\\n", then TLS (A.3)
  no-starttls             EHLO without STARTTLS; STARTTLS is answered 502 (A.6)
  starttls-<code>         STARTTLS answered 454, 502, 501, 354, 250 or 421 (then close) (A.7)
  ehlo-502                EHLO answered 502; HELO accepted (A.8)
  mismatched-multiline    EHLO reply "250-first\\r\\n550 second\\r\\n" (E.39)
  silent-greeting         accept, never send anything (F.52)
  silent-at=VERB          never answer that step (nor anything after it)
  trickle-greeting        the greeting one byte every 0.5 s, never ending (F.53)
  close-mid-data          after 354, read about 1 KB (close_mid_data=N) and close, or at
                          the end of data if the message is shorter (F.56)
  close-after-dot         close right after the end of data, no reply (F.57)
  close-at=VERB           close without a reply at that step
  421-at=VERB             "421 4.3.2 Shutting down" and close at that step (F.55)
  reply-at=VERB:TEXT      answer that step with TEXT (escapes \\r \\n \\t \\\\ \\xHH; CRLF is
                          appended unless TEXT ends with a newline or with \\c); the step
                          takes effect only for its success code (220 STARTTLS, 354 DATA,
                          2xx otherwise); a final 421 line closes the connection
  reply-close-at=VERB:TEXT  the same, then close
  delay-at=VERB:SECONDS   wait before handling that step (delay-at=GREETING:2 for E.49)
  slow-dot=SECONDS        delay the reply to the end of data (F.54)
  long-line               EHLO reply with a 200 KB line (E.44)
  huge-ehlo               200000 "250-X-CAP-n" lines in the EHLO reply (E.45)
  early-data              greeting and "250 extra\\r\\n" in one write (E.49)
  auth-loop               every line after AUTH answered "334 QnVHZ1liVWdHeQ==" forever (H.71)
  bad-challenge           AUTH answered "334 !!!notbase64"; "*" then gets 501 (H.72)
  plaintext-on-tls        with --implicit-tls, speak plaintext anyway (A.10)
  refuse-rcpt=ADDR        550 5.1.1 for that recipient (case-insensitive; repeatable) (G.62)
  max-rcpt=N              452 4.5.3 for every recipient after the N-th (G.61)
  reject-during-data=N    after N bytes of DATA, "552 5.3.4" and stop reading (F.58)
  idle-421=SECONDS        "421 4.4.2 Idle timeout" and close when no command comes (F.59)
  flood-at=VERB           answer that step with "250-" lines at full speed that never end,
                          until the client closes or flood_cap bytes are written (I.81)
  junk-during-data        after the 354, write "250-" lines at full speed while reading the
                          message, until the client closes or flood_cap (I.81; plaintext only)

Options (--option KEY=VALUE): hostname (smtp.test), user, password, size (10485760;
"none" to omit SIZE), pipelining=0, auth (mechanisms, default "PLAIN LOGIN"),
auth_plain=1 (AUTH before TLS), chunking=1, smtputf8=1, dsn=1, enhanced=1, ext=LINE
(repeatable extra EHLO line), chunk=N and chunk_delay=S (write every reply N bytes at a
time, default delay 0.05 s: fragmented replies, E.48), record_data=1, tls_min/tls_max
(1.0 1.1 1.2 1.3), close_mid_data=N, idle_timeout=S (default 600), max_line=N (16384),
flood_cap=BYTES (268435456: a flood stops there, so a client that buffers without bound
fails its test instead of filling the memory).
The codes in parentheses (A.1, E.48, ...) name the section of docs/security.md
(A. STARTTLS and TLS policy ... I. Resource limits) and a case within it.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import select
import socket
import ssl
import stat
import sys
import threading
import time
import warnings

# Verbs that may be hooked, and those that must end a pipelined group (RFC 2920 3.1).
STEPS = {"GREETING", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "DOT",
         "BDAT", "RSET", "NOOP", "VRFY", "QUIT"}
# RFC 2920 3.1 lists EHLO DATA VRFY EXPN TURN QUIT NOOP; STARTTLS (RFC 3207 4.2) and
# AUTH (its reply changes the session) end a group too, as in Postfix.
GROUP_ENDERS = {"EHLO", "HELO", "STARTTLS", "AUTH", "DATA", "QUIT", "NOOP", "VRFY",
                "EXPN", "TURN", "ETRN"}

STARTTLS_REPLIES = {
    "454": "454 4.7.0 TLS not available",
    "502": "502 5.5.1 Unknown command",
    "501": "501 5.5.4 Syntax error",
    "354": "354 go on",
    "250": "250 OK",
    "421": "421 4.3.2 Bye",
}
LOOP_CHALLENGE = b"334 QnVHZ1liVWdHeQ==\r\n"
TLS_VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
                "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


class UsageError(Exception):
    pass


class PeerClosed(Exception):
    """The client closed the connection."""


class ServerClose(Exception):
    """The scenario closes the connection."""


def unescape(text):
    """Turn a reply given on the command line into bytes: \\r \\n \\t \\\\ \\xHH escapes,
    and CRLF appended unless it ends with a newline or with \\c (no terminator)."""
    raw = os.fsencode(text)
    out = bytearray()
    i = 0
    no_terminator = False
    while i < len(raw):
        c = raw[i:i + 1]
        if c != b"\\" or i + 1 == len(raw):
            out += c
            i += 1
            continue
        e = raw[i + 1:i + 2]
        if e == b"x" and re.fullmatch(rb"[0-9a-fA-F]{2}", raw[i + 2:i + 4]):
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
            continue
        if e == b"c" and i + 2 == len(raw):
            no_terminator = True
            i += 2
            continue
        out += {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"\\": b"\\"}.get(e, b"\\" + e)
        i += 2
    if not no_terminator and not out.endswith(b"\n"):
        out += b"\r\n"
    return bytes(out)


def reply_code(data):
    """The code of the last complete line of a reply (RFC 5321 4.2), or None."""
    lines = [l for l in data.split(b"\n") if l.strip()]
    if not lines:
        return None
    m = re.match(rb"(\d{3})", lines[-1])
    return int(m.group(1)) if m else None


def show(data):
    """Bytes as text for the record: UTF-8, anything else as \\xNN."""
    return data.decode("utf-8", "backslashreplace")


class Config:
    """Everything the scenarios and options decide, shared by all connections."""

    def __init__(self):
        self.hostname = "smtp.test"
        self.user = "tester"
        self.password = "s3cret-pass"
        self.size = "10485760"
        self.pipelining = True
        self.auth_mechs = ["PLAIN", "LOGIN"]
        self.auth_plain = False
        self.extensions = []          # extra EHLO keywords
        self.offer_starttls = True
        self.implicit_tls = False
        self.plaintext_on_tls = False
        self.hooks = {}               # step -> {"delay": s, "action": (...)}
        self.refuse_rcpt = set()
        self.max_rcpt = 0
        self.starttls_inject = None   # bytes sent with the 220 in one write
        self.starttls_inject_late = None
        self.trickle_greeting = False
        self.early_data = False
        self.long_line = False
        self.huge_ehlo = False
        self.auth_loop = False
        self.bad_challenge = False
        self.close_mid_data = None    # bytes of DATA to read before closing
        self.close_mid_data_bytes = 1024
        self.reject_during_data = None
        self.idle_421 = None
        self.idle_timeout = 600.0
        self.max_line = 16384
        self.chunk = 0
        self.chunk_delay = 0.05
        self.record_data = False
        self.tls_min = None
        self.tls_max = None
        self.junk_during_data = False
        self.flood_cap = 256 * 1024 * 1024

    # --- scenarios --------------------------------------------------------------------

    def step_name(self, name):
        m = re.fullmatch(r"([A-Z]+)(\d*)", name.upper())
        if not m or m.group(1) not in STEPS:
            raise UsageError(f"unknown step {name!r} (one of {', '.join(sorted(STEPS))}, "
                             f"optionally followed by an occurrence number)")
        return name.upper()

    def hook(self, step, **kw):
        self.hooks.setdefault(self.step_name(step), {}).update(kw)

    def apply_scenario(self, spec):
        name, eq, value = spec.partition("=")
        if not eq:
            value = None

        def need_value():
            if value is None or value == "":
                raise UsageError(f"scenario {name} needs a value: {name}=...")
            return value

        def verb_text():
            verb, colon, text = need_value().partition(":")
            if not colon:
                raise UsageError(f"scenario {name} needs VERB:TEXT")
            return verb, text

        if name in ("ok", "wrong-cert"):
            pass
        elif name == "inject-after-starttls":
            self.starttls_inject = b"250-x\r\n250 AUTH PLAIN\r\n"
        elif name == "inject-partial":
            self.starttls_inject = b"250-AUTH PLAIN INJ"
        elif name == "inject-late":
            self.starttls_inject_late = b"250 X\r\n"
        elif name == "no-starttls":
            self.offer_starttls = False
        elif re.fullmatch(r"starttls-\d{3}", name):
            code = name.split("-")[1]
            if code not in STARTTLS_REPLIES:
                raise UsageError(f"no canned STARTTLS reply for {code} "
                                 f"(use reply-at=STARTTLS:TEXT)")
            self.hook("STARTTLS", action=("reply", unescape(STARTTLS_REPLIES[code]), False))
        elif name == "ehlo-502":
            self.hook("EHLO", action=("reply", b"502 5.5.2 Error: command not recognized\r\n", False))
        elif name == "mismatched-multiline":
            self.hook("EHLO", action=("reply", b"250-first\r\n550 second\r\n", False))
        elif name == "silent-greeting":
            self.hook("GREETING", action=("silent",))
        elif name == "silent-at":
            self.hook(need_value(), action=("silent",))
        elif name == "trickle-greeting":
            self.trickle_greeting = True
        elif name == "close-mid-data":
            self.close_mid_data = True
        elif name == "close-after-dot":
            self.hook("DOT", action=("close",))
        elif name == "close-at":
            self.hook(need_value(), action=("close",))
        elif name == "421-at":
            self.hook(need_value(), action=("reply", b"421 4.3.2 Shutting down\r\n", True))
        elif name in ("reply-at", "reply-close-at"):
            verb, text = verb_text()
            self.hook(verb, action=("reply", unescape(text), name == "reply-close-at"))
        elif name == "delay-at":
            verb, text = verb_text()
            self.hook(verb, delay=float(text))
        elif name == "slow-dot":
            self.hook("DOT", delay=float(need_value()))
        elif name == "long-line":
            self.long_line = True
        elif name == "huge-ehlo":
            self.huge_ehlo = True
        elif name == "early-data":
            self.early_data = True
        elif name == "auth-loop":
            self.auth_loop = True
        elif name == "bad-challenge":
            self.bad_challenge = True
        elif name == "plaintext-on-tls":
            self.plaintext_on_tls = True
        elif name == "refuse-rcpt":
            self.refuse_rcpt.add(need_value().lower())
        elif name == "max-rcpt":
            self.max_rcpt = int(need_value())
        elif name == "reject-during-data":
            self.reject_during_data = int(need_value())
        elif name == "idle-421":
            self.idle_421 = float(need_value())
        elif name == "flood-at":
            self.hook(need_value(), action=("flood",))
        elif name == "junk-during-data":
            self.junk_during_data = True
        else:
            raise UsageError(f"unknown scenario {spec!r}")

    def apply_option(self, spec):
        key, eq, value = spec.partition("=")
        if not eq:
            raise UsageError(f"option {spec!r} is not KEY=VALUE")
        flag = value not in ("0", "no", "false", "")
        if key in ("hostname", "user", "password"):
            setattr(self, key, value)
        elif key == "size":
            self.size = None if value == "none" else str(int(value))
        elif key == "pipelining":
            self.pipelining = flag
        elif key == "auth":
            self.auth_mechs = value.upper().split()
        elif key == "auth_plain":
            self.auth_plain = flag
        elif key in ("chunking", "smtputf8", "dsn", "enhanced"):
            word = {"chunking": "CHUNKING", "smtputf8": "SMTPUTF8", "dsn": "DSN",
                    "enhanced": "ENHANCEDSTATUSCODES"}[key]
            if flag and word not in self.extensions:
                self.extensions.append(word)
        elif key == "ext":
            self.extensions.append(value)
        elif key == "chunk":
            self.chunk = int(value)
        elif key == "chunk_delay":
            self.chunk_delay = float(value)
        elif key == "record_data":
            self.record_data = flag
        elif key in ("tls_min", "tls_max"):
            if value not in TLS_VERSIONS:
                raise UsageError(f"{key} must be one of {', '.join(TLS_VERSIONS)}")
            setattr(self, key, TLS_VERSIONS[value])
        elif key == "close_mid_data":
            self.close_mid_data_bytes = int(value)
        elif key == "idle_timeout":
            self.idle_timeout = float(value)
        elif key == "max_line":
            self.max_line = int(value)
        elif key == "flood_cap":
            self.flood_cap = int(value)
        else:
            raise UsageError(f"unknown option {key!r}")

    @property
    def offers_chunking(self):
        return "CHUNKING" in self.extensions


class Recorder:
    """Appends JSON lines to the --record file; one lock for all connection threads."""

    def __init__(self, path, verbose):
        self.file = open(path, "a", encoding="utf-8") if path else None
        self.verbose = verbose
        self.lock = threading.Lock()

    def write(self, obj):
        if self.file is None:
            return
        with self.lock:
            self.file.write(json.dumps(obj, ensure_ascii=False) + "\n")
            self.file.flush()

    def log(self, conn, text):
        if self.verbose:
            with self.lock:
                print(f"[{conn}] {text}", file=sys.stderr, flush=True)


class Session:
    """One client connection: the transport (plain socket, then TLS through memory BIOs)
    and the SMTP state machine of the baseline server, with the scenario hooks."""

    def __init__(self, cfg, rec, tls_ctx, sock, conn_id):
        self.cfg, self.rec, self.tls_ctx = cfg, rec, tls_ctx
        self.sock = sock
        self.id = conn_id
        self.tls = None                 # ssl.SSLObject once TLS is up
        self.incoming = self.outgoing = None
        self.buf = bytearray()          # received application bytes not consumed yet
        self.counts = {}
        self.greeted = False
        self.rejecting = False          # after a non-2xx greeting (RFC 5321 3.1)
        self.authed = False
        self.silent = False
        self.reset_transaction()
        self.messages = 0

    # --- record ------------------------------------------------------------------------

    @property
    def phase(self):
        return "tls" if self.tls else "plain"

    def event(self, name, **kw):
        self.rec.write({"conn": self.id, "event": name, **kw})
        self.rec.log(self.id, f"event {name} {kw if kw else ''}")

    # --- transport ---------------------------------------------------------------------

    def _recv_raw(self, timeout):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        return data

    def _flush_tls(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _fill(self, timeout):
        """Add received application bytes to self.buf; PeerClosed at end of stream."""
        if not self.tls:
            data = self._recv_raw(timeout)
            if not data:
                raise PeerClosed()
            self.buf += data
            return
        while True:
            try:
                data = self.tls.read(65536)
                if not data:
                    raise PeerClosed()
                self.buf += data
                return
            except ssl.SSLWantReadError:
                self._flush_tls()
                raw = self._recv_raw(timeout)
                if not raw:
                    raise PeerClosed()
                self.incoming.write(raw)
            except ssl.SSLZeroReturnError:
                raise PeerClosed()

    def read_line(self, limit=None, timeout=None):
        """One line up to and including LF (the terminator is checked by the caller).
        Returns (line, too_long); a too long line is drained and returned truncated."""
        timeout = self.cfg.idle_timeout if timeout is None else timeout
        too_long = False
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line, too_long
            if limit and len(self.buf) > limit:
                too_long = True
                del self.buf[limit:]
            self._fill(timeout)

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill(self.cfg.idle_timeout)
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def has_pending_input(self):
        """Whether the client already sent more than we consumed."""
        if self.buf:
            return True
        if self.tls and (self.tls.pending() or self.incoming.pending):
            return True
        r, _, _ = select.select([self.sock], [], [], 0)
        return bool(r)

    def write_raw(self, data):
        """One write of exactly these bytes (one TLS record / one TCP segment)."""
        self.rec.log(self.id, f"S: {data[:300]!r}{'...' if len(data) > 300 else ''}")
        if self.tls:
            view = memoryview(data)
            while view:
                n = self.tls.write(view)
                view = view[n:]
            self._flush_tls()
        else:
            self.sock.sendall(data)

    def send(self, data):
        """A reply, cut into chunk-byte writes when chunk=N is set (E.48)."""
        if self.cfg.chunk > 0:
            for i in range(0, len(data), self.cfg.chunk):
                self.write_raw(data[i:i + self.cfg.chunk])
                time.sleep(self.cfg.chunk_delay)
        else:
            self.write_raw(data)

    def start_tls(self):
        """Server side of the handshake through memory BIOs. Bytes the client sent right
        after the STARTTLS command are already in self.buf: they go to TLS first."""
        leftover = bytes(self.buf)
        self.buf.clear()
        if leftover and leftover[0] != 0x16:
            # RFC 3207 4: after the 220 the client starts TLS; anything else is plaintext
            # it must not send (docs/security.md).
            self.event("plain-after-starttls", bytes=show(leftover[:200]))
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = self.tls_ctx.wrap_bio(self.incoming, self.outgoing, server_side=True)
        obj.sni_name = None
        self.incoming.write(leftover)
        try:
            while True:
                try:
                    obj.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    self._flush_tls_from(obj)
                    raw = self._recv_raw(self.cfg.idle_timeout)
                    if not raw:
                        self.incoming.write_eof()
                        continue
                    self.incoming.write(raw)
        except (ssl.SSLError, OSError) as e:
            self._flush_tls_from(obj, ignore_errors=True)
            self.event("tls-failed", error=str(e))
            raise ServerClose() from e
        self.tls = obj
        self._flush_tls()  # TLS 1.3 session tickets
        cipher = obj.cipher()
        self.event("tls-start", version=obj.version(), cipher=cipher[0] if cipher else None,
                   sni=obj.sni_name)

    def _flush_tls_from(self, obj, ignore_errors=False):
        data = self.outgoing.read()
        if data:
            try:
                self.sock.sendall(data)
            except OSError:
                if not ignore_errors:
                    raise

    # --- helpers for the state machine -------------------------------------------------

    def reset_transaction(self):
        self.mail_from = None
        self.rcpts = []
        self.bdat_data = None

    def count(self, verb):
        self.counts[verb] = self.counts.get(verb, 0) + 1
        return self.counts[verb]

    def hook_for(self, verb, n):
        """The merged hooks for this step: VERB<n> settings override VERB ones."""
        merged = dict(self.cfg.hooks.get(verb, {}))
        merged.update(self.cfg.hooks.get(f"{verb}{n}", {}))
        return merged

    def run_step(self, verb):
        """Apply the scenario hooks of a step. Returns the custom reply (bytes) when the
        scenario answers this step, None for the normal handling. May close or go
        silent (raises ServerClose / enters silent mode and returns False)."""
        n = self.count(verb)
        hook = self.hook_for(verb, n)
        if "delay" in hook:
            time.sleep(hook["delay"])
        action = hook.get("action")
        if action is None:
            return None
        if action[0] == "close":
            raise ServerClose()
        if action[0] == "silent":
            self.silent = True
            return False
        if action[0] == "flood":
            self.flood(verb)
        return action  # ("reply", bytes, close_after)

    @staticmethod
    def flood_block(start):
        """About 64 KiB of numbered "250-" continuation lines (a reply that never ends)."""
        return b"".join(b"250-FLOOD %010d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n" % i
                        for i in range(start, start + 1024))

    def flood(self, verb):
        """Write a reply that never ends, at full speed, until the client goes away or
        flood_cap is reached (I.81); then the connection is closed."""
        written, i, ended = 0, 0, "cap"
        try:
            while written < self.cfg.flood_cap:
                block = self.flood_block(i)
                self.write_raw_quiet(block)
                written += len(block)
                i += 1024
        except (OSError, ssl.SSLError):
            ended = "client"
        self.event("flood", at=verb, bytes=written, ended=ended)
        raise ServerClose()

    def write_raw_quiet(self, data):
        """write_raw without the log line (a flood would fill the log)."""
        if self.tls:
            view = memoryview(data)
            while view:
                n = self.tls.write(view)
                view = view[n:]
            self._flush_tls()
        else:
            self.sock.sendall(data)

    def answer(self, default, custom):
        """Send the normal reply or the scenario's; return the code that was sent (0 when
        the reply has no valid code).
        A custom reply whose final line is 421 (RFC 5321 3.8), or reply-close-at,
        closes the connection after it is sent."""
        if custom:
            _, data, close_after = custom
            self.send(data)
            if close_after or reply_code(data) == 421:
                raise ServerClose()
            return reply_code(data) or 0
        self.send(default if default.endswith(b"\n") else default + b"\r\n")
        return reply_code(default) or 0

    def silent_loop(self):
        """Never answer again; keep reading so the record shows what the client sends."""
        while True:
            line, _ = self.read_line(limit=self.cfg.max_line)
            self.record_line(line)

    def record_line(self, line):
        text = show(line.rstrip(b"\r\n") if line.endswith(b"\r\n") else line.rstrip(b"\n"))
        self.rec.write({"conn": self.id, "phase": self.phase, "line": text})
        self.rec.log(self.id, f"C: {line!r}")

    def read_client_line(self, timeout=None):
        """A line from the client (a command or an AUTH response), recorded."""
        line, too_long = self.read_line(limit=self.cfg.max_line, timeout=timeout)
        self.record_line(line)
        return line, too_long

    # --- the session -------------------------------------------------------------------

    def run(self):
        by, err = "server", None
        self.event("connect")
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.cfg.implicit_tls and not self.cfg.plaintext_on_tls:
                self.start_tls()  # RFC 8314 3.3: TLS from the first byte
            self.greeting()
            while True:
                if self.silent:
                    self.silent_loop()
                self.command()
        except PeerClosed:
            by = "client"
        except ServerClose:
            by = "server"
        except socket.timeout:
            by = "timeout"
        except (OSError, ssl.SSLError) as e:
            by, err = "error", str(e)
        finally:
            self.event("close", by=by, **({"error": err} if err else {}))
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self.sock.close()

    def greeting(self):
        custom = self.run_step("GREETING")
        if custom is False:
            return
        if self.has_pending_input():
            # RFC 5321 3.1 / 4.3.1: the client must wait for the greeting (E.49).
            self.event("early-bytes", before="GREETING")
        text = f"220 {self.cfg.hostname} ESMTP hostile_smtpd\r\n".encode()
        if self.cfg.trickle_greeting and not custom:
            # One byte every 0.5 s, and never a line end: only an overall reply
            # deadline stops a client here (F.53).
            for b in text[:-2]:
                self.write_raw(bytes([b]))
                time.sleep(0.5)
            while True:
                self.write_raw(b".")
                time.sleep(0.5)
        if self.cfg.early_data and not custom:
            self.write_raw(text + b"250 extra\r\n")  # one write (E.49)
            return
        if self.answer(text, custom) // 100 != 2:
            # RFC 5321 3.1: after a 554 greeting the server waits for QUIT.
            self.rejecting = True

    def command(self):
        timeout = self.cfg.idle_421 if self.cfg.idle_421 else None
        try:
            line, too_long = self.read_client_line(timeout=timeout)
        except socket.timeout:
            if self.cfg.idle_421 is None:
                raise
            self.send(b"421 4.4.2 Idle timeout\r\n")
            raise ServerClose()
        if too_long:
            self.send(b"500 5.5.2 Error: line too long\r\n")
            return
        text = line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        if verb in GROUP_ENDERS or not self.cfg.pipelining:
            if verb != "BDAT" and self.has_pending_input():
                self.event("early-bytes", after=verb)
        if self.rejecting and verb != "QUIT":
            self.send(b"503 5.5.1 Error: no service\r\n")
            return
        handler = getattr(self, f"cmd_{verb}", None) if verb.isalpha() else None
        if handler is None:
            self.send(b"502 5.5.2 Error: command not recognized\r\n" if verb
                      else b"500 5.5.2 Error: bad syntax\r\n")
            return
        if verb == "BDAT":
            handler(arg)  # its hooks run after the chunk is read
            return
        custom = self.run_step(verb) if verb in STEPS else None
        if custom is False:
            return
        handler(arg, custom)

    # --- commands ----------------------------------------------------------------------

    def ehlo_lines(self):
        cfg = self.cfg
        lines = [cfg.hostname]
        if cfg.huge_ehlo:
            lines += [f"X-CAP-{i}" for i in range(200000)]
        if cfg.pipelining:
            lines.append("PIPELINING")
        if cfg.size is not None:
            lines.append(f"SIZE {cfg.size}")
        lines.append("8BITMIME")
        if self.tls_ctx and cfg.offer_starttls and not self.tls:
            lines.append("STARTTLS")
        if self.auth_offered():
            lines.append("AUTH " + " ".join(cfg.auth_mechs))
        lines += cfg.extensions
        if cfg.long_line:
            lines.append("X-LONG " + "A" * (200 * 1024))
        return lines

    def cmd_EHLO(self, arg, custom):
        lines = self.ehlo_lines()
        default = b"".join(f"250-{l}\r\n".encode() for l in lines[:-1]) + f"250 {lines[-1]}\r\n".encode()
        if self.answer(default, custom) == 250:
            self.greeted = True
            self.reset_transaction()  # RFC 5321 4.1.4: EHLO resets the transaction

    def cmd_HELO(self, arg, custom):
        if self.answer(f"250 {self.cfg.hostname}".encode(), custom) == 250:
            self.greeted = True
            self.reset_transaction()

    def cmd_STARTTLS(self, arg, custom):
        if not custom:
            if not self.tls_ctx or not self.cfg.offer_starttls:
                self.send(b"502 5.5.1 Error: command not implemented\r\n")
                return
            if self.tls:
                self.send(b"503 5.5.1 Error: TLS already active\r\n")
                return
            if arg:
                self.send(b"501 5.5.4 Syntax: STARTTLS\r\n")  # RFC 3207 4
                return
        ready = b"220 2.0.0 Ready to start TLS\r\n"
        if custom:
            code = self.answer(None, custom)
            if code != 220 or not self.tls_ctx:
                return  # only 220 starts TLS (RFC 3207 4)
        elif self.cfg.starttls_inject is not None:
            self.write_raw(ready + self.cfg.starttls_inject)  # ONE write (A.1, A.2)
        elif self.cfg.starttls_inject_late is not None:
            self.write_raw(ready)
            time.sleep(0.3)
            self.write_raw(self.cfg.starttls_inject_late)  # A.3
        else:
            self.write_raw(ready)
        # Straight after the 220, so no byte the client sends next is read as plaintext.
        self.start_tls()
        # RFC 3207 4.2: forget everything learned before TLS; the client must EHLO again.
        self.greeted = False
        self.authed = False
        self.reset_transaction()

    def auth_offered(self):
        return bool(self.cfg.auth_mechs) and (self.tls is not None or self.cfg.auth_plain)

    def cmd_AUTH(self, arg, custom):
        if custom:
            if self.answer(None, custom) == 235:
                self.authed = True
            return
        if self.cfg.auth_loop:
            # H.71: answer every line with a challenge, forever.
            self.send(LOOP_CHALLENGE)
            while True:
                self.read_client_line()
                self.send(LOOP_CHALLENGE)
        if not self.auth_offered():
            if self.tls_ctx and not self.tls:
                self.send(b"530 5.7.0 Must issue a STARTTLS command first\r\n")  # RFC 3207 4
            else:
                self.send(b"503 5.5.1 Error: authentication not enabled\r\n")
            return
        if self.authed:
            self.send(b"503 5.5.1 Error: already authenticated\r\n")  # RFC 4954 4
            return
        if self.mail_from is not None:
            self.send(b"503 5.5.1 Error: MAIL transaction in progress\r\n")  # RFC 4954 4
            return
        mech, _, initial = arg.partition(" ")
        mech = mech.upper()
        if self.cfg.bad_challenge:
            self.send(b"334 !!!notbase64\r\n")  # H.72
            line, _ = self.read_client_line()
            if line.strip() == b"*":
                self.send(b"501 5.7.0 Authentication aborted\r\n")
            else:
                self.send(b"535 5.7.8 Error: authentication failed\r\n")
            return
        if mech not in self.cfg.auth_mechs:
            self.send(b"504 5.5.4 Unrecognized authentication type\r\n")
            return
        try:
            ok = {"PLAIN": self.auth_plain, "LOGIN": self.auth_login,
                  "CRAM-MD5": self.auth_cram_md5}[mech](initial.strip())
        except KeyError:
            self.send(b"504 5.5.4 Mechanism not implemented by this server\r\n")
            return
        except _AuthCancelled:
            self.send(b"501 5.7.0 Authentication aborted\r\n")  # RFC 4954 4
            return
        except _AuthBadEncoding:
            self.send(b"501 5.5.2 Cannot decode response\r\n")
            return
        if ok:
            self.authed = True
            self.send(b"235 2.7.0 Authentication successful\r\n")
        else:
            self.send(b"535 5.7.8 Error: authentication failed\r\n")

    def _challenge(self, data):
        """Send a 334 challenge and return the decoded client response (RFC 4954 4)."""
        self.send(b"334 " + base64.b64encode(data) + b"\r\n")
        line, _ = self.read_client_line()
        return self._decode(line.strip())

    @staticmethod
    def _decode(token):
        if isinstance(token, str):
            token = token.encode("utf-8", "surrogateescape")
        if token == b"*":
            raise _AuthCancelled()
        if token == b"=":
            return b""  # RFC 4954 4: "=" is an empty initial response
        try:
            return base64.b64decode(token, validate=True)
        except (binascii.Error, ValueError):
            raise _AuthBadEncoding()

    def auth_plain(self, initial):
        # RFC 4616: [authzid] NUL authcid NUL passwd.
        resp = self._decode(initial) if initial else self._challenge(b"")
        parts = resp.split(b"\0")
        if len(parts) != 3:
            return False
        authzid, user, password = parts
        return (authzid in (b"", user) and user == self.cfg.user.encode()
                and password == self.cfg.password.encode())

    def auth_login(self, initial):
        user = self._decode(initial) if initial else self._challenge(b"Username:")
        password = self._challenge(b"Password:")
        return user == self.cfg.user.encode() and password == self.cfg.password.encode()

    def auth_cram_md5(self, initial):
        # RFC 2195: challenge <unique@host>, response "user hex(HMAC-MD5(password, challenge))".
        if initial:
            return False
        challenge = f"<{secrets.randbelow(10**12)}.{int(time.time())}@{self.cfg.hostname}>".encode()
        resp = self._challenge(challenge)
        user, _, digest = resp.rpartition(b" ")
        want = hmac.new(self.cfg.password.encode(), challenge, hashlib.md5).hexdigest().encode()
        return user == self.cfg.user.encode() and hmac.compare_digest(digest.lower(), want)

    def cmd_MAIL(self, arg, custom):
        if not custom:
            if not self.greeted:
                self.send(b"503 5.5.1 Error: send HELO/EHLO first\r\n")
                return
            if self.mail_from is not None:
                self.send(b"503 5.5.1 Error: nested MAIL command\r\n")
                return
        m = re.match(r"(?i)FROM:\s*<([^>]*)>(.*)$", arg)
        if not m and not custom:
            self.send(b"501 5.1.7 Bad sender address syntax\r\n")
            return
        if m and not custom:
            params = dict(p.partition("=")[::2] for p in m.group(2).split())
            size = params.get("SIZE") or params.get("size")
            if size and self.cfg.size not in (None, "0") and size.isdigit() \
                    and int(size) > int(self.cfg.size):
                # RFC 1870 6.1
                self.send(b"552 5.3.4 Message size exceeds fixed limit\r\n")
                return
        if self.answer(b"250 2.1.0 Ok", custom) // 100 == 2:
            self.mail_from = m.group(1) if m else ""
            self.rcpts = []

    def cmd_RCPT(self, arg, custom):
        if not custom and self.mail_from is None:
            self.send(b"503 5.5.1 Error: need MAIL command\r\n")
            return
        m = re.match(r"(?i)TO:\s*<([^>]*)>", arg)
        if not m and not custom:
            self.send(b"501 5.1.3 Bad recipient address syntax\r\n")
            return
        addr = m.group(1) if m else ""
        if not custom:
            if self.cfg.max_rcpt and len(self.rcpts) >= self.cfg.max_rcpt:
                self.send(b"452 4.5.3 Error: too many recipients\r\n")  # RFC 5321 4.5.3.1.10
                return
            if addr.lower() in self.cfg.refuse_rcpt:
                self.send(f"550 5.1.1 <{addr}>: Recipient address rejected: User unknown\r\n"
                          .encode("utf-8", "surrogateescape"))
                return
        if self.answer(b"250 2.1.5 Ok", custom) // 100 == 2:
            self.rcpts.append(addr)

    def cmd_DATA(self, arg, custom):
        if not custom:
            if self.mail_from is None:
                self.send(b"503 5.5.1 Error: need MAIL command\r\n")
                return
            if not self.rcpts:
                self.send(b"554 5.5.1 Error: no valid recipients\r\n")
                return
        if self.answer(b"354 End data with <CR><LF>.<CR><LF>", custom) != 354:
            return
        if self.cfg.junk_during_data:
            self.junk_while_reading()
        raw, content, bare_lf, bare_cr = self.receive_data()
        self.end_of_data(raw, content, bare_lf, bare_cr)

    def junk_while_reading(self):
        """Junk replies at full speed from a second thread while this one reads the
        message (I.81): the client must notice them while it uploads and stop. Plaintext
        only: an ssl.SSLObject must not be used from two threads."""
        if self.tls:
            raise UsageError("junk-during-data needs a plaintext session")

        def writer():
            written, i, ended = 0, 0, "cap"
            try:
                while written < self.cfg.flood_cap:
                    block = self.flood_block(i)
                    self.sock.sendall(block)
                    written += len(block)
                    i += 1024
            except OSError:
                ended = "client"
            self.event("flood", at="DATA", bytes=written, ended=ended)

        threading.Thread(target=writer, daemon=True).start()

    def receive_data(self):
        """Read the message up to CRLF.CRLF (RFC 5321 4.1.1.4), undoing dot-stuffing
        (4.5.2). A "." line after a bare LF is not the end (SMTP smuggling, D)."""
        raw = bytearray()
        content = bytearray()
        bare_lf = bare_cr = 0
        after_crlf = True
        while True:
            line, _ = self.read_line()
            if line == b".\r\n" and after_crlf:
                if self.cfg.close_mid_data:
                    raise ServerClose()  # a message shorter than close_mid_data
                return raw, content, bare_lf, bare_cr
            raw += line
            if self.cfg.close_mid_data and len(raw) >= self.cfg.close_mid_data_bytes:
                raise ServerClose()
            if self.cfg.reject_during_data is not None and len(raw) >= self.cfg.reject_during_data:
                # F.58: reject early and stop reading; the client must notice the reply
                # while it is still writing.
                self.send(b"552 5.3.4 Message too big\r\n")
                time.sleep(5)
                raise ServerClose()
            crlf = line.endswith(b"\r\n")
            if not crlf and line.endswith(b"\n"):
                bare_lf += 1
            body = line[:-2] if crlf else line
            bare_cr += body.count(b"\r")
            after_crlf = crlf
            content += line[1:] if line.startswith(b".") else line

    def end_of_data(self, raw, content, bare_lf, bare_cr):
        info = {"n": len(content), "raw_n": len(raw),
                "sha256": hashlib.sha256(content).hexdigest(),
                "bare_lf": bare_lf, "bare_cr": bare_cr}
        if self.cfg.record_data:
            info["data_b64"] = base64.b64encode(bytes(raw)).decode()
        self.event("data-bytes", **info)
        self.reset_transaction()
        custom = self.run_step("DOT")
        if custom is False:
            return
        self.messages += 1
        self.answer(f"250 2.0.0 Ok: queued as HOSTILE{self.id}x{self.messages}".encode(), custom)

    def cmd_BDAT(self, arg):
        # RFC 3030 2: "BDAT <size> [LAST]"; the chunk is read whatever the answer.
        m = re.fullmatch(r"(\d+)(\s+LAST)?\s*", arg, re.IGNORECASE)
        if not m:
            self.send(b"501 5.5.4 Syntax: BDAT count [LAST]\r\n")
            return
        chunk = self.read_exact(int(m.group(1)))
        last = bool(m.group(2))
        if self.mail_from is None or not self.rcpts:
            self.send(b"503 5.5.1 Error: need RCPT command\r\n")
            return
        if self.bdat_data is None:
            self.bdat_data = bytearray()
        self.bdat_data += chunk
        if last:
            data = self.bdat_data
            bare_lf = len(re.findall(rb"(?<!\r)\n", data))
            bare_cr = len(re.findall(rb"\r(?!\n)", data))
            self.end_of_data(data, data, bare_lf, bare_cr)
            return
        custom = self.run_step("BDAT")
        if custom is False:
            return
        self.answer(f"250 2.0.0 Ok: {len(chunk)} octets received".encode(), custom)

    def cmd_RSET(self, arg, custom):
        self.reset_transaction()
        self.answer(b"250 2.0.0 Ok", custom)

    def cmd_NOOP(self, arg, custom):
        self.answer(b"250 2.0.0 Ok", custom)

    def cmd_VRFY(self, arg, custom):
        self.answer(b"252 2.0.0 Cannot VRFY user", custom)

    def cmd_QUIT(self, arg, custom):
        self.answer(b"221 2.0.0 Bye", custom)
        raise ServerClose()


class _AuthCancelled(Exception):
    pass


class _AuthBadEncoding(Exception):
    pass


def make_tls_context(cfg, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if cfg.tls_min is not None or cfg.tls_max is not None:
        if min(v for v in (cfg.tls_min, cfg.tls_max) if v is not None) < ssl.TLSVersion.TLSv1_2:
            # OpenSSL 3 refuses TLS < 1.2 at its default security level (A.12).
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            # Python flags TLS 1.0/1.1 as deprecated: offering them is the point here.
            warnings.simplefilter("ignore", DeprecationWarning)
            if cfg.tls_min is not None:
                ctx.minimum_version = cfg.tls_min
            if cfg.tls_max is not None:
                ctx.maximum_version = cfg.tls_max

    def remember_sni(obj, name, _ctx):
        obj.sni_name = name  # RFC 6066 3 (B.17): the test checks what the client sent

    ctx.sni_callback = remember_sni
    return ctx


def watch_stdin():
    """Exit when stdin (a pipe or socket from the test) is closed."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return

    def run():
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=run, daemon=True, name="stdin-watch").start()


def main():
    p = argparse.ArgumentParser(
        description="Scripted hostile SMTP server for tests (see the module docstring).",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--scenario", action="append", default=[], metavar="NAME")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--record", metavar="FILE")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1"])
    p.add_argument("--verbose", action="store_true", help="log the conversation on stderr")
    args = p.parse_args()

    cfg = Config()
    try:
        for o in args.option:
            cfg.apply_option(o)
        for s in args.scenario or ["ok"]:
            cfg.apply_scenario(s)
    except (UsageError, ValueError) as e:
        p.error(str(e))
    cfg.implicit_tls = args.implicit_tls
    if args.implicit_tls and not args.cert and not cfg.plaintext_on_tls:
        p.error("--implicit-tls needs --cert")
    tls_ctx = make_tls_context(cfg, args.cert, args.key) if args.cert else None

    rec = Recorder(args.record, args.verbose)
    family = socket.AF_INET6 if args.host == "::1" else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((args.host, 0))
    listener.listen(64)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    watch_stdin()

    conn_id = 0
    try:
        while True:
            sock, _ = listener.accept()
            conn_id += 1
            session = Session(cfg, rec, tls_ctx, sock, conn_id)
            threading.Thread(target=session.run, daemon=True, name=f"conn-{conn_id}").start()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
