"""Reads one e-mail message as an SMTP server stored it, with Python's own `email` package
(headers and body decoded from whatever transfer encoding the sender chose), and prints it
as JSON: to, subject and the plain-text body."""
import json
import sys
from email import policy
from email.parser import BytesParser

with open(sys.argv[1], "rb") as f:
    msg = BytesParser(policy=policy.default).parse(f)
body = msg.get_body(preferencelist=("plain",))
print(json.dumps({
    "to": str(msg["To"]),
    "subject": str(msg["Subject"]),
    "body": body.get_content() if body is not None else None,
}))
