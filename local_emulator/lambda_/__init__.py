"""Lambda in the emulator: functions run in warm worker processes (``environments``,
``worker``), invoked synchronously or asynchronously with Lambda's retries and
destinations (``service``); built bundles run isolated as on the Lambda runtime
(``runtime``). moto's Lambda never runs code, so this replaces it."""
