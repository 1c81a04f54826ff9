"""mkdocs-dbschema: live PostgreSQL table cards for MkDocs."""
