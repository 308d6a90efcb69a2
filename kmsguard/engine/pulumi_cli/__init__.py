"""The real Pulumi CLI as kmsguard's engine (``--engine pulumi``): ``pulumi preview --policy-pack`` in a
sandbox (a copy of the project, a file backend, a throwaway ``PULUMI_HOME``), offline."""
