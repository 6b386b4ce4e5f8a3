"""Cases: an authority's own files, their teams, and the case references shared abroad."""
