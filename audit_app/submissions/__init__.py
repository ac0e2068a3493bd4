"""Answers, the evaluator's form, autosave, submission, QA review and the audit trail."""
