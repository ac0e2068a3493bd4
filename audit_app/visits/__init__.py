"""Locations, client channels, visits (assignments), waves and the status machine."""
