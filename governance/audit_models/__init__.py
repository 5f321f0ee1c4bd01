"""``gcdt-audit verify-model`` and ``gcdt-audit reproduce-eval``: check a published model.

Input is what the coordinator's portal publishes: its export (``/api/export``, a zip or the
directory it unpacks to: ``log-bundle.json``, ``manifest.json``, ``models/<id>/<version>/``)
or the portal's URL, from which the export is downloaded. Everything else is offline.

``verify-model`` checks, each failure naming what failed:

1. the log bundle verifies (``governance.translog.verify_bundle``);
2. the model files load and hash to the content hash ``model.json`` records
   (``open_models.published``: any changed weight byte or card field changes it);
3. exactly that content hash is in a ``publication`` entry for this model id and version,
   included under the latest signed tree head (RFC 9162 inclusion proof recomputed);
4. the publication states ``t >= 2`` and no less than the ``t`` of the trust policy in force
   (the last ``policy_change`` logged before it), and every round the log accepted for the
   model's run summed at least ``max(2, m)`` distinct contributors (``m`` of that policy);
   every such round has ``t`` ``attestation`` entries by
   distinct key holders of the member-signed trust policy in force before the publication
   (the last trust ``policy_change``'s key groups, minus ``revocation``), matching the
   round's ``attested_by``; where the
   publication carries the signed envelopes (payload ``attestations``: round -> envelopes),
   each signature is verified against the enrolled key, the signed values agree, and each
   envelope's SHA-256 is the one logged. Without envelopes the signatures cannot be
   re-checked: that is reported as *unchecked*, a failure by default (``--strict``); only
   ``--allow-unattested`` inspects such a publication, and its output says so;
5. the model card's claims match the log: its rounds (round, status, contributors,
   aggregate digest, log index), its round count, its nodes (exactly the contributors,
   each with the jurisdiction it enrolled with), its privacy spend (within budget, present
   for every node, equal to any spend the log records), its content hash;
6. the weights are recomputed: the card's ``update_rule`` (``open_models.update_rule``: rule
   id, float64 precision, server learning rate, denominator) applied from its pinned initial
   weights (``initial_weights.safetensors`` beside the model, or the stated seed's, hashing
   to the pinned SHA-256) to the agreed values of each accepted round's signed
   attestations, in round order, gives exactly the published weights, bit for bit (one
   ulp is a failure).

A node runs the same checks (strict) on every model the coordinator pushes before it
installs it (``trust_node.federation.install``).

``reproduce-eval`` re-runs the evaluation the card states, on the evaluation set published
with the model (a synthetic set, generated from a seed, never node data), and compares every
published number with the recomputed one.

The modules, split by what they hold so each can be read (and imported) on its own:

* :mod:`.sources`: reading the export (zip, directory or portal URL), the bundle and the
  model files; :class:`~.sources.ModelAuditInputError` is "cannot be read at all" (exit 2);
* :mod:`.report`: the :class:`~.report.ModelReport` every check writes its failures into;
* :mod:`.verify_model`: checks 1-4 (log, hashes, inclusion, attestations);
* :mod:`.card_claims`: check 5 (the card's claims against the log);
* :mod:`.recompute`: check 6 (the weights from the attested aggregates);
* :mod:`.reproduce_eval`: the evaluation-set format and the re-run evaluation; publishers
  (coordinator, node) import the format from here, so it carries no CLI code;
* :mod:`.verbs`: the typer commands :mod:`governance.audit_cli` registers.

This package imports nothing on import, so importing the evaluation-set format does not
load the CLI.
"""
