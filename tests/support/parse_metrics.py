#!/usr/bin/env python3
"""Reads a Prometheus text exposition on stdin with the reference parser (prometheus_client)
and prints every sample as `name{label="value",...} value`, labels sorted, one per line. Exits 1
with the parser's error when the text does not parse, or when a family has no TYPE."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as error:  # the parser raises ValueError and friends
        print(f"parse error: {error}", file=sys.stderr)
        return 1
    for family in families:
        if family.type == "unknown":
            print(f"no TYPE for {family.name}", file=sys.stderr)
            return 1
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            print(f"{sample.name}{{{labels}}} {sample.value!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
