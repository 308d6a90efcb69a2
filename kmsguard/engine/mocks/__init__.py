"""The stand-in engine (``--engine mocks``): the program runs under the SDK's mocks in preview mode and
the pack is driven over the Analyzer protocol by kmsguard itself (``kmsguard.engine.driver``)."""
