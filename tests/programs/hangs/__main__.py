"""Waits forever (for a lock, a prompt, a network call that never returns)."""

import time

while True:
    time.sleep(1)
