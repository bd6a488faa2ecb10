"""The model zoo: one explicit registry (:mod:`enhance.models.registry`), one file per architecture."""
