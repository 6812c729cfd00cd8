# The health-check plugin, registered for every pytest run from this checkout.
pytest_plugins = ("feature_store_health.plugin",)
