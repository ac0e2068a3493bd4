"""Photo evidence: storage backends, safe processing and serving."""
