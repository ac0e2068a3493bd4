"""The evaluator pool: job board, certification, calibration rounds and rater drift."""
