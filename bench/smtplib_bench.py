#!/usr/bin/python3
"""The smtplib side of the SMTP Scope benchmark (bench/README.md).

Does the same work as smtpbench does with SmtpClient, against the same sink:
  --part small: N messages of the same size and shape over ONE session
                (smtplib has no PIPELINING or CHUNKING: one round trip a command);
  --part large: one message read from a file (smtplib needs it in memory).
Prints one JSON object on stdout. Every loop is bounded by a count and by
--max-seconds; a SIGALRM stops a send that hangs. Loopback only.
"""

import argparse
import json
import platform
import resource
import signal
import smtplib
import sys
import time

SENDER = "bench@example.test"
RECIPIENT = "sink@example.test"
BODY_LINE = b"The quick brown fox jumps over the lazy dog while SMTP Scope measures it.\r\n"


def make_message(index, size):
    """The same bytes smtpbench builds for message `index` (see smtpbench.cpp)."""
    header = (
        "From: <{s}>\r\n"
        "To: <{r}>\r\n"
        "Subject: smtpbench message {i}\r\n"
        "Message-ID: <{i}.smtpbench@example.test>\r\n"
        "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
    ).format(s=SENDER, r=RECIPIENT, i=index).encode("ascii")
    body_size = max(size - len(header), 2)
    body = bytearray()
    while len(body) + len(BODY_LINE) <= body_size:
        body += BODY_LINE
    rest = body_size - len(body)
    if rest == 1:
        # A line needs at least its CRLF: lengthen the last full line instead.
        del body[-len(BODY_LINE):]
        rest += len(BODY_LINE)
    if rest > 0:
        # A last, shorter line makes the total exact; it still ends with CRLF.
        body += b"x" * (rest - 2) + b"\r\n"
    return header + bytes(body)


def rss_kb():
    """Resident memory now (VmRSS), in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peak_rss_kb():
    """Peak resident memory of this process; ru_maxrss is in KiB on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class TimeLimit(Exception):
    pass


def on_alarm(_signum, _frame):
    raise TimeLimit("time limit reached")


def bench_small(args, result):
    # Built before timing, as smtpbench does: the measure is the sending.
    messages = [make_message(i, args.message_size) for i in range(args.messages)]
    result["attempted"] = args.messages
    result["rss_before_kb"] = rss_kb()
    result["peak_before_kb"] = peak_rss_kb()
    sent = 0
    sent_bytes = 0
    with smtplib.SMTP(args.host, args.port, local_hostname="localhost", timeout=args.timeout) as client:
        client.ehlo()
        start = time.perf_counter()
        deadline = start + args.max_seconds
        try:
            for message in messages:
                if time.perf_counter() >= deadline:
                    result["error"] = "time limit reached"
                    break
                client.sendmail(SENDER, [RECIPIENT], message)
                sent += 1
                sent_bytes += len(message)
        finally:
            result["seconds"] = time.perf_counter() - start
    result["messages"] = sent
    result["bytes"] = sent_bytes


def bench_large(args, result):
    result["attempted"] = 1
    result["rss_before_kb"] = rss_kb()
    result["peak_before_kb"] = peak_rss_kb()
    with smtplib.SMTP(args.host, args.port, local_hostname="localhost", timeout=args.timeout) as client:
        client.ehlo()
        start = time.perf_counter()
        try:
            # smtplib takes the message as one bytes object: reading the file
            # is part of its cost, as opening the stream is part of SmtpClient's.
            with open(args.large_file, "rb") as source:
                data = source.read()
            client.sendmail(SENDER, [RECIPIENT], data)
            result["messages"] = 1
            result["bytes"] = len(data)
        finally:
            result["seconds"] = time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--part", choices=("small", "large"), required=True)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--message-size", type=int, default=500)
    parser.add_argument("--large-file")
    parser.add_argument("--max-seconds", type=int, default=120)
    parser.add_argument("--timeout", type=float, default=30.0, help="per socket operation")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("loopback only")
    if args.part == "large" and not args.large_file:
        parser.error("--part large needs --large-file")

    result = {
        "tool": "smtplib",
        "python": platform.python_version(),
        "part": args.part,
        "attempted": 0,
        "messages": 0,
        "bytes": 0,
        "seconds": 0.0,
        "error": None,
    }
    # A hard stop for one send that hangs: the loop's own check runs only
    # between messages.
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.max_seconds + 5)
    try:
        if args.part == "small":
            bench_small(args, result)
        else:
            bench_large(args, result)
    except (TimeLimit, smtplib.SMTPException, OSError) as error:
        result["error"] = "{}: {}".format(type(error).__name__, error)
    finally:
        signal.alarm(0)
    result["peak_rss_kb"] = peak_rss_kb()
    result["rss_after_kb"] = rss_kb()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0 if result["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main())
