"""Infrastructure as pure functions: an app's workflows -> its SAM template."""
