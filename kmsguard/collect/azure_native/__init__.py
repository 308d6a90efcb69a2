"""azure-native 3.x resources → the typed network model (the engine behind ``kmsguard.collect.pulumi``).

Modules, in data-flow order:

* ``values``   — unknown sentinels and secrets decoded once, then typed reads that record Problems;
* ``arm``      — type tokens, ARM resource ids and which input names a resource's Azure name;
* ``stack``    — the index of one deployment and reference resolution (by id, by name, by
  property dependencies);
* ``coverage`` — which types are read, which cannot change a KMS path, which are reported as not read;
* ``network``, ``compute``, ``edge``, ``dns`` — one builder per area of the model;
* ``passes``  — what needs the assembled model: gateway connections' static routes, AVNM deployment
  regions, types not read (shared with the classic collector);
* ``collector`` — runs the builders and assembles the ``Network``.

Nothing here imports ``pulumi_azure_native`` (DESIGN: the pack must start fast); property names
come from docs/azure-native-input-props.txt.
"""
