"""Every port of the services (Protocols, their DTOs and their exceptions), one module per concern.

common: pages, the clock, notifications, health · users · orders: catalog, orders, workflow ·
events: analytics, stock watch, the cleanup's views · imports: catalog imports · auth: secrets and keys.
"""

# Nothing is re-exported: importing a concern's module would otherwise load every port (and the domain
# modules they name) on each cold start. Import from the concern's module.
