"""The composition root: `bootstrap(settings, ports)` builds the one Container; `get_container()` is the
process-wide one. aws.py makes the boto3 clients, auth.py the token verifier and the cursor key."""

from app.bootstrap.container import Container, Ports, bootstrap, get_container, utc_now

__all__ = ["Container", "Ports", "bootstrap", "get_container", "utc_now"]
