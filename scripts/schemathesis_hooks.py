"""Schemathesis hooks for scripts/api-checks.sh.

JSON Schema 2020-12 (OpenAPI 3.1) counts 1557.0 as an integer, and no schema
keyword can exclude it; docs/PROTOCOL.md section 6 requires integers written
without a fraction or exponent and the server refuses others (invalid_field).
So generated bodies get their whole floats written as integers, the one rule
the document cannot carry. Nothing else is changed.
"""

import schemathesis


def _integers(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integers(v) for v in value]
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    return value


@schemathesis.hook
def map_body(context, body):
    return _integers(body)
