"""Operations commands that look across services (reconcile, dead letters, rebuild sources, migrations and
topics for every service). Part of the product, yet no service imports it."""
