"""A real SMTP server on loopback for the email tests (aiosmtpd, from PyPI).

Usage: python mail_catcher.py PORT DIR, or python mail_catcher.py --parse FILE.eml (prints one
message as the JSON record below).

Accepts every message and writes it to DIR/<n>.eml (as received) and DIR/<n>.json (parsed with
Python's own email package: envelope, headers, text and HTML parts, and the raw message), and
prints a line per message. scripts/dev.sh runs it as the local mail catcher. A recipient whose local part starts
with "refuse" is refused with 550, as a real server refuses an unknown mailbox; one whose local
part starts with "tempfail" is answered 451 ("try again later", as a greylisting server does)
the first time and accepted after that.
Prints "ready" once it listens.
"""

import email
import email.policy
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


def parse(content, mail_from, rcpt_tos):
    """A message as the tests read it: envelope, headers, text and HTML parts, the raw bytes."""
    msg = email.message_from_bytes(content, policy=email.policy.default)

    def part(kind):
        body = msg.get_body(preferencelist=(kind,))
        return body.get_content() if body is not None else None

    def addresses(name):
        header = msg.get(name)
        if header is None:
            return None
        return [{"name": a.display_name, "address": a.addr_spec} for a in header.addresses]

    return {
        "mail_from": mail_from,
        "rcpt_tos": rcpt_tos,
        "header_names": [k.lower() for k in msg.keys()],
        "subject": msg["subject"],
        "from": addresses("from"),
        "to": addresses("to"),
        "bcc": addresses("bcc"),
        "message_id": msg["message-id"],
        "content_type": msg.get_content_type(),
        "text": part("plain"),
        "html": part("html"),
        "raw": content.decode("utf-8", "replace"),
    }


class Catcher:
    def __init__(self, out):
        self.out = out
        self.count = 0
        self.deferred = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("refuse"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("tempfail") and address not in self.deferred:
            self.deferred.add(address)
            print(f"deferred {address}", flush=True)
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        record = parse(envelope.content, envelope.mail_from, envelope.rcpt_tos)
        self.count += 1
        path = os.path.join(self.out, f"{self.count:04d}.json")
        with open(os.path.join(self.out, f"{self.count:04d}.eml"), "wb") as f:
            f.write(envelope.content)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        print(f"mail to {', '.join(envelope.rcpt_tos)}: {record['subject']} ({path[:-5]}.eml)", flush=True)
        return "250 Message accepted"


def main():
    if sys.argv[1] == "--parse":
        # python mail_catcher.py --parse FILE: one message (.eml) as the same JSON record.
        with open(sys.argv[2], "rb") as f:
            print(json.dumps(parse(f.read(), None, [])))
        return
    port, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    controller = Controller(Catcher(out), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
