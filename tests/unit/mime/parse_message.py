#!/usr/bin/python3
"""Independent check of a serialized message: parses it with Python's stdlib
email package (policy=default, RFC 5322/2047/2231 aware) and prints what a
receiving client would see as JSON. Used by tst_message; shares no code with GMime."""
import email
import email.policy
import hashlib
import json
import sys


def tree(part):
    if part.is_multipart():
        return part.get_content_type() + "(" + ",".join(tree(p) for p in part.iter_parts()) + ")"
    return part.get_content_type()


def addresses(msg, name):
    header = msg[name]
    if header is None:
        return []
    return [{"name": a.display_name, "address": a.addr_spec} for a in header.addresses]


def text_of(msg, subtype):
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_type() != "text/" + subtype:
        return None
    return {
        "text": part.get_content().replace("\r\n", "\n"),
        "cte": part.get("Content-Transfer-Encoding", "7bit").lower(),
        "charset": part.get_content_charset(),
    }


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    attachments = []
    leaves = []
    defects = [type(d).__name__ for d in msg.defects]
    for part in msg.walk():
        defects += [type(d).__name__ for d in part.defects]
        if not part.is_multipart():
            data = part.get_payload(decode=True) or b""
            leaves.append({
                "type": part.get_content_type(),
                "content_id": str(part["content-id"]) if part["content-id"] is not None else None,
                "disposition": part.get_content_disposition(),
                "sha256": hashlib.sha256(data).hexdigest(),
            })
        if part.get_content_disposition() == "attachment":
            data = part.get_payload(decode=True)
            attachments.append({
                "filename": part.get_filename(),
                "type": part.get_content_type(),
                "cte": part.get("Content-Transfer-Encoding", "").lower(),
                "sha256": hashlib.sha256(data).hexdigest(),
            })
    out = {
        "subject": str(msg["subject"]) if msg["subject"] is not None else None,
        "from": addresses(msg, "from"),
        "to": addresses(msg, "to"),
        "cc": addresses(msg, "cc"),
        "reply_to": addresses(msg, "reply-to"),
        "has_bcc": "bcc" in msg,
        "has_date": msg["date"] is not None and msg["date"].datetime is not None,
        "message_id": str(msg["message-id"]) if msg["message-id"] is not None else None,
        "mime_version": str(msg["mime-version"]) if msg["mime-version"] is not None else None,
        "custom": [str(v) for v in msg.get_all("x-custom", [])],
        "tree": tree(msg),
        "attachments": attachments,
        "parts": leaves,
        "related_type": next((p.get_param("type") for p in msg.walk()
                              if p.get_content_type() == "multipart/related"), None),
        "headers": {name: [str(v) for v in msg.get_all(name, [])]
                    for name in ("importance", "x-priority", "priority",
                                 "disposition-notification-to", "return-receipt-to")},
        "plain": text_of(msg, "plain"),
        "html": text_of(msg, "html"),
        "defects": defects,
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
