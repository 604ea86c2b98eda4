"""local_emulator."""
