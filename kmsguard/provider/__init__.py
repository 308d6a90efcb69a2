"""The offline azure-native provider: what azure-native's provider does in a preview, without Azure.

It runs in the Pulumi program's own interpreter (the one that has ``pulumi_azure_native`` at the version
the program uses), so like the program host it imports only the standard library, ``pulumi`` with the
gRPC stubs it ships, and ``pulumi_azure_native``; never ``kmsguard``. ``azure_native`` holds Check and
the preview projection, shared with the stand-in's monitor; ``server`` serves them to the real CLI.
"""
