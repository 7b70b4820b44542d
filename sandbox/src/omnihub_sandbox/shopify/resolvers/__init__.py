"""GraphQL resolvers: database rows become Shopify-shaped objects.

Each object is a dict: scalars under their GraphQL names, relations as callables that
graphql-core's default resolver calls with ``(info, **arguments)``, so nested fields are
read only when a document selects them. ``__typename`` lets the ``Node`` interface
resolve the concrete type; keys starting with ``_`` are private to the sandbox.
"""
