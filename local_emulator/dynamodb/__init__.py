"""DynamoDB in the emulator: what moto's DynamoDB needs to behave like AWS's."""

from local_emulator.dynamodb.atomic import serialize_writes, writes_are_serialized

__all__ = ["serialize_writes", "writes_are_serialized"]
