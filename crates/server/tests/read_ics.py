"""Reads an iCalendar file with the independent `icalendar` package (PyPI) and prints its
events as JSON: uid, summary, start and end (UTC, ISO 8601), status, location, url."""
import json
import sys
from datetime import timezone

import icalendar

with open(sys.argv[1], "rb") as f:
    cal = icalendar.Calendar.from_ical(f.read())
events = []
for e in cal.walk("VEVENT"):
    events.append({
        "uid": str(e.get("UID")),
        "summary": str(e.get("SUMMARY")),
        "start": e.decoded("DTSTART").astimezone(timezone.utc).isoformat(),
        "end": e.decoded("DTEND").astimezone(timezone.utc).isoformat(),
        "status": str(e.get("STATUS", "")),
        "location": str(e.get("LOCATION", "")),
        "url": str(e.get("URL", "")),
        "dtstamp": bool(e.get("DTSTAMP")),
    })
print(json.dumps({"name": str(cal.get("X-WR-CALNAME", "")), "events": events}))
