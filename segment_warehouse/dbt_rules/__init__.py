"""dbt-score rules of this project (conventions.py); pyproject.toml names this namespace."""
