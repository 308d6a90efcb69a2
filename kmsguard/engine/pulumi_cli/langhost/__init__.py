"""kmsguard's ``pulumi-language-python``: the Pulumi CLI's Python language host, re-implemented in Python
(pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go) because its Go module is not served here;
``langhost_install.write_language_host`` puts the shim the CLI starts it through next to the CLI."""
