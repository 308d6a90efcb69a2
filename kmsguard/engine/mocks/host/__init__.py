"""Code that runs *inside* the Pulumi program's own interpreter (the runner's subprocess).

The program's interpreter is the project's virtualenv, which has ``pulumi`` and the program's
providers but not necessarily kmsguard or its dependencies. So this package imports only the standard
library, ``pulumi`` (with the ``google.protobuf`` it brings) and, lazily, the provider SDKs the program
itself imports. The runner loads it as a standalone package from its files (runner.py), never through
``kmsguard``.

* ``shapes`` — azure-native preview outputs and provider ``Check`` additions, from the installed SDK;
* ``monitor`` — the recording resource monitor (engine URNs, transforms, dependencies);
* ``main`` — runs the program under mocks and writes what was recorded as JSON.
"""
