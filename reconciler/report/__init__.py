"""Reports of plans and campaign status, as data and as text, JSON or Markdown."""
