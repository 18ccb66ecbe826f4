"""Per-version translation of OCPP actions into the central system's use cases.

Each version has one explicit route table built in ``routing.routes``; handler modules are named after
the action they handle. A handler takes a :class:`~chargewise.handlers.context.Context` and the validated
payload and returns the response payload, or raises ``RemoteProtocolError`` for a payload that is valid
JSON-schema-wise but wrong in meaning.
"""
