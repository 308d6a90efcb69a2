"""``python -m kmsguard.pack``: serve the kmsguard policy pack (see ``kmsguard.pack``)."""

from kmsguard.pack import serve

serve()
