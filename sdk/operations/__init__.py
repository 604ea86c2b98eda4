"""Durable operations, one module each, sharing the template in ``base``."""
