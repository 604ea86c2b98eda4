"""The same workflows on the peer systems, measured beside Stepline (the ``bench`` extra)."""
