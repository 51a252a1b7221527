"""DynamoDB adapters: one module per table concern; items.py converts values, aws_errors classifies errors."""
