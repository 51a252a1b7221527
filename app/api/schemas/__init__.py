"""HTTP request and response bodies, one module per resource; common.py holds the shared field rules."""
