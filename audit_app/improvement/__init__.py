"""What the client does with the results: targets, self-assessments and the perception gap,
corrective actions verified by later visits."""
