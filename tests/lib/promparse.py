"""Parse Prometheus text format 0.0.4 from stdin with the reference parser (prometheus_client) and print
JSON: [{"name", "type", "help", "samples": [{"name", "labels", "value"}]}]. Exits non-zero on invalid input."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families

families = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    families.append({
        "name": fam.name,
        "type": fam.type,
        "help": fam.documentation,
        "samples": [
            {"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value)}
            for s in fam.samples
        ],
    })
json.dump(families, sys.stdout)
