"""Scored reports: report data from queries, SVG charts, HTML and PDF rendering."""
