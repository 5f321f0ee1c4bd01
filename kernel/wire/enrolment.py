"""Names of the enrolment files a node operator and a coordinator operator exchange.

Enrolment travels out of band (files handed over by the two operators), so no protobuf
fixes its shape: the node writes a request file, the coordinator answers with a response
file. Both read and write these names from here.
"""

from __future__ import annotations

from typing import Final

#: ``format`` of the node's enrolment request file (CSR, identity and transport keys).
REQUEST_FORMAT: Final = "gcdt-enrolment-request/1"
#: ``format`` of the coordinator's answer (certificate, trust root, trust policy).
RESPONSE_FORMAT: Final = "gcdt-enrolment-response/1"
#: Envelope kind under which the node signs its transport (HPKE) public key.
TRANSPORT_KEY_KIND: Final = "transport-key"
