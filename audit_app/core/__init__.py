"""Shared building blocks: model mixins, access rules, tenant-scoped lookup, errors, i18n."""
