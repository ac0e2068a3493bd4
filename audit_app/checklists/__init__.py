"""Checklists: the designer, versions, sections, questions, import and export."""
