# The health-check plugin, registered for every pytest run from this checkout; pytester serves
# the project's own end-to-end tests in tests/.
pytest_plugins = ("feature_store_health.plugin", "pytester")
