"""Sends HL7 v2 messages to Samverka over MLLP with the `hl7` package from PyPI, an
implementation independent of Samverka, and reports each acknowledgement as parsed by that
package.

Input (stdin, JSON): {"host": ..., "port": ..., "messages": [{"text": ..., "encoding": ...}]}
Output (stdout, JSON): [{"ack": "AA", "control_id": ..., "text": ..., "error_code": ...}]
"""

import json
import sys

import hl7
from hl7.client import MLLPClient

SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"


def receive_whole(client, first):
    data = first
    while not data.endswith(EB + CR):
        more = client.socket.recv(4096)
        if not more:
            break
        data += more
    return data


def main():
    job = json.load(sys.stdin)
    results = []
    for m in job["messages"]:
        encoding = m.get("encoding", "utf-8")
        # One connection per message, as many interface engines do; some messages share one.
        with MLLPClient(job["host"], job["port"], encoding=encoding) as client:
            raw = m["text"].encode(encoding, errors="replace") if "bytes_hex" not in m else bytes.fromhex(m["bytes_hex"])
            answer = receive_whole(client, client.send_message(raw))
        text = answer.strip(SB + EB + CR).decode(encoding)
        ack = hl7.parse(text)
        msa = ack.segment("MSA")
        result = {"ack": str(msa[1]), "control_id": str(msa[2]), "text": str(msa[3]) if len(msa) > 3 else ""}
        try:
            err = ack.segment("ERR")
            result["error_code"] = str(err[3][0][0])
        except KeyError:
            result["error_code"] = None
        results.append(result)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
