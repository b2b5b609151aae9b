"""Validates FHIR resources with an implementation independent of Samverka: the
`fhir.resources` package from PyPI (its R4B models, which for these resources are R4's), and
round-trips each through it: parsed, written back, and checked that nothing was dropped or
changed.

Usage: python fhir_validate.py FILE...   (each file one resource as JSON)
Prints one line per failure and exits 1 if there was any.
"""

import json
import sys

from fhir.resources.R4B import get_fhir_model_class


def leaves(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def check(resource):
    cls = get_fhir_model_class(resource["resourceType"])
    model = cls.model_validate(resource)
    again = json.loads(model.model_dump_json(exclude_none=True))
    cls.model_validate(again)
    original = dict(leaves(resource))
    written = dict(leaves(again))
    missing = [p for p in original if p not in written]
    if missing:
        raise ValueError(f"dropped in the round trip: {missing[:5]}")
    changed = [p for p, v in original.items() if written.get(p) != v and not _same_instant(v, written.get(p))]
    if changed:
        raise ValueError(f"changed in the round trip: {[(p, original[p], written[p]) for p in changed[:5]]}")


def _same_instant(a, b):
    # The library may write "Z" as "+00:00"; the instant is the same.
    return isinstance(a, str) and isinstance(b, str) and a.replace("Z", "+00:00") == b.replace("Z", "+00:00")


def main():
    failures = 0
    for name in sys.argv[1:]:
        with open(name, encoding="utf-8") as f:
            resource = json.load(f)
        try:
            check(resource)
        except Exception as e:  # noqa: BLE001 - every failure is reported, not just the first
            failures += 1
            print(f"{name}: {resource.get('resourceType')}/{resource.get('id')}: {e}".replace("\n", " "))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
