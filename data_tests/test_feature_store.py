"""Feature store health: one test per dimension, parametrized over the monitored tables and dates.

Each test is marked with its dimension (``pytest data_tests -m staleness``). The metrics were
fetched by one aggregate query per table; these tests only judge numbers already fetched.
"""

import pytest

from feature_store_health import assert_acceptable


@pytest.mark.arrival
def test_arrival(health, verdict):
    """Whether the date's rows landed before ready_by; until then the other checks wait for them."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.coverage
def test_coverage(health, verdict):
    """Rows for the date against the teams playing; 0 rows while games are scheduled is CRITICAL."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.production_readiness
def test_production_readiness(health, verdict):
    """% rows is_production_ready = TRUE."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.null_rates
def test_null_rates(health, verdict):
    """% NULL per critical feature; the worst one decides."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.quality_tiers
def test_quality_tiers(health, verdict):
    """% rows in the POOR tier; a tier NULL on every row is a WARNING (not populated)."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.completeness
def test_completeness(health, verdict):
    """% rows with every rolling window (l5, l10, l7d, l14d) complete."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.downstream_usage
def test_downstream_usage(health, verdict):
    """Active predictions for the date while games are scheduled."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.staleness
def test_staleness(health, verdict):
    """Hours from MAX(processed_at) to the as-of time."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.schema
def test_schema(health, verdict):
    """Live columns and types against the table's contract."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.uniqueness
def test_uniqueness(health, verdict):
    """Keys (player_lookup) written more than once on the date."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.value_ranges
def test_value_ranges(health, verdict):
    """% rows outside each column's valid range; the worst column decides."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.source_consistency
def test_source_consistency(health, verdict):
    """Stat features recomputed from player_game_summary; expected players with no row."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.anomalies
def test_anomalies(health, verdict):
    """Every tracked metric against its baseline of previous game days (median and spread)."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.drift
def test_drift(health, verdict):
    """Each numeric feature's bins and each category's mix against the baseline days' own spread."""
    assert_acceptable(verdict, health.settings.fail_on)


@pytest.mark.continuity
def test_continuity(health, verdict):
    """Each player's slow-moving columns against their previous row; counters and team columns exact."""
    assert_acceptable(verdict, health.settings.fail_on)
