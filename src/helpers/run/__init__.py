"""Running notebooks: parameter specs, the batch runner, HTML rendering and report checks."""
